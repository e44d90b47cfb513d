package anthropic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// inRequest is the served request body; every field is decoded on its own
// so that errors can name it.
type inRequest struct {
	Model          json.RawMessage `json:"model"`
	MaxTokens      json.RawMessage `json:"max_tokens"`
	Messages       json.RawMessage `json:"messages"`
	System         json.RawMessage `json:"system"`
	Tools          json.RawMessage `json:"tools"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	StopSequences  json.RawMessage `json:"stop_sequences"`
	Stream         json.RawMessage `json:"stream"`
	Metadata       json.RawMessage `json:"metadata"`
	Temperature    json.RawMessage `json:"temperature"`
	TopP           json.RawMessage `json:"top_p"`
	Thinking       json.RawMessage `json:"thinking"`
	OutputConfig   json.RawMessage `json:"output_config"`
	OutputFormat   json.RawMessage `json:"output_format"`
	CircuitBreaker json.RawMessage `json:"circuit_breaker"`
}

type inMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type inTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type inToolChoice struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

type inThinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens"`
}

type inOutputConfig struct {
	Effort string          `json:"effort"`
	Format json.RawMessage `json:"format"`
}

// unsupportedBlocks are block types Anthropic defines that have no
// canonical form (server tools and their results, file references).
var unsupportedBlocks = map[string]bool{
	"server_tool_use": true, "web_search_tool_result": true, "web_fetch_tool_result": true,
	"code_execution_tool_result": true, "bash_code_execution_tool_result": true,
	"text_editor_code_execution_tool_result": true, "mcp_tool_use": true, "mcp_tool_result": true,
	"container_upload": true, "search_result": true, "tool_search_tool_result": true,
}

// DecodeRequest parses a Messages request body into the canonical form. Bad
// input is an *llm.Error of kind invalid_request whose message names the
// field ("messages.1.content.0.type: unknown block type \"foo\"").
//
// Unknown top-level fields are ignored; top_k, cache_control and
// disable_parallel_tool_use have no canonical form and are ignored too.
// "thinking" (budget under 4096 → low, under 16384 → medium, else high;
// adaptive → high) and output_config.effort (which wins) set
// ReasoningEffort; output_config.format (or the older output_format) sets
// a JSON-schema ResponseFormat. redacted_thinking blocks are dropped.
// Documents are carried as images with their media type (PDF) or as text.
func DecodeRequest(body []byte) (*llm.Request, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, invalid("", "the request body must be a JSON object")
	}
	var in inRequest
	if err := json.Unmarshal(trimmed, &in); err != nil {
		return nil, invalid("", "invalid JSON: %v", err)
	}
	req := &llm.Request{}
	if err := decodeValue(in.Model, &req.Model, "model"); err != nil {
		return nil, err
	}
	if req.Model == "" {
		return nil, invalid("model", "required")
	}
	if isAbsent(in.MaxTokens) {
		return nil, invalid("max_tokens", "required")
	}
	if err := decodeValue(in.MaxTokens, &req.MaxTokens, "max_tokens"); err != nil {
		return nil, err
	}
	if req.MaxTokens < 1 {
		return nil, invalid("max_tokens", "must be at least 1")
	}
	var err error
	if req.System, err = decodeSystem(in.System); err != nil {
		return nil, err
	}
	if isAbsent(in.Messages) {
		return nil, invalid("messages", "required")
	}
	if req.Messages, err = decodeMessages(in.Messages); err != nil {
		return nil, err
	}
	if req.Tools, err = decodeTools(in.Tools); err != nil {
		return nil, err
	}
	if req.ToolChoice, err = decodeToolChoice(in.ToolChoice); err != nil {
		return nil, err
	}
	if err := decodeValue(in.StopSequences, &req.Stop, "stop_sequences"); err != nil {
		return nil, err
	}
	if err := decodeValue(in.Stream, &req.Stream, "stream"); err != nil {
		return nil, err
	}
	if err := decodeFloat(in.Temperature, &req.Temperature, "temperature"); err != nil {
		return nil, err
	}
	if err := decodeFloat(in.TopP, &req.TopP, "top_p"); err != nil {
		return nil, err
	}
	if !isAbsent(in.Metadata) {
		var md struct {
			UserID *string `json:"user_id"`
		}
		if err := decodeValue(in.Metadata, &md, "metadata"); err != nil {
			return nil, err
		}
		if md.UserID != nil {
			req.User = *md.UserID
		}
	}
	if err := decodeReasoning(&in, req); err != nil {
		return nil, err
	}
	if req.Route, err = decodeRoute(in.CircuitBreaker); err != nil {
		return nil, err
	}
	return req, nil
}

