package cohere

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// chatRequest is the body of POST /v2/chat.
type chatRequest struct {
	Model          string          `json:"model"`
	Messages       []message       `json:"messages"`
	Tools          []tool          `json:"tools,omitempty"`
	ToolChoice     string          `json:"tool_choice,omitempty"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	P              *float64        `json:"p,omitempty"`
	StopSequences  []string        `json:"stop_sequences,omitempty"`
	ResponseFormat *responseFormat `json:"response_format,omitempty"`
	Stream         bool            `json:"stream,omitempty"`
}

// message is one v2 chat message. Content is a string or a list of
// contentItem; assistant and tool messages use their own fields.
type message struct {
	Role       string     `json:"role"`
	Content    any        `json:"content,omitempty"`
	ToolPlan   string     `json:"tool_plan,omitempty"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type contentItem struct {
	Type     string    `json:"type"`
	Text     *string   `json:"text,omitempty"`
	ImageURL *imageURL `json:"image_url,omitempty"`
	Document *document `json:"document,omitempty"`
}

type imageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type document struct {
	Data string `json:"data"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type tool struct {
	Type     string       `json:"type"`
	Function functionSpec `json:"function"`
}

type functionSpec struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

type responseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// buildRequest translates a canonical request to a v2 chat body.
func buildRequest(req *llm.Request, stream bool) (*chatRequest, error) {
	out := &chatRequest{
		Model: req.Model, MaxTokens: req.MaxTokens, Temperature: req.Temperature, P: req.TopP,
		StopSequences: req.Stop, Stream: stream, Messages: []message{},
	}
	var sys []contentItem
	for _, p := range req.System {
		if p.Kind == llm.PartText && p.Text != "" {
			sys = append(sys, contentItem{Type: "text", Text: ptr(p.Text)})
		}
	}
	if len(sys) > 0 {
		out.Messages = append(out.Messages, message{Role: "system", Content: compactContent(sys)})
	}
	for i, m := range req.Messages {
		msgs, err := convertMessage(m, i)
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, msgs...)
	}
	if err := setTools(out, req); err != nil {
		return nil, err
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			out.ResponseFormat = &responseFormat{Type: "json_object"}
		case "json_schema":
			if len(rf.Schema) == 0 || !json.Valid(rf.Schema) {
				return nil, invalid("response_format.json_schema.schema: not valid JSON")
			}
			out.ResponseFormat = &responseFormat{Type: "json_object", JSONSchema: rf.Schema}
		default:
			return nil, invalid("response_format.type: unknown type %q", rf.Type)
		}
	}
	return out, nil
}

// convertMessage turns one canonical message into Cohere messages: tool
// results become tool messages of their own, ahead of any user content.
func convertMessage(m llm.Message, i int) ([]message, error) {
	switch m.Role {
	case llm.RoleUser, llm.RoleTool:
		return userMessages(m, i)
	case llm.RoleAssistant:
		am, err := assistantMessage(m, i)
		if err != nil || am == nil {
			return nil, err
		}
		return []message{*am}, nil
	}
	return nil, invalid("messages[%d].role: unknown role %q", i, m.Role)
}

func userMessages(m llm.Message, i int) ([]message, error) {
	var out []message
	var items []contentItem
	for j, p := range m.Parts {
		field := fmt.Sprintf("messages[%d].content[%d]", i, j)
		switch p.Kind {
		case llm.PartText:
			if p.Text != "" {
				items = append(items, contentItem{Type: "text", Text: ptr(p.Text)})
			}
		case llm.PartImage:
			u, err := imageURLOf(p.Image, field)
			if err != nil {
				return nil, err
			}
			items = append(items, contentItem{Type: "image_url", ImageURL: u})
		case llm.PartToolResult:
			if p.ToolResult == nil {
				return nil, invalid("%s: tool result part without a tool result", field)
			}
			tm, err := toolMessage(p.ToolResult, field)
			if err != nil {
				return nil, err
			}
			out = append(out, tm)
		case llm.PartThinking:
			// A user turn carries no reasoning.
		default:
			return nil, invalid("%s: a user message cannot hold part kind %d", field, p.Kind)
		}
	}
	if len(items) > 0 {
		out = append(out, message{Role: "user", Content: compactContent(items)})
	}
	return out, nil
}

func toolMessage(r *llm.ToolResult, field string) (message, error) {
	items := []contentItem{}
	for k, c := range r.Content {
		switch c.Kind {
		case llm.PartText:
			if c.Text != "" {
				items = append(items, contentItem{Type: "document", Document: &document{Data: c.Text}})
			}
		default:
			return message{}, invalid("%s.content[%d]: Cohere tool results hold text only", field, k)
		}
	}
	if len(items) == 0 {
		items = append(items, contentItem{Type: "text", Text: ptr("")})
	}
	return message{Role: "tool", ToolCallID: r.CallID, Content: items}, nil
}

func assistantMessage(m llm.Message, i int) (*message, error) {
	var text, thinking strings.Builder
	var calls []toolCall
	for j, p := range m.Parts {
		switch p.Kind {
		case llm.PartText:
			text.WriteString(p.Text)
		case llm.PartThinking:
			thinking.WriteString(p.Text)
		case llm.PartToolCall:
			if p.ToolCall == nil {
				return nil, invalid("messages[%d].content[%d]: tool call part without a tool call", i, j)
			}
			args := strings.TrimSpace(p.ToolCall.Arguments)
			if args == "" {
				args = "{}"
			} else if !json.Valid([]byte(args)) {
				return nil, invalid("messages[%d].content[%d].arguments: not valid JSON", i, j)
			}
			calls = append(calls, toolCall{ID: p.ToolCall.ID, Type: "function", Function: functionCall{Name: p.ToolCall.Name, Arguments: args}})
		default:
			return nil, invalid("messages[%d].content[%d]: an assistant message cannot hold part kind %d", i, j, p.Kind)
		}
	}
	am := &message{Role: "assistant", ToolCalls: calls}
	content := text.String()
	if len(calls) > 0 {
		am.ToolPlan = thinking.String()
		if am.ToolPlan == "" {
			// Cohere puts the text written before tool calls in tool_plan.
			am.ToolPlan, content = content, ""
		}
	}
	if content != "" {
		am.Content = []contentItem{{Type: "text", Text: ptr(content)}}
	}
	if am.Content == nil && len(am.ToolCalls) == 0 {
		return nil, nil // nothing Cohere can carry (thinking only, or empty)
	}
	return am, nil
}

func imageURLOf(img *llm.Image, field string) (*imageURL, error) {
	switch {
	case img == nil:
		return nil, invalid("%s: image part without an image", field)
	case img.URL != "":
		return &imageURL{URL: img.URL, Detail: img.Detail}, nil
	case len(img.Data) > 0:
		mt := img.MediaType
		if mt == "" {
			return nil, invalid("%s: inline image without a media type", field)
		}
		return &imageURL{URL: "data:" + mt + ";base64," + base64.StdEncoding.EncodeToString(img.Data), Detail: img.Detail}, nil
	}
	return nil, invalid("%s: image has neither URL nor data", field)
}

func setTools(out *chatRequest, req *llm.Request) error {
	tools := req.Tools
	if tc := req.ToolChoice; tc != nil {
		switch tc.Mode {
		case "", "auto":
		case "none":
			out.ToolChoice = "NONE"
		case "required":
			out.ToolChoice = "REQUIRED"
		case "tool":
			tools = nil
			for _, t := range req.Tools {
				if t.Name == tc.Name {
					tools = []llm.Tool{t}
					break
				}
			}
			if tools == nil {
				return invalid("tool_choice: tool %q is not among the tools", tc.Name)
			}
			out.ToolChoice = "REQUIRED"
		default:
			return invalid("tool_choice: unknown mode %q", tc.Mode)
		}
	}
	if len(tools) == 0 {
		out.ToolChoice = "" // Cohere refuses a tool choice without tools
		return nil
	}
	for i, t := range tools {
		if t.Name == "" {
			return invalid("tools[%d].name: empty", i)
		}
		params := t.Parameters
		if s := strings.TrimSpace(string(params)); s == "" || s == "null" {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		} else if !json.Valid(params) {
			return invalid("tools[%d].parameters: not valid JSON", i)
		}
		out.Tools = append(out.Tools, tool{Type: "function", Function: functionSpec{Name: t.Name, Description: t.Description, Parameters: params}})
	}
	return nil
}

// compactContent is a lone text item as a plain string, else the list.
func compactContent(items []contentItem) any {
	if len(items) == 1 && items[0].Type == "text" {
		return *items[0].Text
	}
	return items
}

func invalid(format string, args ...any) *llm.Error {
	return llm.Errorf(llm.KindInvalidRequest, "cohere: "+format, args...)
}

func ptr[T any](v T) *T { return &v }
