package openai

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

var jsonNull = json.RawMessage("null")

// encodeRequest builds the upstream body for req. completionTokens selects
// max_completion_tokens over max_tokens.
func encodeRequest(req *llm.Request, stream, completionTokens bool) (*chatRequest, error) {
	out := &chatRequest{
		Model:           req.Model,
		Temperature:     req.Temperature,
		TopP:            req.TopP,
		Stop:            req.Stop,
		ReasoningEffort: req.ReasoningEffort,
		User:            req.User,
	}
	if req.MaxTokens > 0 {
		if completionTokens {
			out.MaxCompletionTokens = req.MaxTokens
		} else {
			out.MaxTokens = req.MaxTokens
		}
	}
	if stream {
		out.Stream = true
		out.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	msgs, err := encodeMessages(req)
	if err != nil {
		return nil, err
	}
	out.Messages = msgs
	for _, t := range req.Tools {
		out.Tools = append(out.Tools, tool{Type: "function", Function: function{
			Name: t.Name, Description: t.Description, Parameters: t.Parameters}})
	}
	if tc := req.ToolChoice; tc != nil {
		switch tc.Mode {
		case "auto", "none", "required":
			out.ToolChoice = quote(tc.Mode)
		case "tool":
			var o toolChoiceObject
			o.Type, o.Function.Name = "function", tc.Name
			out.ToolChoice, _ = json.Marshal(o)
		default:
			return nil, llm.Errorf(llm.KindInvalidRequest, "tool_choice: unknown mode %q", tc.Mode)
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			out.ResponseFormat = &responseFormat{Type: "json_object"}
		case "json_schema":
			name := rf.Name
			if name == "" {
				name = "response"
			}
			out.ResponseFormat = &responseFormat{Type: "json_schema", JSONSchema: &jsonSchema{
				Name: name, Schema: rf.Schema, Strict: rf.Strict}}
		default:
			return nil, llm.Errorf(llm.KindInvalidRequest, "response_format: unknown type %q", rf.Type)
		}
	}
	return out, nil
}

func encodeMessages(req *llm.Request) ([]message, error) {
	out := make([]message, 0, len(req.Messages)+1)
	if sys := systemText(req.System); sys != "" {
		out = append(out, message{Role: "system", Content: quote(sys)})
	}
	for i, m := range req.Messages {
		switch m.Role {
		case llm.RoleAssistant:
			out = append(out, encodeAssistant(m))
		case llm.RoleUser, llm.RoleTool:
			var err error
			if out, err = appendUser(out, m, i); err != nil {
				return nil, err
			}
		default:
			return nil, llm.Errorf(llm.KindInvalidRequest, "messages[%d]: unknown role %q", i, m.Role)
		}
	}
	return out, nil
}

// systemText joins the system text parts with blank lines: one system
// message is what every compatible server accepts.
func systemText(parts []llm.Part) string {
	var texts []string
	for _, p := range parts {
		if p.Kind == llm.PartText && p.Text != "" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n\n")
}

func encodeAssistant(m llm.Message) message {
	out := message{Role: "assistant"}
	var text strings.Builder
	for _, p := range m.Parts {
		switch p.Kind {
		case llm.PartText:
			text.WriteString(p.Text)
		case llm.PartToolCall:
			if p.ToolCall == nil {
				continue
			}
			args := p.ToolCall.Arguments
			if args == "" {
				args = "{}"
			}
			out.ToolCalls = append(out.ToolCalls, toolCall{ID: p.ToolCall.ID, Type: "function",
				Function: functionCall{Name: p.ToolCall.Name, Arguments: args}})
		}
	}
	switch {
	case text.Len() > 0 || len(out.ToolCalls) == 0:
		out.Content = quote(text.String())
	default:
		out.Content = jsonNull
	}
	return out
}

// appendUser appends a user or tool turn: one "tool" message per tool
// result, then a user message with the other parts and any images the tool
// results held.
func appendUser(out []message, m llm.Message, i int) ([]message, error) {
	var parts []contentPart
	var images []contentPart
	results := 0
	for j, p := range m.Parts {
		switch p.Kind {
		case llm.PartToolResult:
			r := p.ToolResult
			if r == nil {
				continue
			}
			var text strings.Builder
			for k, c := range r.Content {
				switch c.Kind {
				case llm.PartText:
					text.WriteString(c.Text)
				case llm.PartImage:
					img, err := imagePart(c.Image, fmt.Sprintf("messages[%d].parts[%d].content[%d]", i, j, k))
					if err != nil {
						return nil, err
					}
					images = append(images, img)
				}
			}
			out = append(out, message{Role: "tool", ToolCallID: r.CallID, Content: quote(text.String())})
			results++
		case llm.PartText:
			parts = append(parts, contentPart{Type: "text", Text: p.Text})
		case llm.PartImage:
			img, err := imagePart(p.Image, fmt.Sprintf("messages[%d].parts[%d]", i, j))
			if err != nil {
				return nil, err
			}
			parts = append(parts, img)
		}
	}
	parts = append(parts, images...)
	switch {
	case len(parts) == 0:
		if results > 0 {
			return out, nil // a turn of tool results only
		}
		return append(out, message{Role: "user", Content: quote("")}), nil
	case len(parts) == 1 && parts[0].Type == "text":
		return append(out, message{Role: "user", Content: quote(parts[0].Text)}), nil
	}
	b, err := json.Marshal(parts)
	if err != nil {
		return nil, fmt.Errorf("openai: encoding content: %w", err)
	}
	return append(out, message{Role: "user", Content: b}), nil
}

func imagePart(img *llm.Image, path string) (contentPart, error) {
	if img == nil || img.URL == "" && len(img.Data) == 0 {
		return contentPart{}, llm.Errorf(llm.KindInvalidRequest, "%s: image without URL or data", path)
	}
	u := img.URL
	if len(img.Data) > 0 {
		mt := img.MediaType
		if mt == "" {
			mt = http.DetectContentType(img.Data)
		}
		u = dataURL(mt, img.Data)
	}
	return contentPart{Type: "image_url", ImageURL: &imageURL{URL: u, Detail: img.Detail}}, nil
}

func dataURL(mediaType string, data []byte) string {
	const b64 = ";base64,"
	b := make([]byte, 0, len("data:")+len(mediaType)+len(b64)+base64.StdEncoding.EncodedLen(len(data)))
	b = append(b, "data:"...)
	b = append(b, mediaType...)
	b = append(b, b64...)
	b = base64.StdEncoding.AppendEncode(b, data)
	return string(b)
}

// quote is s as a JSON string.
func quote(s string) json.RawMessage {
	return appendString(make([]byte, 0, len(s)+2), s)
}
