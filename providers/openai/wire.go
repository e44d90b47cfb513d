package openai

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// chatRequest is the body of POST /chat/completions as the adapter sends it.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []message       `json:"messages"`
	Tools               []tool          `json:"tools,omitempty"`
	ToolChoice          json.RawMessage `json:"tool_choice,omitempty"`
	MaxTokens           int             `json:"max_tokens,omitempty"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *streamOptions  `json:"stream_options,omitempty"`
	ResponseFormat      *responseFormat `json:"response_format,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	User                string          `json:"user,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// message is one entry of "messages". Content is a JSON string, an array of
// content parts, or null.
type message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content,omitempty"`
	ToolCalls  []toolCall      `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

type contentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *imageURL `json:"image_url,omitempty"`
	Refusal  string    `json:"refusal,omitempty"`
}

type imageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// toolCall is an assistant tool call; Index is set only in stream deltas.
type toolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type tool struct {
	Type     string   `json:"type"`
	Function function `json:"function"`
}

type function struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type toolChoiceObject struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

type responseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema,omitempty"`
}

type jsonSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      bool            `json:"strict,omitempty"`
}

// chatResponse is a chat.completion or a chat.completion.chunk as read from
// upstream. Object is "error" for vLLM's error bodies.
type chatResponse struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Model   string          `json:"model"`
	Choices []choice        `json:"choices"`
	Usage   *usage          `json:"usage"`
	Error   json.RawMessage `json:"error"`
	Message looseString     `json:"message"`
	Type    looseString     `json:"type"`
}

type choice struct {
	Index        int         `json:"index"`
	Message      respMessage `json:"message"`
	Delta        respMessage `json:"delta"`
	FinishReason looseString `json:"finish_reason"`
}

// respMessage is a response message or a stream delta. The looseString
// fields accept strings, null, and arrays of text parts (Mistral).
type respMessage struct {
	Content          looseString `json:"content"`
	Refusal          looseString `json:"refusal"`
	ReasoningContent looseString `json:"reasoning_content"`
	Reasoning        looseString `json:"reasoning"`
	ToolCalls        []toolCall  `json:"tool_calls"`
}

type usage struct {
	PromptTokens            int            `json:"prompt_tokens"`
	CompletionTokens        int            `json:"completion_tokens"`
	TotalTokens             int            `json:"total_tokens"`
	PromptTokensDetails     *promptDetails `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *outputDetails `json:"completion_tokens_details,omitempty"`
	PromptCacheHitTokens    int            `json:"prompt_cache_hit_tokens,omitempty"` // DeepSeek
}

type promptDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

type outputDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// errorObject is OpenAI's {"message","type","param","code"}; code and param
// may be strings, numbers or null.
type errorObject struct {
	Message looseString     `json:"message"`
	Type    looseString     `json:"type"`
	Param   looseString     `json:"param"`
	Code    json.RawMessage `json:"code"`
}

// looseString decodes a JSON string, and tolerates what compatible servers
// send instead: null or a non-string scalar (empty), or an array of content
// parts (their "text" joined).
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		// Fast path: no escapes and valid UTF-8 (encoding/json has already
		// checked the syntax), so the text between the quotes is the value.
		if in := b[1 : len(b)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
			*s = looseString(in)
			return nil
		}
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = looseString(v)
	case '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(b, &parts) != nil {
			return nil
		}
		var out []byte
		for _, p := range parts {
			if p.Type == "" || p.Type == "text" {
				out = append(out, p.Text...)
			}
		}
		*s = looseString(out)
	default:
		*s = ""
	}
	return nil
}
