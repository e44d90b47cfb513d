package llm

// StopReason says why the model stopped.
type StopReason string

// Stop reasons, mapped from every provider's own names.
const (
	StopEnd           StopReason = "end"            // natural end of turn
	StopLength        StopReason = "length"         // output token limit
	StopToolCalls     StopReason = "tool_calls"     // the model called tools
	StopSequence      StopReason = "stop_sequence"  // a stop sequence matched
	StopContentFilter StopReason = "content_filter" // safety / guardrail
	StopRefusal       StopReason = "refusal"        // the model refused
	StopPause         StopReason = "pause"          // Anthropic pause_turn
	// StopCancelled marks a stream the caller cancelled; it never comes from
	// a provider.
	StopCancelled StopReason = "cancelled"
)

// Response is a whole (non-streamed or accumulated) chat response.
type Response struct {
	// ID is the provider's response id, or one the router made up.
	ID string
	// Model is the model that answered, as the provider named it.
	Model string
	// Parts are the assistant's text, thinking and tool-call parts, in order.
	Parts      []Part
	StopReason StopReason
	// StopSequence is the sequence that matched, when StopReason says so.
	StopSequence string
	Usage        Usage
}

// Text is the concatenation of the response's text parts.
func (r *Response) Text() string { return joinText(r.Parts) }

// ToolCalls lists the response's tool calls in order.
func (r *Response) ToolCalls() []ToolCall {
	var out []ToolCall
	for _, p := range r.Parts {
		if p.Kind == PartToolCall && p.ToolCall != nil {
			out = append(out, *p.ToolCall)
		}
	}
	return out
}

// Usage counts tokens in disjoint buckets: the total billed is the sum of
// all fields. See the package doc for how provider conventions map to it.
type Usage struct {
	// Input is prompt tokens that were neither read from nor written to a
	// prompt cache.
	Input int `json:"input"`
	// CacheRead is prompt tokens served from the prompt cache.
	CacheRead int `json:"cacheRead,omitempty"`
	// CacheWrite is prompt tokens written to the prompt cache.
	CacheWrite int `json:"cacheWrite,omitempty"`
	// Output is generated tokens other than reasoning.
	Output int `json:"output"`
	// Reasoning is generated reasoning ("thinking") tokens.
	Reasoning int `json:"reasoning,omitempty"`
}

// Prompt is every input token: Input + CacheRead + CacheWrite (OpenAI's
// prompt_tokens).
func (u Usage) Prompt() int { return u.Input + u.CacheRead + u.CacheWrite }

// Completion is every generated token: Output + Reasoning (OpenAI's
// completion_tokens).
func (u Usage) Completion() int { return u.Output + u.Reasoning }

// Total is every token.
func (u Usage) Total() int { return u.Prompt() + u.Completion() }

// IsZero reports whether no tokens were counted.
func (u Usage) IsZero() bool { return u == Usage{} }

// Add returns the bucket-wise sum.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		Input:      u.Input + v.Input,
		CacheRead:  u.CacheRead + v.CacheRead,
		CacheWrite: u.CacheWrite + v.CacheWrite,
		Output:     u.Output + v.Output,
		Reasoning:  u.Reasoning + v.Reasoning,
	}
}
