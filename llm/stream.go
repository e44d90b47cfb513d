package llm

// EventType says which fields of an [Event] are set.
type EventType uint8

// Stream event types, in the order a stream produces them: one EventStart;
// any number of content events; one EventStop; at most one EventUsage.
// An adapter that learns usage before the stop (Anthropic's message_start)
// keeps it and emits it after EventStop, with the final counts.
const (
	// EventStart opens the stream: ID and Model are set.
	EventStart EventType = iota + 1
	// EventText carries a fragment of the text part at Index.
	EventText
	// EventThinking carries a fragment of the thinking part at Index
	// (Text), or its signature (Signature).
	EventThinking
	// EventToolCall opens the tool-call part at Index: ToolCall.ID and
	// ToolCall.Name are set, ToolCall.Arguments may hold a first fragment.
	EventToolCall
	// EventToolArgs carries a fragment of the arguments of the tool call at
	// Index (ToolCall.Arguments).
	EventToolArgs
	// EventStop ends the content: StopReason (and StopSequence) are set.
	EventStop
	// EventUsage carries the stream's total usage.
	EventUsage
)

// Event is one step of a streamed response. Index is the position of the
// part it builds in the accumulated [Response.Parts]: parts are numbered from
// 0 in the order they start, and a part's events never interleave with a
// later part's start of the same index.
type Event struct {
	Type  EventType
	Index int
	// ID and Model are set on EventStart.
	ID    string
	Model string
	Text  string
	// Signature is set on EventThinking when it carries a signature.
	Signature    string
	ToolCall     *ToolCall
	StopReason   StopReason
	StopSequence string
	Usage        *Usage
}

// Stream is a streamed response being read. Recv returns the next event, or
// io.EOF after the last one; any other error ends the stream (an *Error when
// the provider sent one). Close releases the connection and may be called at
// any time, more than once; closing before io.EOF cancels the upstream call.
type Stream interface {
	Recv() (Event, error)
	Close() error
}
