package openai

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

type outResponse struct {
	ID      string      `json:"id"`
	Object  string      `json:"object"`
	Created int64       `json:"created"`
	Model   string      `json:"model"`
	Choices []outChoice `json:"choices"`
	Usage   *usage      `json:"usage"`
}

type outChoice struct {
	Index        int             `json:"index"`
	Message      outMessage      `json:"message"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

type outMessage struct {
	Role             string     `json:"role"`
	Content          *string    `json:"content"`
	Refusal          *string    `json:"refusal"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCall `json:"tool_calls,omitempty"`
}

// NewID returns a fresh completion id, "chatcmpl-" and 26 random
// characters.
func NewID() string { return "chatcmpl-" + rand.Text() }

// EncodeResponse renders resp as a chat.completion object. model is the
// name to report (resp.Model when empty), created the Unix time in seconds.
// Thinking parts go out as "reasoning_content" (the convention of DeepSeek
// and vLLM, ignored by the official SDKs); a response with
// [llm.StopRefusal] and no tool calls carries its text as "refusal".
func EncodeResponse(resp *llm.Response, model string, created int64) []byte {
	if model == "" {
		model = resp.Model
	}
	id := resp.ID
	if id == "" {
		id = NewID()
	}
	var msg outMessage
	msg.Role = "assistant"
	var text, think []byte
	hasText := false
	for _, p := range resp.Parts {
		switch p.Kind {
		case llm.PartText:
			text = append(text, p.Text...)
			hasText = true
		case llm.PartThinking:
			think = append(think, p.Text...)
		case llm.PartToolCall:
			if p.ToolCall == nil {
				continue
			}
			args := p.ToolCall.Arguments
			if args == "" {
				args = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, toolCall{ID: p.ToolCall.ID, Type: "function",
				Function: functionCall{Name: p.ToolCall.Name, Arguments: args}})
		}
	}
	msg.ReasoningContent = string(think)
	s := string(text)
	switch {
	case resp.StopReason == llm.StopRefusal && len(msg.ToolCalls) == 0 && hasText:
		msg.Refusal = &s
	case hasText || len(msg.ToolCalls) == 0:
		msg.Content = &s
	}
	out := outResponse{
		ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []outChoice{{Message: msg, Logprobs: jsonNull, FinishReason: finishReason(resp.StopReason)}},
		Usage:   wireUsage(resp.Usage),
	}
	b, err := json.Marshal(out)
	if err != nil { // cannot happen: every field is a plain value
		return EncodeError(llm.AsError(fmt.Errorf("openai: encoding the response: %w", err)))
	}
	return b
}

