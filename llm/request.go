package llm

import "encoding/json"

// Role is who speaks a message.
type Role string

// Roles. System prompts are not messages (see [Request.System]).
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	// RoleTool marks a message that only carries tool results. Adapters for
	// formats without it send its parts in a user turn.
	RoleTool Role = "tool"
)

// Request is one chat call in canonical form.
type Request struct {
	// Model is the name the caller asked for: a catalogue model
	// ("gpt-4o"), a provider-qualified one ("openai/gpt-4o") or a virtual
	// model. Adapters receive the provider's own model id here.
	Model    string
	System   []Part
	Messages []Message
	Tools    []Tool
	// ToolChoice is nil when the caller left it to the provider.
	ToolChoice *ToolChoice
	// MaxTokens is the output limit; 0 means not set (adapters whose format
	// requires one use the model's limit or a default).
	MaxTokens   int
	Temperature *float64
	TopP        *float64
	Stop        []string
	// Stream asks for a streamed response.
	Stream bool
	// ResponseFormat asks for JSON output; nil for free text.
	ResponseFormat *ResponseFormat
	// ReasoningEffort is "low", "medium" or "high"; empty leaves it to the
	// provider.
	ReasoningEffort string
	// User is the caller's end-user id, passed on where the format has one.
	User string
	// Route holds the caller's routing options; nil for none.
	Route *RouteOptions
}

// Message is one turn of the conversation.
type Message struct {
	Role  Role
	Parts []Part
}

// Text is the concatenation of the message's text parts.
func (m Message) Text() string { return joinText(m.Parts) }

// PartKind says which field of a [Part] is set.
type PartKind uint8

// Part kinds.
const (
	PartText PartKind = iota + 1
	PartImage
	PartToolCall
	PartToolResult
	PartThinking
)

// Part is one piece of message content. Exactly the field matching Kind is
// meaningful (Text for PartText and PartThinking).
type Part struct {
	Kind       PartKind
	Text       string
	Image      *Image
	ToolCall   *ToolCall
	ToolResult *ToolResult
	// Signature is the provider's opaque signature of a thinking part, to be
	// echoed back on later turns.
	Signature string
}

// TextPart is a text part.
func TextPart(s string) Part { return Part{Kind: PartText, Text: s} }

// Image is an image given by URL or inline data.
type Image struct {
	// URL is an http(s) URL; empty when Data is set.
	URL string
	// MediaType is the MIME type of Data ("image/png").
	MediaType string
	// Data is the raw image bytes.
	Data []byte
	// Detail is OpenAI's "low" | "high" | "auto" hint; others ignore it.
	Detail string
}

// ToolCall is the model asking for a tool to be run.
type ToolCall struct {
	ID   string
	Name string
	// Arguments is a JSON object as text. In stream events it is a fragment
	// to be concatenated.
	Arguments string
}

// ToolResult answers a tool call.
type ToolResult struct {
	CallID string
	// Name of the tool, for formats that match results by name (Gemini).
	Name    string
	Content []Part
	IsError bool
}

// Text is the concatenation of the result's text parts.
func (r ToolResult) Text() string { return joinText(r.Content) }

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments object.
	Parameters json.RawMessage
}

// ToolChoice constrains tool use.
type ToolChoice struct {
	// Mode is "auto", "none", "required" (some tool) or "tool" (the one named).
	Mode string
	Name string
}

// ResponseFormat asks for JSON output.
type ResponseFormat struct {
	// Type is "json_object" or "json_schema".
	Type string
	// Name and Schema describe the schema for "json_schema".
	Name   string
	Schema json.RawMessage
	Strict bool
}

func joinText(parts []Part) string {
	if len(parts) == 1 && parts[0].Kind == PartText {
		return parts[0].Text
	}
	var n int
	for _, p := range parts {
		if p.Kind == PartText {
			n += len(p.Text)
		}
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		if p.Kind == PartText {
			b = append(b, p.Text...)
		}
	}
	return string(b)
}
