package ollama

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// chatResponse is the answer of a Chat call, or one line of a stream.
type chatResponse struct {
	Model           string          `json:"model"`
	Message         *message        `json:"message"`
	Done            bool            `json:"done"`
	DoneReason      string          `json:"done_reason"`
	PromptEvalCount int             `json:"prompt_eval_count"`
	EvalCount       int             `json:"eval_count"`
	Error           json.RawMessage `json:"error"`
}

// open is the kind of canonical part that further fragments would extend.
type open uint8

const (
	openNone open = iota
	openText
	openThinking
)

// decoder turns chat responses into canonical stream events. Chat feeds it
// the one response, Stream every line, so both read Ollama alike.
type decoder struct {
	name  string
	model string // the requested model, used when Ollama names none
	// whole marks a non-streamed response, which needs no "done": true.
	whole bool

	started    bool
	nparts     int
	open       open
	calls      int
	done       bool
	doneReason string
	usage      llm.Usage
}

func (d *decoder) errorf(format string, args ...any) *llm.Error {
	e := llm.Errorf(llm.KindServer, format, args...)
	e.Provider = d.name
	return e
}

// add appends the events of one response to evs.
func (d *decoder) add(r *chatResponse, evs []llm.Event) ([]llm.Event, error) {
	if len(r.Error) > 0 && !bytes.Equal(r.Error, []byte("null")) {
		msg := errorMessage([]byte(`{"error":` + string(r.Error) + `}`))
		if msg == "" {
			msg = "the provider failed mid-stream"
		}
		e := llm.FromStatus(d.name, http.StatusInternalServerError, "", msg, 0)
		e.UpstreamStatus = http.StatusOK
		return evs, e
	}
	if !d.started {
		d.started = true
		model := r.Model
		if model == "" {
			model = d.model
		}
		evs = append(evs, llm.Event{Type: llm.EventStart, ID: newID(), Model: model})
	}
	if m := r.Message; m != nil {
		if m.Thinking != "" {
			evs = d.fragment(openThinking, llm.EventThinking, m.Thinking, evs)
		}
		if m.Content != "" {
			evs = d.fragment(openText, llm.EventText, m.Content, evs)
		}
		for i, tc := range m.ToolCalls {
			if tc.Function.Name == "" {
				return evs, d.errorf("message.tool_calls[%d].function has no name", i)
			}
			args, ok := compactArgs(tc.Function.Arguments)
			if !ok {
				return evs, d.errorf("message.tool_calls[%d].function.arguments is not a JSON object", i)
			}
			id := tc.ID
			if id == "" {
				id = fmt.Sprintf("call_%d", d.calls)
			}
			d.calls++
			evs = append(evs, llm.Event{Type: llm.EventToolCall, Index: d.nparts,
				ToolCall: &llm.ToolCall{ID: id, Name: tc.Function.Name, Arguments: args}})
			d.nparts++
			d.open = openNone
		}
	}
	if r.Done {
		d.done, d.doneReason = true, r.DoneReason
		d.usage = llm.Usage{Input: max(r.PromptEvalCount, 0), Output: max(r.EvalCount, 0)}
	}
	return evs, nil
}

// fragment appends a text or thinking fragment, opening a part when the
// previous one is of another kind.
func (d *decoder) fragment(kind open, typ llm.EventType, text string, evs []llm.Event) []llm.Event {
	if d.open != kind {
		d.open = kind
		d.nparts++
	}
	return append(evs, llm.Event{Type: typ, Index: d.nparts - 1, Text: text})
}

// finish appends the stop and usage events once the response is complete.
func (d *decoder) finish(evs []llm.Event) ([]llm.Event, error) {
	if !d.started {
		return evs, d.errorf("the stream ended before any response")
	}
	if !d.done && !d.whole {
		return evs, d.errorf("the stream ended before the line marked done (truncated)")
	}
	var stop llm.StopReason
	switch {
	case d.doneReason == "length":
		stop = llm.StopLength
	case d.calls > 0:
		stop = llm.StopToolCalls
	default:
		stop = llm.StopEnd
	}
	u := d.usage
	return append(evs, llm.Event{Type: llm.EventStop, StopReason: stop}, llm.Event{Type: llm.EventUsage, Usage: &u}), nil
}

// compactArgs renders tool-call arguments (an object) as compact JSON text.
func compactArgs(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "{}", true
	}
	if t[0] != '{' {
		return "", false
	}
	var buf bytes.Buffer
	if json.Compact(&buf, t) != nil {
		return "", false
	}
	return buf.String(), true
}
