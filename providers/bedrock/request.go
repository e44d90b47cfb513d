package bedrock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// converseRequest is the body of /converse and /converse-stream (the model
// id travels in the path).
type converseRequest struct {
	Messages                     []message        `json:"messages"`
	System                       []systemBlock    `json:"system,omitempty"`
	InferenceConfig              *inferenceConfig `json:"inferenceConfig,omitempty"`
	ToolConfig                   *toolConfig      `json:"toolConfig,omitempty"`
	AdditionalModelRequestFields map[string]any   `json:"additionalModelRequestFields,omitempty"`
	OutputConfig                 *outputConfig    `json:"outputConfig,omitempty"`
}

type systemBlock struct {
	Text string `json:"text"`
}

type message struct {
	Role    string         `json:"role"`
	Content []contentBlock `json:"content"`
}

// contentBlock is a Converse union: exactly one field is set.
type contentBlock struct {
	Text             *string           `json:"text,omitempty"`
	Image            *imageBlock       `json:"image,omitempty"`
	ToolUse          *toolUseBlock     `json:"toolUse,omitempty"`
	ToolResult       *toolResultBlock  `json:"toolResult,omitempty"`
	ReasoningContent *reasoningContent `json:"reasoningContent,omitempty"`
}

type imageBlock struct {
	Format string      `json:"format"`
	Source imageSource `json:"source"`
}

type imageSource struct {
	// Bytes is base64 in JSON, which encoding/json does for []byte.
	Bytes []byte `json:"bytes"`
}

type toolUseBlock struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type toolResultBlock struct {
	ToolUseID string              `json:"toolUseId"`
	Content   []toolResultContent `json:"content"`
	Status    string              `json:"status,omitempty"`
}

type toolResultContent struct {
	Text  *string         `json:"text,omitempty"`
	JSON  json.RawMessage `json:"json,omitempty"`
	Image *imageBlock     `json:"image,omitempty"`
}

type reasoningContent struct {
	ReasoningText   *reasoningText `json:"reasoningText,omitempty"`
	RedactedContent []byte         `json:"redactedContent,omitempty"`
}

type reasoningText struct {
	Text      string `json:"text"`
	Signature string `json:"signature,omitempty"`
}