// invalid is a request error about the field at path.
func invalid(path, format string, args ...any) *llm.Error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	return llm.Errorf(llm.KindInvalidRequest, "%s", msg)
}

func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// decodeValue decodes raw into v unless it is absent, naming the field
// that has the wrong type.
func decodeValue(raw json.RawMessage, v any, path string) error {
	if isAbsent(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return jsonError(err, path)
	}
	return nil
}

func decodeFloat(raw json.RawMessage, dst **float64, path string) error {
	if isAbsent(raw) {
		return nil
	}
	var f float64
	if err := decodeValue(raw, &f, path); err != nil {
		return err
	}
	*dst = &f
	return nil
}

// jsonError turns a decoding error into a request error naming the field.
func jsonError(err error, path string) *llm.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p := path
		if te.Field != "" {
			p = joinPath(path, te.Field)
		}
		return invalid(p, "want %s, got %s", typeName(te.Type), te.Value)
	}
	return invalid(path, "%v", err)
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return typeName(t.Elem())
	}
	return "an object"
}

// decodeArray splits a JSON array into its elements.
func decodeArray(raw json.RawMessage, path string) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalid(path, "want an array")
	}
	return items, nil
}

// isString reports whether raw is a JSON string.
func isString(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '"' }

func decodeSystem(raw json.RawMessage) ([]llm.Part, error) {
	if isAbsent(raw) {
		return nil, nil
	}
	if isString(raw) {
		var s string
		if err := decodeValue(raw, &s, "system"); err != nil {
			return nil, err
		}
		if s == "" {
			return nil, nil
		}
		return []llm.Part{llm.TextPart(s)}, nil
	}
	items, err := decodeArray(raw, "system")
	if err != nil {
		return nil, invalid("system", "want a string or an array of text blocks")
	}
	var parts []llm.Part
	for i, item := range items {
		path := "system." + strconv.Itoa(i)
		var b wireBlock
		if err := decodeValue(item, &b, path); err != nil {
			return nil, err
		}
		if b.Type != "text" {
			return nil, invalid(path+".type", "want \"text\", got %q", b.Type)
		}
		if b.Text != "" {
			parts = append(parts, llm.TextPart(b.Text))
		}
	}
	return parts, nil
}

func decodeMessages(raw json.RawMessage) ([]llm.Message, error) {
	items, err := decodeArray(raw, "messages")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, invalid("messages", "at least one message is required")
	}
	names := map[string]string{} // tool_use id → tool name, for tool results
	msgs := make([]llm.Message, 0, len(items))
	for i, item := range items {
		path := "messages." + strconv.Itoa(i)
		var m inMessage
		if err := decodeValue(item, &m, path); err != nil {
			return nil, err
		}
		var role llm.Role
		switch m.Role {
		case "user":
			role = llm.RoleUser
		case "assistant":
			role = llm.RoleAssistant
		case "":
			return nil, invalid(path+".role", "required")
		default:
			return nil, invalid(path+".role", "want \"user\" or \"assistant\", got %q", m.Role)
		}
		if isAbsent(m.Content) {
			return nil, invalid(path+".content", "required")
		}
		parts, err := decodeContent(m.Content, path+".content", m.Role, names)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, llm.Message{Role: role, Parts: parts})
	}
	return msgs, nil
}

// decodeContent decodes a message's content: a string or blocks.
func decodeContent(raw json.RawMessage, path, role string, names map[string]string) ([]llm.Part, error) {
	if isString(raw) {
		var s string
		if err := decodeValue(raw, &s, path); err != nil {
			return nil, err
		}
		if s == "" {
			return nil, nil
		}
		return []llm.Part{llm.TextPart(s)}, nil
	}
	items, err := decodeArray(raw, path)
	if err != nil {
		return nil, invalid(path, "want a string or an array of content blocks")
	}
	parts := make([]llm.Part, 0, len(items))
	for i, item := range items {
		bp := path + "." + strconv.Itoa(i)
		var b wireBlock
		if err := decodeValue(item, &b, bp); err != nil {
			return nil, err
		}
		p, ok, err := decodeBlock(&b, bp, role, names)
		if err != nil {
			return nil, err
		}
		if ok {
			parts = append(parts, p)
		}
	}
	return parts, nil
}

