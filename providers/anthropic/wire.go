package anthropic

import (
	"encoding/json"
)

// Wire types of the Messages API. One block type serves every content block:
// decoding fills the fields its type uses, and MarshalJSON writes exactly
// those fields.

type wireRequest struct {
	Model         string            `json:"model"`
	MaxTokens     int               `json:"max_tokens"`
	System        json.RawMessage   `json:"system,omitempty"`
	Messages      []wireMessage     `json:"messages"`
	Tools         []wireTool        `json:"tools,omitempty"`
	ToolChoice    *wireToolChoice   `json:"tool_choice,omitempty"`
	Temperature   *float64          `json:"temperature,omitempty"`
	TopP          *float64          `json:"top_p,omitempty"`
	StopSequences []string          `json:"stop_sequences,omitempty"`
	Stream        bool              `json:"stream,omitempty"`
	Metadata      *wireMetadata     `json:"metadata,omitempty"`
	Thinking      *wireThinking     `json:"thinking,omitempty"`
	OutputConfig  *wireOutputConfig `json:"output_config,omitempty"`
}

type wireMessage struct {
	Role    string      `json:"role"`
	Content []wireBlock `json:"content"`
}

type wireTool struct {
	Type        string          `json:"type,omitempty"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type wireToolChoice struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

type wireMetadata struct {
	UserID string `json:"user_id,omitempty"`
}

type wireThinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens,omitempty"`
}

type wireOutputConfig struct {
	Effort string      `json:"effort,omitempty"`
	Format *wireFormat `json:"format,omitempty"`
}

type wireFormat struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema,omitempty"`
}

type wireSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

// wireBlock is any content block.
type wireBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	Signature string          `json:"signature"`
	Data      string          `json:"data"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	Source    *wireSource     `json:"source"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

// MarshalJSON writes the fields the block's type uses.
func (b wireBlock) MarshalJSON() ([]byte, error) {
	return appendBlock(make([]byte, 0, 64+len(b.Text)+len(b.Thinking)+len(b.Input)+len(b.Content)), &b)
}

func appendBlock(out []byte, b *wireBlock) ([]byte, error) {
	out = append(out, `{"type":`...)
	out = appendString(out, b.Type)
	switch b.Type {
	case "text":
		out = append(out, `,"text":`...)
		out = appendString(out, b.Text)
	case "thinking":
		out = append(out, `,"thinking":`...)
		out = appendString(out, b.Thinking)
		out = append(out, `,"signature":`...)
		out = appendString(out, b.Signature)
	case "redacted_thinking":
		out = append(out, `,"data":`...)
		out = appendString(out, b.Data)
	case "image", "document":
		src, err := json.Marshal(b.Source)
		if err != nil {
			return nil, err
		}
		out = append(out, `,"source":`...)
		out = append(out, src...)
	case "tool_use":
		out = append(out, `,"id":`...)
		out = appendString(out, b.ID)
		out = append(out, `,"name":`...)
		out = appendString(out, b.Name)
		out = append(out, `,"input":`...)
		if len(b.Input) == 0 {
			out = append(out, "{}"...)
		} else {
			out = append(out, b.Input...)
		}
	case "tool_result":
		out = append(out, `,"tool_use_id":`...)
		out = appendString(out, b.ToolUseID)
		if len(b.Content) > 0 {
			out = append(out, `,"content":`...)
			out = append(out, b.Content...)
		}
		if b.IsError {
			out = append(out, `,"is_error":true`...)
		}
	}
	return append(out, '}'), nil
}

type wireResponse struct {
	ID           string      `json:"id"`
	Type         string      `json:"type"`
	Role         string      `json:"role"`
	Model        string      `json:"model"`
	Content      []wireBlock `json:"content"`
	StopReason   *string     `json:"stop_reason"`
	StopSequence *string     `json:"stop_sequence"`
	Usage        wireUsage   `json:"usage"`
}

// wireUsage has pointers so that a message_delta's counts replace only the
// fields it carries.
type wireUsage struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
}

type wireError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// wireErrorBody is the body of an HTTP error and the data of an "error"
// stream event.
type wireErrorBody struct {
	Type  string    `json:"type"`
	Error wireError `json:"error"`
}

// wireEvent is any stream event's data.
type wireEvent struct {
	Type         string        `json:"type"`
	Message      *wireResponse `json:"message"`
	Index        *int          `json:"index"`
	ContentBlock *wireBlock    `json:"content_block"`
	Delta        *wireDelta    `json:"delta"`
	Usage        *wireUsage    `json:"usage"`
	Error        *wireError    `json:"error"`
}

type wireDelta struct {
	Type         string  `json:"type"`
	Text         string  `json:"text"`
	Thinking     string  `json:"thinking"`
	Signature    string  `json:"signature"`
	PartialJSON  string  `json:"partial_json"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}
