package llm

import (
	"errors"
	"fmt"
	"io"
)

// Accumulator folds stream events into a [Response]. It checks the stream's
// shape (start first, indices in order, nothing after the stop but usage),
// so adapters' tests can use it as the referee. The zero value is ready.
type Accumulator struct {
	resp    Response
	started bool
	stopped bool
	args    map[int][]byte
}

// Add folds one event in.
func (a *Accumulator) Add(ev Event) error {
	if ev.Type != EventStart && !a.started {
		return fmt.Errorf("llm: stream event %d before start", ev.Type)
	}
	switch ev.Type {
	case EventStart:
		if a.started {
			return errors.New("llm: second stream start")
		}
		a.started = true
		a.resp.ID, a.resp.Model = ev.ID, ev.Model
		return nil
	case EventUsage:
		if ev.Usage != nil {
			a.resp.Usage = *ev.Usage
		}
		return nil
	case EventStop:
		if a.stopped {
			return errors.New("llm: second stream stop")
		}
		a.stopped = true
		a.resp.StopReason, a.resp.StopSequence = ev.StopReason, ev.StopSequence
		return nil
	}
	if a.stopped {
		return fmt.Errorf("llm: content event %d after stop", ev.Type)
	}
	switch ev.Type {
	case EventText, EventThinking:
		kind := PartText
		if ev.Type == EventThinking {
			kind = PartThinking
		}
		p, err := a.part(ev.Index, kind)
		if err != nil {
			return err
		}
		p.Text += ev.Text
		if ev.Signature != "" {
			p.Signature = ev.Signature
		}
	case EventToolCall:
		if ev.ToolCall == nil {
			return errors.New("llm: tool-call event without a tool call")
		}
		if ev.Index != len(a.resp.Parts) {
			return fmt.Errorf("llm: tool call opens part %d, want %d", ev.Index, len(a.resp.Parts))
		}
		a.resp.Parts = append(a.resp.Parts, Part{Kind: PartToolCall, ToolCall: &ToolCall{ID: ev.ToolCall.ID, Name: ev.ToolCall.Name}})
		if a.args == nil {
			a.args = make(map[int][]byte)
		}
		a.args[ev.Index] = append(a.args[ev.Index], ev.ToolCall.Arguments...)
	case EventToolArgs:
		if ev.Index < 0 || ev.Index >= len(a.resp.Parts) || a.resp.Parts[ev.Index].Kind != PartToolCall {
			return fmt.Errorf("llm: tool arguments for part %d, which is not a tool call", ev.Index)
		}
		if ev.ToolCall != nil {
			a.args[ev.Index] = append(a.args[ev.Index], ev.ToolCall.Arguments...)
		}
	default:
		return fmt.Errorf("llm: unknown stream event type %d", ev.Type)
	}
	return nil
}

// part returns the part at index, opening it if index is the next one.
func (a *Accumulator) part(index int, kind PartKind) (*Part, error) {
	switch {
	case index == len(a.resp.Parts):
		a.resp.Parts = append(a.resp.Parts, Part{Kind: kind})
	case index < 0 || index > len(a.resp.Parts):
		return nil, fmt.Errorf("llm: event for part %d, but %d parts are open", index, len(a.resp.Parts))
	case a.resp.Parts[index].Kind != kind:
		return nil, fmt.Errorf("llm: event of kind %d for part %d of kind %d", kind, index, a.resp.Parts[index].Kind)
	}
	return &a.resp.Parts[index], nil
}

// Started reports whether the start event was seen.
func (a *Accumulator) Started() bool { return a.started }

// Stopped reports whether the stop event was seen.
func (a *Accumulator) Stopped() bool { return a.stopped }

// Response returns what was accumulated so far, tool-call arguments joined.
// Arguments of a tool call that never received any are "{}".
func (a *Accumulator) Response() *Response {
	r := a.resp
	r.Parts = make([]Part, len(a.resp.Parts))
	copy(r.Parts, a.resp.Parts)
	for i, p := range r.Parts {
		if p.Kind == PartToolCall {
			tc := *p.ToolCall
			tc.Arguments = string(a.args[i])
			if tc.Arguments == "" {
				tc.Arguments = "{}"
			}
			r.Parts[i].ToolCall = &tc
		}
	}
	return &r
}

// Collect reads s to the end and returns the accumulated response. It closes
// s. On a stream error it returns what was read so far together with it.
func Collect(s Stream) (*Response, error) {
	defer s.Close()
	var a Accumulator
	for {
		ev, err := s.Recv()
		if err == io.EOF {
			return a.Response(), nil
		}
		if err != nil {
			return a.Response(), err
		}
		if err := a.Add(ev); err != nil {
			return a.Response(), err
		}
	}
}