// EncodeError renders e as OpenAI's error body,
// {"error":{"message","type","param","code"}}. The type follows the kind
// ([ErrorType]); the code is the kind itself, a stable string; param is the
// field an invalid-request error of the router's own names, or null.
func EncodeError(e *llm.Error) []byte {
	b := make([]byte, 0, 128+len(e.Message))
	b = append(b, `{"error":{"message":`...)
	b = appendString(b, e.Message)
	b = append(b, `,"type":`...)
	b = appendString(b, ErrorType(e.Kind))
	b = append(b, `,"param":`...)
	if p := param(e); p != "" {
		b = appendString(b, p)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"code":`...)
	b = appendString(b, string(e.Kind))
	return append(b, "}}"...)
}

// ErrorType is OpenAI's error "type" for a kind.
func ErrorType(k llm.ErrorKind) string {
	switch k {
	case llm.KindInvalidRequest, llm.KindTooLarge:
		return "invalid_request_error"
	case llm.KindNotFound:
		return "not_found_error"
	case llm.KindAuthentication:
		return "authentication_error"
	case llm.KindPermission:
		return "permission_error"
	case llm.KindPolicy:
		return "policy_error"
	case llm.KindRateLimit:
		return "rate_limit_error"
	case llm.KindOverloaded:
		return "overloaded_error"
	case llm.KindTimeout:
		return "timeout_error"
	case llm.KindCancelled:
		return "cancelled_error"
	}
	return "server_error"
}

// param is the field path that starts the message of an invalid-request
// error made by the router ("messages[2].content: …").
func param(e *llm.Error) string {
	if e.Kind != llm.KindInvalidRequest || e.Provider != "" {
		return ""
	}
	i := bytes.Index([]byte(e.Message), []byte(": "))
	if i <= 0 {
		return ""
	}
	for _, c := range []byte(e.Message[:i]) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '[' || c == ']') {
			return ""
		}
	}
	return e.Message[:i]
}

// Model is one entry of GET /v1/models.
type Model struct {
	ID string
	// Created is the Unix time in seconds the model was added.
	Created int64
	// OwnedBy names the provider or organisation.
	OwnedBy string
}

// EncodeModels renders GET /v1/models: {"object":"list","data":[…]}.
func EncodeModels(models []Model) []byte {
	b := make([]byte, 0, 32+64*len(models))
	b = append(b, `{"object":"list","data":[`...)
	for i, m := range models {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, m.ID)
		b = append(b, `,"object":"model","created":`...)
		b = appendInt(b, m.Created)
		b = append(b, `,"owned_by":`...)
		b = appendString(b, m.OwnedBy)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// EmbedOptions are what a served embeddings request asks of the response.
type EmbedOptions struct {
	// Base64 is encoding_format "base64": vectors go out as base64 of
	// little-endian float32s. The official Python and Node SDKs ask for it
	// unless told otherwise.
	Base64 bool
}

type inEmbed struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     *int            `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
	User           string          `json:"user"`
}

// DecodeEmbedRequest reads a POST /v1/embeddings body. The input is a
// string or an array of strings; token arrays are refused.
func DecodeEmbedRequest(body []byte) (*llm.EmbedRequest, *EmbedOptions, error) {
	var in inEmbed
	if err := decodeAt(body, &in, ""); err != nil {
		return nil, nil, err
	}
	if in.Model == "" {
		return nil, nil, fieldError("model", "required")
	}
	req := &llm.EmbedRequest{Model: in.Model, User: in.User}
	opts := &EmbedOptions{}
	switch in.EncodingFormat {
	case "", "float":
	case "base64":
		opts.Base64 = true
	default:
		return nil, nil, fieldError("encoding_format", "unknown format %q (want float or base64)", in.EncodingFormat)
	}
	if in.Dimensions != nil {
		if *in.Dimensions < 1 {
			return nil, nil, fieldError("dimensions", "must be at least 1")
		}
		req.Dimensions = *in.Dimensions
	}
	raw := bytes.TrimSpace(in.Input)
	switch {
	case !present(raw):
		return nil, nil, fieldError("input", "required")
	case raw[0] == '"':
		var s string
		if err := decodeAt(raw, &s, "input"); err != nil {
			return nil, nil, err
		}
		req.Input = []string{s}
	case raw[0] == '[':
		var items []json.RawMessage
		if err := decodeAt(raw, &items, "input"); err != nil {
			return nil, nil, err
		}
		if len(items) == 0 {
			return nil, nil, fieldError("input", "must not be empty")
		}
		req.Input = make([]string, len(items))
		for i, it := range items {
			if len(it) == 0 || it[0] != '"' {
				return nil, nil, fieldError(fmt.Sprintf("input[%d]", i), "expected string (token arrays are not supported; send text)")
			}
			if err := decodeAt(it, &req.Input[i], fmt.Sprintf("input[%d]", i)); err != nil {
				return nil, nil, err
			}
		}
	default:
		return nil, nil, fieldError("input", "expected string or array of strings")
	}
	for i, s := range req.Input {
		if s == "" {
			return nil, nil, fieldError(fmt.Sprintf("input[%d]", i), "must not be empty")
		}
	}
	return req, opts, nil
}

// EncodeEmbeddings renders resp as POST /v1/embeddings' list of embeddings.
// model is the name to report (resp.Model when empty); opts may be nil.
func EncodeEmbeddings(resp *llm.EmbedResponse, model string, opts *EmbedOptions) []byte {
	if model == "" {
		model = resp.Model
	}
	b64 := opts != nil && opts.Base64
	n := 64
	for _, v := range resp.Vectors {
		n += 48 + 12*len(v)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"object":"list","data":[`...)
	var raw []byte
	for i, v := range resp.Vectors {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"embedding":`...)
		if b64 {
			raw = raw[:0]
			for _, f := range v {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, raw)
			b = append(b, '"')
		} else {
			b = append(b, '[')
			for j, f := range v {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendFloat32(b, f)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `],"model":`...)
	b = appendString(b, model)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = appendInt(b, int64(resp.Usage.Prompt()))
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, int64(resp.Usage.Total()))
	return append(b, "}}"...)
}

// appendFloat32 appends f as a JSON number; NaN and infinities, which JSON
// cannot hold, become 0.
func appendFloat32(b []byte, f float32) []byte {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, float64(f), 'g', -1, 32)
}
