package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Served request options: tools, tool choice, reasoning, output format and
// the circuit_breaker routing extension.

func decodeTools(raw json.RawMessage) ([]llm.Tool, error) {
	if isAbsent(raw) {
		return nil, nil
	}
	items, err := decodeArray(raw, "tools")
	if err != nil {
		return nil, err
	}
	tools := make([]llm.Tool, 0, len(items))
	for i, item := range items {
		path := "tools." + strconv.Itoa(i)
		var t inTool
		if err := decodeValue(item, &t, path); err != nil {
			return nil, err
		}
		if t.Type != "" && t.Type != "custom" {
			return nil, invalid(path+".type", "server tool %q is not supported", t.Type)
		}
		if t.Name == "" {
			return nil, invalid(path+".name", "required")
		}
		schema := bytes.TrimSpace(t.InputSchema)
		if isAbsent(schema) {
			return nil, invalid(path+".input_schema", "required")
		}
		if schema[0] != '{' {
			return nil, invalid(path+".input_schema", "want an object")
		}
		tools = append(tools, llm.Tool{Name: t.Name, Description: t.Description, Parameters: json.RawMessage(schema)})
	}
	return tools, nil
}

func decodeToolChoice(raw json.RawMessage) (*llm.ToolChoice, error) {
	if isAbsent(raw) {
		return nil, nil
	}
	var tc inToolChoice
	if err := decodeValue(raw, &tc, "tool_choice"); err != nil {
		return nil, err
	}
	switch tc.Type {
	case "auto":
		return &llm.ToolChoice{Mode: "auto"}, nil
	case "any":
		return &llm.ToolChoice{Mode: "required"}, nil
	case "none":
		return &llm.ToolChoice{Mode: "none"}, nil
	case "tool":
		if tc.Name == "" {
			return nil, invalid("tool_choice.name", "required when type is \"tool\"")
		}
		return &llm.ToolChoice{Mode: "tool", Name: tc.Name}, nil
	case "":
		return nil, invalid("tool_choice.type", "required")
	}
	return nil, invalid("tool_choice.type", "want \"auto\", \"any\", \"tool\" or \"none\", got %q", tc.Type)
}

// decodeReasoning reads thinking, output_config and output_format.
func decodeReasoning(in *inRequest, req *llm.Request) error {
	if !isAbsent(in.Thinking) {
		var th inThinking
		if err := decodeValue(in.Thinking, &th, "thinking"); err != nil {
			return err
		}
		switch th.Type {
		case "enabled":
			switch {
			case th.BudgetTokens < 4096:
				req.ReasoningEffort = "low"
			case th.BudgetTokens < 16384:
				req.ReasoningEffort = "medium"
			default:
				req.ReasoningEffort = "high"
			}
		case "adaptive":
			req.ReasoningEffort = "high"
		case "disabled":
		case "":
			return invalid("thinking.type", "required")
		default:
			return invalid("thinking.type", "want \"enabled\", \"adaptive\" or \"disabled\", got %q", th.Type)
		}
	}
	format := in.OutputFormat
	formatPath := "output_format"
	if !isAbsent(in.OutputConfig) {
		var oc inOutputConfig
		if err := decodeValue(in.OutputConfig, &oc, "output_config"); err != nil {
			return err
		}
		switch oc.Effort {
		case "":
		case "low", "medium", "high":
			req.ReasoningEffort = oc.Effort
		case "xhigh", "max":
			req.ReasoningEffort = "high"
		default:
			return invalid("output_config.effort", "want \"low\", \"medium\", \"high\", \"xhigh\" or \"max\", got %q", oc.Effort)
		}
		if !isAbsent(oc.Format) {
			format, formatPath = oc.Format, "output_config.format"
		}
	}
	if isAbsent(format) {
		return nil
	}
	var f wireFormat
	if err := decodeValue(format, &f, formatPath); err != nil {
		return err
	}
	if f.Type != "json_schema" {
		return invalid(formatPath+".type", "want \"json_schema\", got %q", f.Type)
	}
	if s := bytes.TrimSpace(f.Schema); isAbsent(s) || s[0] != '{' {
		return invalid(formatPath+".schema", "want a JSON schema object")
	}
	req.ResponseFormat = &llm.ResponseFormat{Type: "json_schema", Schema: f.Schema, Strict: true}
	return nil
}

// decodeRoute reads the circuit_breaker extension; unknown keys are errors.
func decodeRoute(raw json.RawMessage) (*llm.RouteOptions, error) {
	if isAbsent(raw) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ro llm.RouteOptions
	if err := dec.Decode(&ro); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, jsonError(err, "circuit_breaker")
		}
		msg := strings.TrimPrefix(err.Error(), "json: ")
		return nil, invalid("circuit_breaker", "%s", msg)
	}
	return &ro, nil
}
