package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// response is a GenerateContentResponse: the whole answer of Chat, or one
// chunk of a stream.
type response struct {
	Candidates     []candidate     `json:"candidates"`
	PromptFeedback *promptFeedback `json:"promptFeedback"`
	UsageMetadata  *usageMetadata  `json:"usageMetadata"`
	ModelVersion   string          `json:"modelVersion"`
	ResponseID     string          `json:"responseId"`
	// Error is set when a stream sends an error in place of a chunk.
	Error *apiError `json:"error"`
}

type candidate struct {
	Content      *content `json:"content"`
	FinishReason string   `json:"finishReason"`
	Index        int      `json:"index"`
}

type promptFeedback struct {
	BlockReason string `json:"blockReason"`
}

type usageMetadata struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount int `json:"toolUsePromptTokenCount"`
	TotalTokenCount         int `json:"totalTokenCount"`
}

// usage converts Gemini's counts to disjoint buckets: cached tokens are
// inside promptTokenCount, thoughts and tool-use prompts are not.
func (u *usageMetadata) usage() llm.Usage {
	return llm.Usage{
		Input:     max(u.PromptTokenCount-u.CachedContentTokenCount, 0) + u.ToolUsePromptTokenCount,
		CacheRead: u.CachedContentTokenCount,
		Output:    u.CandidatesTokenCount,
		Reasoning: u.ThoughtsTokenCount,
	}
}

// stopReason maps a finishReason; calls says whether function calls came.
func stopReason(finish string, calls bool) llm.StopReason {
	switch finish {
	case "MAX_TOKENS":
		return llm.StopLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY":
		return llm.StopContentFilter
	}
	if calls {
		return llm.StopToolCalls
	}
	return llm.StopEnd
}

// open is the kind of canonical part that further chunks would extend.
type open uint8

const (
	openNone open = iota
	openText
	openThinking
)

// decoder turns GenerateContentResponses into canonical stream events. Chat
// feeds it the one response, Stream every chunk, so both read Gemini alike.
type decoder struct {
	name  string
	model string // the requested model, used when Gemini names none
	// whole marks a non-streamed response, which needs no finishReason.
	whole bool

	started      bool
	nparts       int
	open         open
	calls        int
	finishReason string
	blocked      string
	usage        *usageMetadata
}

func (d *decoder) errorf(format string, args ...any) *llm.Error {
	e := llm.Errorf(llm.KindServer, format, args...)
	e.Provider = d.name
	return e
}

// add appends the events of one response to evs.
func (d *decoder) add(r *response, evs []llm.Event) ([]llm.Event, error) {
	if !d.started {
		d.started = true
		id, model := r.ResponseID, r.ModelVersion
		if id == "" {
			id = newID()
		}
		if model == "" {
			model = d.model
		}
		evs = append(evs, llm.Event{Type: llm.EventStart, ID: id, Model: model})
	}
	if r.UsageMetadata != nil {
		u := *r.UsageMetadata
		d.usage = &u
	}
	if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		d.blocked = r.PromptFeedback.BlockReason
	}
	c := first(r.Candidates)
	if c == nil {
		return evs, nil
	}
	if c.FinishReason != "" {
		d.finishReason = c.FinishReason
	}
	if c.Content == nil {
		return evs, nil
	}
	for i, p := range c.Content.Parts {
		var err error
		if evs, err = d.part(i, p, evs); err != nil {
			return evs, err
		}
	}
	return evs, nil
}

// part appends the events of one Gemini part.
func (d *decoder) part(i int, p part, evs []llm.Event) ([]llm.Event, error) {
	text := ""
	if p.Text != nil {
		text = *p.Text
	}
	sig := p.ThoughtSignature
	if p.Thought {
		if text == "" && sig == "" {
			return evs, nil
		}
		if d.open != openThinking {
			d.open = openThinking
			d.nparts++
		}
		evs = append(evs, llm.Event{Type: llm.EventThinking, Index: d.nparts - 1, Text: text, Signature: sig})
		if sig != "" {
			d.open = openNone // the signature seals this thought
		}
		return evs, nil
	}
	if sig != "" {
		// A signature on a non-thought part rides on an empty thinking
		// part placed just before it.
		evs = append(evs, llm.Event{Type: llm.EventThinking, Index: d.nparts, Signature: sig})
		d.nparts++
		d.open = openNone
	}
	switch {
	case p.FunctionCall != nil:
		fc := p.FunctionCall
		if fc.Name == "" {
			return evs, d.errorf("candidates[0].content.parts[%d].functionCall has no name", i)
		}
		args, err := compactArgs(fc.Args)
		if err != nil {
			return evs, d.errorf("candidates[0].content.parts[%d].functionCall.args: %v", i, err)
		}
		id := fc.ID
		if id == "" {
			id = fmt.Sprintf("call_%d", d.calls)
		}
		d.calls++
		evs = append(evs, llm.Event{Type: llm.EventToolCall, Index: d.nparts,
			ToolCall: &llm.ToolCall{ID: id, Name: fc.Name, Arguments: args}})
		d.nparts++
		d.open = openNone
	case text != "":
		if d.open != openText {
			d.open = openText
			d.nparts++
		}
		evs = append(evs, llm.Event{Type: llm.EventText, Index: d.nparts - 1, Text: text})
	}
	return evs, nil
}

// finish appends the stop and usage events once the response is complete.
func (d *decoder) finish(evs []llm.Event) ([]llm.Event, error) {
	if !d.started {
		return evs, d.errorf("the stream ended before any response")
	}
	var stop llm.StopReason
	switch {
	case d.finishReason != "":
		stop = stopReason(d.finishReason, d.calls > 0)
	case d.blocked != "":
		stop = llm.StopContentFilter
	case d.whole:
		stop = stopReason("STOP", d.calls > 0)
	default:
		return evs, d.errorf("the stream ended without a finish reason (truncated)")
	}
	evs = append(evs, llm.Event{Type: llm.EventStop, StopReason: stop})
	if d.usage != nil {
		u := d.usage.usage()
		evs = append(evs, llm.Event{Type: llm.EventUsage, Usage: &u})
	}
	return evs, nil
}

// first is the candidate with index 0 (the first one listed otherwise).
func first(cs []candidate) *candidate {
	for i := range cs {
		if cs[i].Index == 0 {
			return &cs[i]
		}
	}
	if len(cs) > 0 {
		return &cs[0]
	}
	return nil
}

// compactArgs renders a functionCall's args object as compact JSON text.
func compactArgs(raw json.RawMessage) (string, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "{}", nil
	}
	if t[0] != '{' {
		return "", fmt.Errorf("not a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, t); err != nil {
		return "", fmt.Errorf("not a JSON object: %w", err)
	}
	return buf.String(), nil
}