type inferenceConfig struct {
	MaxTokens     int      `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

type toolConfig struct {
	Tools      []tool      `json:"tools"`
	ToolChoice *toolChoice `json:"toolChoice,omitempty"`
}

type tool struct {
	ToolSpec toolSpec `json:"toolSpec"`
}

type toolSpec struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	InputSchema inputSchema `json:"inputSchema"`
}

type inputSchema struct {
	JSON json.RawMessage `json:"json"`
}

// toolChoice is a union: exactly one field is set.
type toolChoice struct {
	Auto *struct{}      `json:"auto,omitempty"`
	Any  *struct{}      `json:"any,omitempty"`
	Tool *toolChoiceFor `json:"tool,omitempty"`
}

type toolChoiceFor struct {
	Name string `json:"name"`
}

type outputConfig struct {
	TextFormat outputFormat `json:"textFormat"`
}

type outputFormat struct {
	Type      string          `json:"type"`
	Structure outputStructure `json:"structure"`
}

type outputStructure struct {
	JSONSchema jsonSchemaDefinition `json:"jsonSchema"`
}

type jsonSchemaDefinition struct {
	// Schema is the JSON schema as a string, as Bedrock wants it.
	Schema string `json:"schema"`
	Name   string `json:"name,omitempty"`
}

// Thinking budgets for Anthropic models, by ReasoningEffort.
var thinkingBudget = map[string]int{"low": 1024, "medium": 4096, "high": 16384}

// defaultAnswerTokens is added to the thinking budget when the caller set no
// output limit.
const defaultAnswerTokens = 4096

// buildRequest translates a canonical request to a Converse body.
func buildRequest(req *llm.Request) (*converseRequest, error) {
	out := &converseRequest{Messages: []message{}}
	for _, p := range req.System {
		if p.Kind == llm.PartText && p.Text != "" {
			out.System = append(out.System, systemBlock{Text: p.Text})
		}
	}
	for i, m := range req.Messages {
		role, err := wireRole(m.Role)
		if err != nil {
			return nil, invalid("messages[%d].role: %v", i, err)
		}
		blocks, err := contentBlocks(m, i)
		if err != nil {
			return nil, err
		}
		if len(blocks) == 0 {
			continue
		}
		// Converse requires alternating roles: fold a turn into the previous
		// one of the same role (tool results after a user message, say).
		if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
			out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
			continue
		}
		out.Messages = append(out.Messages, message{Role: role, Content: blocks})
	}

	ic := inferenceConfig{MaxTokens: req.MaxTokens, Temperature: req.Temperature, TopP: req.TopP, StopSequences: req.Stop}
	if req.ReasoningEffort != "" && isAnthropic(req.Model) {
		budget, ok := thinkingBudget[req.ReasoningEffort]
		if !ok {
			return nil, invalid("reasoning_effort: %q is not low, medium or high", req.ReasoningEffort)
		}
		switch {
		case ic.MaxTokens == 0:
			ic.MaxTokens = budget + defaultAnswerTokens
		case ic.MaxTokens <= thinkingBudget["low"]:
			return nil, invalid("max_tokens: %d leaves no room for reasoning (Bedrock Anthropic models need more than %d)", ic.MaxTokens, thinkingBudget["low"])
		case ic.MaxTokens <= budget:
			budget = ic.MaxTokens / 2
			budget = max(budget, thinkingBudget["low"])
		}
		out.AdditionalModelRequestFields = map[string]any{
			"thinking": map[string]any{"type": "enabled", "budget_tokens": budget},
		}
	}
	if ic.MaxTokens != 0 || ic.Temperature != nil || ic.TopP != nil || len(ic.StopSequences) > 0 {
		out.InferenceConfig = &ic
	}

	tc, err := buildTools(req)
	if err != nil {
		return nil, err
	}
	out.ToolConfig = tc

	if rf := req.ResponseFormat; rf != nil && rf.Type == "json_schema" {
		if len(rf.Schema) == 0 || !json.Valid(rf.Schema) {
			return nil, invalid("response_format.json_schema.schema: not valid JSON")
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, rf.Schema); err != nil {
			return nil, invalid("response_format.json_schema.schema: %v", err)
		}
		out.OutputConfig = &outputConfig{TextFormat: outputFormat{
			Type:      "json_schema",
			Structure: outputStructure{JSONSchema: jsonSchemaDefinition{Schema: compact.String(), Name: rf.Name}},
		}}
	}
	return out, nil
}

func wireRole(r llm.Role) (string, error) {
	switch r {
	case llm.RoleUser, llm.RoleTool:
		return "user", nil
	case llm.RoleAssistant:
		return "assistant", nil
	}
	return "", fmt.Errorf("unknown role %q", r)
}

func contentBlocks(m llm.Message, i int) ([]contentBlock, error) {
	var out []contentBlock
	for j, p := range m.Parts {
		field := fmt.Sprintf("messages[%d].content[%d]", i, j)
		switch p.Kind {
		case llm.PartText:
			if p.Text == "" {
				continue // Converse rejects blank text blocks
			}
			out = append(out, contentBlock{Text: ptr(p.Text)})
		case llm.PartImage:
			img, err := image(p.Image, field)
			if err != nil {
				return nil, err
			}
			out = append(out, contentBlock{Image: img})
		case llm.PartToolCall:
			if p.ToolCall == nil {
				return nil, invalid("%s: tool call part without a tool call", field)
			}
			input, err := toolInput(p.ToolCall.Arguments)
			if err != nil {
				return nil, invalid("%s.arguments: %v", field, err)
			}
			out = append(out, contentBlock{ToolUse: &toolUseBlock{ToolUseID: p.ToolCall.ID, Name: p.ToolCall.Name, Input: input}})
		case llm.PartToolResult:
			if p.ToolResult == nil {
				return nil, invalid("%s: tool result part without a tool result", field)
			}
			tr, err := toolResult(p.ToolResult, field)
			if err != nil {
				return nil, err
			}
			out = append(out, contentBlock{ToolResult: tr})
		case llm.PartThinking:
			// Only Bedrock's own signed reasoning can be sent back.
			if p.Signature == "" || p.Text == "" {
				continue
			}
			out = append(out, contentBlock{ReasoningContent: &reasoningContent{ReasoningText: &reasoningText{Text: p.Text, Signature: p.Signature}}})
		default:
			return nil, invalid("%s: unknown part kind %d", field, p.Kind)
		}
	}
	return out, nil
}

func toolResult(r *llm.ToolResult, field string) (*toolResultBlock, error) {
	tr := &toolResultBlock{ToolUseID: r.CallID, Content: []toolResultContent{}}
	if r.IsError {
		tr.Status = "error"
	}
	for k, c := range r.Content {
		switch c.Kind {
		case llm.PartText:
			if c.Text != "" {
				tr.Content = append(tr.Content, toolResultContent{Text: ptr(c.Text)})
			}
		case llm.PartImage:
			img, err := image(c.Image, fmt.Sprintf("%s.content[%d]", field, k))
			if err != nil {
				return nil, err
			}
			tr.Content = append(tr.Content, toolResultContent{Image: img})
		default:
			return nil, invalid("%s.content[%d]: tool results hold text and images only", field, k)
		}
	}
	if len(tr.Content) == 0 {
		// Converse wants at least one item and rejects blank text.
		tr.Content = append(tr.Content, toolResultContent{JSON: json.RawMessage(`{}`)})
	}
	return tr, nil
}

func image(img *llm.Image, field string) (*imageBlock, error) {
	if img == nil {
		return nil, invalid("%s: image part without an image", field)
	}
	if len(img.Data) == 0 {
		return nil, invalid("%s: Bedrock Converse takes inline image data, not URLs", field)
	}
	format, ok := imageFormats[strings.ToLower(img.MediaType)]
	if !ok {
		return nil, invalid("%s: image type %q is not png, jpeg, gif or webp", field, img.MediaType)
	}
	return &imageBlock{Format: format, Source: imageSource{Bytes: img.Data}}, nil
}

var imageFormats = map[string]string{
	"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp",
}

// toolInput turns argument text into the JSON object Converse wants.
func toolInput(args string) (json.RawMessage, error) {
	s := strings.TrimSpace(args)
	if s == "" {
		return json.RawMessage(`{}`), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if obj == nil { // "null"
		return json.RawMessage(`{}`), nil
	}
	return json.RawMessage(s), nil
}

func buildTools(req *llm.Request) (*toolConfig, error) {
	if len(req.Tools) == 0 {
		return nil, nil
	}
	var choice *toolChoice
	if tc := req.ToolChoice; tc != nil {
		switch tc.Mode {
		case "", "auto":
			choice = &toolChoice{Auto: &struct{}{}}
		case "none":
			return nil, nil // Converse has no "none": send no tools
		case "required":
			choice = &toolChoice{Any: &struct{}{}}
		case "tool":
			if tc.Name == "" {
				return nil, invalid("tool_choice: mode \"tool\" needs a tool name")
			}
			choice = &toolChoice{Tool: &toolChoiceFor{Name: tc.Name}}
		default:
			return nil, invalid("tool_choice: unknown mode %q", tc.Mode)
		}
	}
	cfg := &toolConfig{ToolChoice: choice}
	for i, t := range req.Tools {
		if t.Name == "" {
			return nil, invalid("tools[%d].name: empty", i)
		}
		schema := t.Parameters
		if len(bytes.TrimSpace(schema)) == 0 || string(bytes.TrimSpace(schema)) == "null" {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		} else if !json.Valid(schema) {
			return nil, invalid("tools[%d].parameters: not valid JSON", i)
		}
		cfg.Tools = append(cfg.Tools, tool{ToolSpec: toolSpec{Name: t.Name, Description: t.Description, InputSchema: inputSchema{JSON: schema}}})
	}
	return cfg, nil
}

// isAnthropic reports whether a model id (plain, inference profile or ARN)
// names an Anthropic Claude model.
func isAnthropic(model string) bool {
	return strings.Contains(strings.ToLower(model), "anthropic.claude")
}

func invalid(format string, args ...any) *llm.Error {
	return llm.Errorf(llm.KindInvalidRequest, "bedrock: "+format, args...)
}

func ptr[T any](v T) *T { return &v }