// decodeBlock converts one content block; ok is false for a block that is
// dropped.
func decodeBlock(b *wireBlock, path, role string, names map[string]string) (llm.Part, bool, error) {
	switch b.Type {
	case "text":
		return llm.TextPart(b.Text), b.Text != "", nil
	case "image", "document":
		return decodeSource(b, path)
	case "thinking":
		return llm.Part{Kind: llm.PartThinking, Text: b.Thinking, Signature: b.Signature}, true, nil
	case "redacted_thinking":
		return llm.Part{}, false, nil
	case "tool_use":
		if role != "assistant" {
			return llm.Part{}, false, invalid(path, "tool_use blocks belong in assistant messages")
		}
		if b.ID == "" {
			return llm.Part{}, false, invalid(path+".id", "required")
		}
		if b.Name == "" {
			return llm.Part{}, false, invalid(path+".name", "required")
		}
		if in := bytes.TrimSpace(b.Input); len(in) > 0 && in[0] != '{' && string(in) != "null" {
			return llm.Part{}, false, invalid(path+".input", "want an object")
		}
		names[b.ID] = b.Name
		return llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: compactObject(b.Input)}}, true, nil
	case "tool_result":
		if role != "user" {
			return llm.Part{}, false, invalid(path, "tool_result blocks belong in user messages")
		}
		if b.ToolUseID == "" {
			return llm.Part{}, false, invalid(path+".tool_use_id", "required")
		}
		content, err := decodeResultContent(b.Content, path+".content")
		if err != nil {
			return llm.Part{}, false, err
		}
		return llm.Part{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{
			CallID: b.ToolUseID, Name: names[b.ToolUseID], Content: content, IsError: b.IsError}}, true, nil
	case "":
		return llm.Part{}, false, invalid(path+".type", "required")
	}
	if unsupportedBlocks[b.Type] {
		return llm.Part{}, false, invalid(path+".type", "block type %q is not supported", b.Type)
	}
	return llm.Part{}, false, invalid(path+".type", "unknown block type %q", b.Type)
}

// decodeSource converts an image or document block.
func decodeSource(b *wireBlock, path string) (llm.Part, bool, error) {
	src := b.Source
	if src == nil {
		return llm.Part{}, false, invalid(path+".source", "required")
	}
	sp := path + ".source"
	switch src.Type {
	case "base64":
		mt := src.MediaType
		if mt == "" {
			if b.Type != "document" {
				return llm.Part{}, false, invalid(sp+".media_type", "required")
			}
			mt = "application/pdf"
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(src.Data))
		if err != nil {
			return llm.Part{}, false, invalid(sp+".data", "invalid base64: %v", err)
		}
		if len(data) == 0 {
			return llm.Part{}, false, invalid(sp+".data", "required")
		}
		return llm.Part{Kind: llm.PartImage, Image: &llm.Image{MediaType: mt, Data: data}}, true, nil
	case "url":
		if src.URL == "" {
			return llm.Part{}, false, invalid(sp+".url", "required")
		}
		img := &llm.Image{URL: src.URL}
		if b.Type == "document" {
			img.MediaType = "application/pdf"
		}
		return llm.Part{Kind: llm.PartImage, Image: img}, true, nil
	case "text":
		if b.Type == "document" {
			return llm.TextPart(src.Data), src.Data != "", nil
		}
	case "":
		return llm.Part{}, false, invalid(sp+".type", "required")
	}
	return llm.Part{}, false, invalid(sp+".type", "%s source type %q is not supported", b.Type, src.Type)
}

// decodeResultContent decodes a tool result's content: a string or text
// and image blocks.
func decodeResultContent(raw json.RawMessage, path string) ([]llm.Part, error) {
	if isAbsent(raw) {
		return nil, nil
	}
	if isString(raw) {
		var s string
		if err := decodeValue(raw, &s, path); err != nil {
			return nil, err
		}
		return []llm.Part{llm.TextPart(s)}, nil
	}
	items, err := decodeArray(raw, path)
	if err != nil {
		return nil, invalid(path, "want a string or an array of content blocks")
	}
	var parts []llm.Part
	for i, item := range items {
		bp := path + "." + strconv.Itoa(i)
		var b wireBlock
		if err := decodeValue(item, &b, bp); err != nil {
			return nil, err
		}
		switch b.Type {
		case "text":
			parts = append(parts, llm.TextPart(b.Text))
		case "image", "document":
			p, ok, err := decodeSource(&b, bp)
			if err != nil {
				return nil, err
			}
			if ok {
				parts = append(parts, p)
			}
		case "":
			return nil, invalid(bp+".type", "required")
		default:
			if unsupportedBlocks[b.Type] || b.Type == "tool_use" || b.Type == "tool_result" || b.Type == "thinking" {
				return nil, invalid(bp+".type", "block type %q is not allowed in a tool result", b.Type)
			}
			return nil, invalid(bp+".type", "unknown block type %q", b.Type)
		}
	}
	return parts, nil
}
