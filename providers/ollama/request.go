package ollama

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Wire types of an /api/chat request (and of response messages).

type chatRequest struct {
	Model    string          `json:"model"`
	Messages []message       `json:"messages"`
	Tools    []tool          `json:"tools,omitempty"`
	Format   json.RawMessage `json:"format,omitempty"`
	Options  *options        `json:"options,omitempty"`
	Stream   bool            `json:"stream"`
	Think    *bool           `json:"think,omitempty"`
}

type message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	Thinking   string     `json:"thinking,omitempty"`
	Images     []string   `json:"images,omitempty"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolName   string     `json:"tool_name,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type toolCall struct {
	ID       string   `json:"id,omitempty"`
	Function function `json:"function"`
}

type function struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type tool struct {
	Type     string      `json:"type"`
	Function functionDef `json:"function"`
}

type functionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type options struct {
	NumPredict  int      `json:"num_predict,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	Stop        []string `json:"stop,omitempty"`
}

func invalid(format string, args ...any) *llm.Error {
	return llm.Errorf(llm.KindInvalidRequest, format, args...)
}

// buildRequest encodes req as an /api/chat body.
func buildRequest(req *llm.Request, stream bool) ([]byte, error) {
	if req.Model == "" {
		return nil, invalid("model: a model is required")
	}
	w := chatRequest{Model: req.Model, Stream: stream}
	if len(req.System) > 0 {
		var sys strings.Builder
		for i, p := range req.System {
			if p.Kind != llm.PartText {
				return nil, invalid("system[%d]: Ollama system messages take text only", i)
			}
			sys.WriteString(p.Text)
		}
		if sys.Len() > 0 {
			w.Messages = append(w.Messages, message{Role: "system", Content: sys.String()})
		}
	}
	names := map[string]string{} // tool call id → tool name, from earlier calls
	for i, m := range req.Messages {
		msgs, err := convert(i, m, names)
		if err != nil {
			return nil, err
		}
		w.Messages = append(w.Messages, msgs...)
	}
	if len(req.Messages) == 0 {
		return nil, invalid("messages: at least one message is required")
	}
	tools, err := convertTools(req.Tools, req.ToolChoice)
	if err != nil {
		return nil, err
	}
	w.Tools = tools
	if w.Format, err = format(req.ResponseFormat); err != nil {
		return nil, err
	}
	if req.MaxTokens > 0 || req.Temperature != nil || req.TopP != nil || len(req.Stop) > 0 {
		w.Options = &options{NumPredict: req.MaxTokens, Temperature: req.Temperature, TopP: req.TopP, Stop: req.Stop}
	}
	switch req.ReasoningEffort {
	case "":
	case "low", "medium", "high":
		think := true
		w.Think = &think
	default:
		return nil, invalid("reasoning_effort: unknown effort %q (low, medium or high)", req.ReasoningEffort)
	}
	b, err := json.Marshal(&w)
	if err != nil {
		return nil, invalid("the request cannot be encoded: %v", err)
	}
	return b, nil
}

// convert turns one canonical message into Ollama messages: the tool
// results it holds first, one message each, then the rest of its content.
func convert(i int, m llm.Message, names map[string]string) ([]message, error) {
	var out []message
	msg := message{}
	switch m.Role {
	case llm.RoleUser, llm.RoleTool:
		msg.Role = "user"
	case llm.RoleAssistant:
		msg.Role = "assistant"
	default:
		return nil, invalid("messages[%d].role: unknown role %q", i, m.Role)
	}
	var content, thinking strings.Builder
	for j, p := range m.Parts {
		switch p.Kind {
		case llm.PartText:
			content.WriteString(p.Text)
		case llm.PartThinking:
			if msg.Role == "assistant" {
				thinking.WriteString(p.Text)
			}
		case llm.PartImage:
			img := p.Image
			if img == nil || len(img.Data) == 0 {
				return nil, invalid("messages[%d].parts[%d]: Ollama takes inline image data only, not image URLs", i, j)
			}
			msg.Images = append(msg.Images, base64.StdEncoding.EncodeToString(img.Data))
		case llm.PartToolCall:
			tc := p.ToolCall
			if msg.Role != "assistant" {
				return nil, invalid("messages[%d].parts[%d]: only assistant messages hold tool calls", i, j)
			}
			if tc == nil || tc.Name == "" {
				return nil, invalid("messages[%d].parts[%d]: a tool call needs a name", i, j)
			}
			args, ok := argsObject(tc.Arguments)
			if !ok {
				return nil, invalid("messages[%d].parts[%d].arguments: tool call arguments are not a JSON object", i, j)
			}
			if tc.ID != "" {
				names[tc.ID] = tc.Name
			}
			msg.ToolCalls = append(msg.ToolCalls, toolCall{ID: tc.ID, Function: function{Name: tc.Name, Arguments: args}})
		case llm.PartToolResult:
			r := p.ToolResult
			if msg.Role != "user" {
				return nil, invalid("messages[%d].parts[%d]: only user or tool messages hold tool results", i, j)
			}
			if r == nil {
				return nil, invalid("messages[%d].parts[%d]: a tool-result part without a result", i, j)
			}
			name := r.Name
			if name == "" {
				name = names[r.CallID]
			}
			text := r.Text()
			if r.IsError {
				text = "error: " + text
			}
			out = append(out, message{Role: "tool", Content: text, ToolName: name, ToolCallID: r.CallID})
		default:
			return nil, invalid("messages[%d].parts[%d]: unknown part kind %d", i, j, p.Kind)
		}
	}
	msg.Content, msg.Thinking = content.String(), thinking.String()
	if msg.Content != "" || msg.Thinking != "" || len(msg.Images) > 0 || len(msg.ToolCalls) > 0 || len(out) == 0 {
		out = append(out, msg)
	}
	return out, nil
}

// argsObject compacts tool-call arguments, which must be a JSON object;
// empty arguments (or null) are {}.
func argsObject(s string) (json.RawMessage, bool) {
	t := strings.TrimSpace(s)
	if t == "" || t == "null" {
		return json.RawMessage("{}"), true
	}
	if !strings.HasPrefix(t, "{") {
		return nil, false
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(t)); err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

func convertTools(in []llm.Tool, choice *llm.ToolChoice) ([]tool, error) {
	mode, only := "auto", ""
	if choice != nil {
		switch choice.Mode {
		case "", "auto", "required":
		case "none":
			return nil, nil
		case "tool":
			if choice.Name == "" {
				return nil, invalid("tool_choice: mode \"tool\" needs a tool name")
			}
			mode, only = "tool", choice.Name
		default:
			return nil, invalid("tool_choice: unknown mode %q", choice.Mode)
		}
	}
	var out []tool
	for i, t := range in {
		if t.Name == "" {
			return nil, invalid("tools[%d].name: a tool needs a name", i)
		}
		if only != "" && t.Name != only {
			continue
		}
		params := bytes.TrimSpace(t.Parameters)
		if len(params) > 0 && !bytes.Equal(params, []byte("null")) {
			if params[0] != '{' || !json.Valid(params) {
				return nil, invalid("tools[%d].parameters: the schema is not a JSON object", i)
			}
		} else {
			params = nil
		}
		out = append(out, tool{Type: "function", Function: functionDef{Name: t.Name, Description: t.Description, Parameters: params}})
	}
	if mode == "tool" && len(out) == 0 {
		return nil, invalid("tool_choice: tool %q is not among the tools", only)
	}
	return out, nil
}

func format(rf *llm.ResponseFormat) (json.RawMessage, error) {
	if rf == nil {
		return nil, nil
	}
	switch rf.Type {
	case "", "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`"json"`), nil
	case "json_schema":
		s := bytes.TrimSpace(rf.Schema)
		if len(s) == 0 {
			return json.RawMessage(`"json"`), nil
		}
		if s[0] != '{' || !json.Valid(s) {
			return nil, invalid("response_format.schema: the schema is not a JSON object")
		}
		var buf bytes.Buffer
		_ = json.Compact(&buf, s)
		return buf.Bytes(), nil
	}
	return nil, invalid("response_format.type: unknown type %q", rf.Type)
}
