package openai

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// ServeOptions are what a served request asks of the response beyond the
// canonical request.
type ServeOptions struct {
	// IncludeUsage is stream_options.include_usage: send a final usage
	// chunk (with "choices": []) and "usage": null on every other chunk.
	IncludeUsage bool
}

// inRequest is a served request body. Fields with several shapes stay raw
// and are read with their path for error messages.
type inRequest struct {
	Model               string            `json:"model"`
	Messages            []json.RawMessage `json:"messages"`
	Tools               []json.RawMessage `json:"tools"`
	ToolChoice          json.RawMessage   `json:"tool_choice"`
	ResponseFormat      json.RawMessage   `json:"response_format"`
	MaxTokens           *int              `json:"max_tokens"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	Stop                json.RawMessage   `json:"stop"`
	Stream              bool              `json:"stream"`
	StreamOptions       *streamOptions    `json:"stream_options"`
	N                   *int              `json:"n"`
	User                string            `json:"user"`
	ReasoningEffort     string            `json:"reasoning_effort"`
	Functions           json.RawMessage   `json:"functions"`
	FunctionCall        json.RawMessage   `json:"function_call"`
	Modalities          []string          `json:"modalities"`
	CircuitBreaker      json.RawMessage   `json:"circuit_breaker"`
}

type inMessage struct {
	Role         string            `json:"role"`
	Content      json.RawMessage   `json:"content"`
	ToolCalls    []json.RawMessage `json:"tool_calls"`
	ToolCallID   string            `json:"tool_call_id"`
	Refusal      string            `json:"refusal"`
	FunctionCall json.RawMessage   `json:"function_call"`
}

// DecodeRequest reads a POST /v1/chat/completions body. Errors are
// *llm.Error of kind invalid_request whose message starts with the path of
// the offending field ("messages[2].content: …"). Unknown fields are
// ignored; see the package doc for the known ones that are.
func DecodeRequest(body []byte) (*llm.Request, *ServeOptions, error) {
	var in inRequest
	if err := decodeAt(body, &in, ""); err != nil {
		return nil, nil, err
	}
	if in.Model == "" {
		return nil, nil, fieldError("model", "required")
	}
	if present(in.Functions) {
		return nil, nil, fieldError("functions", "the legacy functions parameter is not supported; use tools")
	}
	if present(in.FunctionCall) {
		return nil, nil, fieldError("function_call", "the legacy function_call parameter is not supported; use tool_choice")
	}
	if in.N != nil && *in.N != 1 {
		return nil, nil, fieldError("n", "only one choice (n = 1) is supported")
	}
	for _, m := range in.Modalities {
		if m != "text" {
			return nil, nil, fieldError("modalities", "only text output is supported, not %q", m)
		}
	}
	req := &llm.Request{
		Model:           in.Model,
		Temperature:     in.Temperature,
		TopP:            in.TopP,
		Stream:          in.Stream,
		User:            in.User,
		ReasoningEffort: in.ReasoningEffort,
	}
	opts := &ServeOptions{IncludeUsage: in.Stream && in.StreamOptions != nil && in.StreamOptions.IncludeUsage}
	if t := in.Temperature; t != nil && (*t < 0 || *t > 2) {
		return nil, nil, fieldError("temperature", "must be between 0 and 2")
	}
	if p := in.TopP; p != nil && (*p < 0 || *p > 1) {
		return nil, nil, fieldError("top_p", "must be between 0 and 1")
	}
	switch {
	case in.MaxCompletionTokens != nil:
		if *in.MaxCompletionTokens < 1 {
			return nil, nil, fieldError("max_completion_tokens", "must be at least 1")
		}
		req.MaxTokens = *in.MaxCompletionTokens
	case in.MaxTokens != nil:
		if *in.MaxTokens < 1 {
			return nil, nil, fieldError("max_tokens", "must be at least 1")
		}
		req.MaxTokens = *in.MaxTokens
	}
	var err error
	if req.Stop, err = decodeStop(in.Stop); err != nil {
		return nil, nil, err
	}
	if err := decodeMessages(in.Messages, req); err != nil {
		return nil, nil, err
	}
	for i, raw := range in.Tools {
		t, err := decodeTool(raw, fmt.Sprintf("tools[%d]", i))
		if err != nil {
			return nil, nil, err
		}
		req.Tools = append(req.Tools, t)
	}
	if req.ToolChoice, err = decodeToolChoice(in.ToolChoice); err != nil {
		return nil, nil, err
	}
	if req.ResponseFormat, err = decodeResponseFormat(in.ResponseFormat); err != nil {
		return nil, nil, err
	}
	if req.Route, err = decodeRoute(in.CircuitBreaker); err != nil {
		return nil, nil, err
	}
	return req, opts, nil
}

func decodeStop(raw json.RawMessage) ([]string, error) {
	if !present(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := decodeAt(raw, &s, "stop"); err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var ss []string
	if raw[0] != '[' || json.Unmarshal(raw, &ss) != nil {
		return nil, fieldError("stop", "expected string or array of strings")
	}
	return ss, nil
}

func decodeMessages(raws []json.RawMessage, req *llm.Request) error {
	if len(raws) == 0 {
		return fieldError("messages", "required (at least one message)")
	}
	names := map[string]string{} // tool call id → tool name, for results
	for i, raw := range raws {
		path := fmt.Sprintf("messages[%d]", i)
		var m inMessage
		if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			return fieldError(path, "expected object")
		}
		if err := decodeAt(raw, &m, path); err != nil {
			return err
		}
		switch m.Role {
		case "system", "developer":
			parts, err := decodeContent(m.Content, path+".content", "text")
			if err != nil {
				return err
			}
			req.System = append(req.System, parts...)
		case "user":
			parts, err := decodeContent(m.Content, path+".content", "text", "image_url")
			if err != nil {
				return err
			}
			req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser, Parts: parts})
		case "assistant":
			msg, err := decodeAssistant(&m, path, names)
			if err != nil {
				return err
			}
			req.Messages = append(req.Messages, msg)
		case "tool":
			if m.ToolCallID == "" {
				return fieldError(path+".tool_call_id", "required")
			}
			parts, err := decodeContent(m.Content, path+".content", "text")
			if err != nil {
				return err
			}
			p := llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: m.ToolCallID, Name: names[m.ToolCallID], Content: parts}}
			if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == llm.RoleTool {
				req.Messages[n-1].Parts = append(req.Messages[n-1].Parts, p)
			} else {
				req.Messages = append(req.Messages, llm.Message{Role: llm.RoleTool, Parts: []llm.Part{p}})
			}
		case "function":
			return fieldError(path+".role", `the legacy "function" role is not supported; use "tool"`)
		case "":
			return fieldError(path+".role", "required")
		default:
			return fieldError(path+".role", "unknown role %q (want system, developer, user, assistant or tool)", m.Role)
		}
	}
	if len(req.Messages) == 0 && len(req.System) == 0 {
		return fieldError("messages", "no message has any content")
	}
	return nil
}

func decodeAssistant(m *inMessage, path string, names map[string]string) (llm.Message, error) {
	out := llm.Message{Role: llm.RoleAssistant}
	if present(m.FunctionCall) {
		return out, fieldError(path+".function_call", "the legacy function_call is not supported; use tool_calls")
	}
	if present(m.Content) {
		parts, err := decodeContent(m.Content, path+".content", "text", "refusal")
		if err != nil {
			return out, err
		}
		out.Parts = parts
	} else if m.Refusal != "" {
		out.Parts = []llm.Part{llm.TextPart(m.Refusal)}
	}
	for j, raw := range m.ToolCalls {
		p := fmt.Sprintf("%s.tool_calls[%d]", path, j)
		var tc toolCall
		if err := decodeAt(raw, &tc, p); err != nil {
			return out, err
		}
		if tc.Type != "" && tc.Type != "function" {
			return out, fieldError(p+".type", "unsupported tool call type %q", tc.Type)
		}
		if tc.ID == "" {
			return out, fieldError(p+".id", "required")
		}
		if tc.Function.Name == "" {
			return out, fieldError(p+".function.name", "required")
		}
		args := tc.Function.Arguments
		if args == "" {
			args = "{}"
		}
		names[tc.ID] = tc.Function.Name
		out.Parts = append(out.Parts, llm.Part{Kind: llm.PartToolCall,
			ToolCall: &llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args}})
	}
	return out, nil
}

// decodeContent reads a string or an array of content parts of the allowed
// types. A string becomes one text part; an empty string, no parts.
func decodeContent(raw json.RawMessage, path string, allowed ...string) ([]llm.Part, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fieldError(path, "required")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := decodeAt(raw, &s, path); err != nil {
			return nil, err
		}
		if s == "" {
			return nil, nil
		}
		return []llm.Part{llm.TextPart(s)}, nil
	case '[':
	default:
		return nil, fieldError(path, "expected string or array of content parts")
	}
	var raws []json.RawMessage
	if err := decodeAt(raw, &raws, path); err != nil {
		return nil, err
	}
	parts := make([]llm.Part, 0, len(raws))
	for k, r := range raws {
		p := fmt.Sprintf("%s[%d]", path, k)
		var cp contentPart
		if !bytes.HasPrefix(bytes.TrimSpace(r), []byte("{")) {
			return nil, fieldError(p, "expected content part object")
		}
		if err := decodeAt(r, &cp, p); err != nil {
			return nil, err
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == cp.Type
		}
		if !ok {
			if cp.Type == "" {
				return nil, fieldError(p+".type", "required")
			}
			return nil, fieldError(p+".type", "unsupported content part type %q here (want %s)", cp.Type, strings.Join(allowed, " or "))
		}
		switch cp.Type {
		case "text":
			parts = append(parts, llm.TextPart(cp.Text))
		case "refusal":
			parts = append(parts, llm.TextPart(cp.Refusal))
		case "image_url":
			img, err := decodeImage(cp.ImageURL, p+".image_url")
			if err != nil {
				return nil, err
			}
			parts = append(parts, llm.Part{Kind: llm.PartImage, Image: img})
		}
	}
	return parts, nil
}

func decodeImage(u *imageURL, path string) (*llm.Image, error) {
	if u == nil || u.URL == "" {
		return nil, fieldError(path+".url", "required")
	}
	switch u.Detail {
	case "", "auto", "low", "high":
	default:
		return nil, fieldError(path+".detail", "unknown detail %q (want auto, low or high)", u.Detail)
	}
	img := &llm.Image{Detail: u.Detail}
	rest, ok := strings.CutPrefix(u.URL, "data:")
	if !ok {
		if !strings.HasPrefix(u.URL, "https://") && !strings.HasPrefix(u.URL, "http://") {
			return nil, fieldError(path+".url", "expected an http(s) URL or a base64 data URL")
		}
		img.URL = u.URL
		return img, nil
	}
	meta, data, ok := strings.Cut(rest, ",")
	mt, isB64 := strings.CutSuffix(meta, ";base64")
	if !ok || !isB64 {
		return nil, fieldError(path+".url", "malformed data URL (want data:<media type>;base64,<data>)")
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(data); err != nil {
			return nil, fieldError(path+".url", "data URL is not valid base64")
		}
	}
	if len(b) == 0 {
		return nil, fieldError(path+".url", "data URL holds no data")
	}
	img.MediaType, img.Data = mt, b
	return img, nil
}

func decodeTool(raw json.RawMessage, path string) (llm.Tool, error) {
	var t tool
	if err := decodeAt(raw, &t, path); err != nil {
		return llm.Tool{}, err
	}
	if t.Type != "function" {
		if t.Type == "" {
			return llm.Tool{}, fieldError(path+".type", "required")
		}
		return llm.Tool{}, fieldError(path+".type", "unsupported tool type %q (want function)", t.Type)
	}
	if t.Function.Name == "" {
		return llm.Tool{}, fieldError(path+".function.name", "required")
	}
	params := t.Function.Parameters
	if !present(params) {
		params = nil
	} else if bytes.TrimSpace(params)[0] != '{' {
		return llm.Tool{}, fieldError(path+".function.parameters", "expected a JSON Schema object")
	}
	return llm.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: params}, nil
}

func decodeToolChoice(raw json.RawMessage) (*llm.ToolChoice, error) {
	if !present(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := decodeAt(raw, &s, "tool_choice"); err != nil {
			return nil, err
		}
		switch s {
		case "auto", "none", "required":
			return &llm.ToolChoice{Mode: s}, nil
		}
		return nil, fieldError("tool_choice", "unknown value %q (want auto, none, required or an object naming a function)", s)
	}
	var o toolChoiceObject
	if raw[0] != '{' {
		return nil, fieldError("tool_choice", "expected string or object")
	}
	if err := decodeAt(raw, &o, "tool_choice"); err != nil {
		return nil, err
	}
	if o.Type != "function" {
		return nil, fieldError("tool_choice.type", "unsupported type %q (want function)", o.Type)
	}
	if o.Function.Name == "" {
		return nil, fieldError("tool_choice.function.name", "required")
	}
	return &llm.ToolChoice{Mode: "tool", Name: o.Function.Name}, nil
}

func decodeResponseFormat(raw json.RawMessage) (*llm.ResponseFormat, error) {
	if !present(raw) {
		return nil, nil
	}
	var rf responseFormat
	if raw[0] != '{' {
		return nil, fieldError("response_format", "expected object")
	}
	if err := decodeAt(raw, &rf, "response_format"); err != nil {
		return nil, err
	}
	switch rf.Type {
	case "text":
		return nil, nil
	case "json_object":
		return &llm.ResponseFormat{Type: "json_object"}, nil
	case "json_schema":
		s := rf.JSONSchema
		if s == nil {
			return nil, fieldError("response_format.json_schema", "required for type json_schema")
		}
		if s.Name == "" {
			return nil, fieldError("response_format.json_schema.name", "required")
		}
		if present(s.Schema) && bytes.TrimSpace(s.Schema)[0] != '{' {
			return nil, fieldError("response_format.json_schema.schema", "expected a JSON Schema object")
		}
		return &llm.ResponseFormat{Type: "json_schema", Name: s.Name, Schema: s.Schema, Strict: s.Strict}, nil
	case "":
		return nil, fieldError("response_format.type", "required")
	}
	return nil, fieldError("response_format.type", "unknown type %q (want text, json_object or json_schema)", rf.Type)
}

func decodeRoute(raw json.RawMessage) (*llm.RouteOptions, error) {
	if !present(raw) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, fieldError("circuit_breaker", "expected object")
	}
	var ro llm.RouteOptions
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ro); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, fieldError("circuit_breaker", "unknown field %s (want fallback_models, cost_optimization, latency_priority, cost_threshold or latency_target)", name)
		}
		return nil, jsonError(err, "circuit_breaker")
	}
	if ro.CostThreshold < 0 {
		return nil, fieldError("circuit_breaker.cost_threshold", "must not be negative")
	}
	if ro.LatencyTarget < 0 {
		return nil, fieldError("circuit_breaker.latency_target", "must not be negative")
	}
	for i, m := range ro.FallbackModels {
		if m == "" {
			return nil, fieldError(fmt.Sprintf("circuit_breaker.fallback_models[%d]", i), "must not be empty")
		}
	}
	return &ro, nil
}

// present reports whether raw holds a value other than null. Raw values
// that encoding/json filled in start with the value's first byte.
func present(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && string(raw) != "null"
}

// decodeAt unmarshals b into v; errors name path.
func decodeAt(b []byte, v any, path string) error {
	if err := json.Unmarshal(b, v); err != nil {
		return jsonError(err, path)
	}
	return nil
}

// jsonError turns an encoding/json error into an invalid-request error
// naming the field.
func jsonError(err error, path string) *llm.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := path
		if te.Field != "" {
			if field != "" {
				field += "."
			}
			field += te.Field
		}
		if field == "" {
			field = "request body"
		}
		got := te.Value
		if i := strings.IndexByte(got, ' '); i > 0 {
			got = got[:i]
		}
		return fieldError(field, "expected %s, got %s", jsonKind(te.Type), got)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return llm.Errorf(llm.KindInvalidRequest, "the body is not valid JSON: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if path == "" {
		return llm.Errorf(llm.KindInvalidRequest, "the body is not valid: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	return fieldError(path, "%s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// fieldError is an invalid-request error about the field at path.
func fieldError(path, format string, args ...any) *llm.Error {
	return llm.Errorf(llm.KindInvalidRequest, "%s: %s", path, fmt.Sprintf(format, args...))
}
