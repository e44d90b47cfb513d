package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

// stream reads an Anthropic event stream as canonical events.
type stream struct {
	ctx    context.Context
	cancel context.CancelFunc
	body   io.ReadCloser
	r      *sse.Reader
	dec    decoder
	queue  []llm.Event
	qi     int
	err    error
	once   sync.Once
}

func newStream(ctx context.Context, cancel context.CancelFunc, body io.ReadCloser, provider string) *stream {
	return &stream{ctx: ctx, cancel: cancel, body: body, r: sse.NewReader(body), dec: decoder{provider: provider}}
}

// Recv returns the next canonical event, io.EOF after message_stop, or the
// error that ended the stream.
func (s *stream) Recv() (llm.Event, error) {
	for {
		if s.qi < len(s.queue) {
			ev := s.queue[s.qi]
			s.qi++
			return ev, nil
		}
		if s.err != nil {
			return llm.Event{}, s.err
		}
		s.queue, s.qi = s.queue[:0], 0
		if s.dec.done {
			s.err = io.EOF
			continue
		}
		ev, err := s.r.Next()
		if err != nil {
			s.err = s.readError(err)
			continue
		}
		s.queue, err = s.dec.feed(s.queue, ev.Event, ev.Data)
		if err != nil {
			s.err = err
		}
	}
}

func (s *stream) readError(err error) error {
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		if s.ctx.Err() != nil {
			return llm.FromTransport(s.ctx, s.dec.provider, s.ctx.Err())
		}
		return s.dec.errorf(llm.KindConnection, "the stream ended before message_stop")
	case errors.Is(err, sse.ErrLineTooLong):
		return s.dec.errorf(llm.KindServer, "stream line longer than %d bytes", sse.MaxLine)
	}
	return llm.FromTransport(s.ctx, s.dec.provider, err)
}

// Close releases the connection and cancels the call if it is still
// running. It may be called more than once, from any goroutine.
func (s *stream) Close() error {
	s.once.Do(func() {
		s.cancel()
		_ = s.body.Close()
	})
	return nil
}

// blockState is one content block of the stream.
type blockState struct {
	kind   string // "text", "thinking", "tool_use", or "" for a block with no canonical form
	part   int    // canonical part index
	closed bool
}

// decoder turns Anthropic stream events into canonical ones. It checks the
// order of events and keeps the usage, which it reports after the stop.
type decoder struct {
	provider string
	started  bool
	stopped  bool
	done     bool
	lastWire int // highest block index started, -1 before any after start
	parts    int // canonical parts opened
	blocks   map[int]*blockState
	usage    llm.Usage
	ev       wireEvent
}

func (d *decoder) errorf(kind llm.ErrorKind, format string, args ...any) *llm.Error {
	e := llm.Errorf(kind, "anthropic: stream: "+format, args...)
	e.Provider = d.provider
	return e
}

// feed folds one SSE event in and appends the canonical events it yields.
func (d *decoder) feed(out []llm.Event, name string, data []byte) ([]llm.Event, error) {
	if name == "ping" {
		return out, nil
	}
	d.ev = wireEvent{}
	ev := &d.ev
	if err := json.Unmarshal(data, ev); err != nil {
		if name == "" || knownEvent(name) {
			return out, d.errorf(llm.KindServer, "event %q: data is not a JSON event: %v", name, err)
		}
		return out, nil // an unknown event type: ignore it whatever it holds
	}
	typ := ev.Type
	if typ == "" {
		typ = name
	}
	if typ == "error" {
		if ev.Error == nil {
			return out, d.errorf(llm.KindServer, "error event without an error object")
		}
		return out, eventError(d.provider, ev.Error)
	}
	if !knownEvent(typ) || typ == "ping" {
		return out, nil
	}
	if typ != "message_start" && !d.started {
		return out, d.errorf(llm.KindServer, "%s before message_start", typ)
	}
	switch typ {
	case "message_start":
		if d.started {
			return out, d.errorf(llm.KindServer, "second message_start")
		}
		if ev.Message == nil {
			return out, d.errorf(llm.KindServer, "message_start without a message")
		}
		d.started, d.lastWire = true, -1
		applyUsage(&d.usage, &ev.Message.Usage)
		return append(out, llm.Event{Type: llm.EventStart, ID: ev.Message.ID, Model: ev.Message.Model}), nil
	case "content_block_start":
		return d.blockStart(out, ev)
	case "content_block_delta":
		return d.blockDelta(out, ev)
	case "content_block_stop":
		b, err := d.block(ev.Index, typ)
		if err != nil {
			return out, err
		}
		b.closed = true
		return out, nil
	case "message_delta":
		applyUsage(&d.usage, ev.Usage)
		if ev.Delta != nil && ev.Delta.StopReason != nil && !d.stopped {
			d.stopped = true
			stop := llm.Event{Type: llm.EventStop, StopReason: stopReason(*ev.Delta.StopReason)}
			if stop.StopReason == llm.StopSequence && ev.Delta.StopSequence != nil {
				stop.StopSequence = *ev.Delta.StopSequence
			}
			out = append(out, stop)
		}
		return out, nil
	case "message_stop":
		if !d.stopped {
			d.stopped = true
			out = append(out, llm.Event{Type: llm.EventStop, StopReason: llm.StopEnd})
		}
		d.done = true
		u := d.usage
		return append(out, llm.Event{Type: llm.EventUsage, Usage: &u}), nil
	}
	return out, nil
}

func knownEvent(typ string) bool {
	switch typ {
	case "message_start", "content_block_start", "content_block_delta", "content_block_stop",
		"message_delta", "message_stop", "ping", "error":
		return true
	}
	return false
}

func (d *decoder) blockStart(out []llm.Event, ev *wireEvent) ([]llm.Event, error) {
	if ev.Index == nil || ev.ContentBlock == nil {
		return out, d.errorf(llm.KindServer, "content_block_start without index or content_block")
	}
	if d.stopped {
		return out, d.errorf(llm.KindServer, "content_block_start after the stop reason")
	}
	i := *ev.Index
	if i <= d.lastWire {
		return out, d.errorf(llm.KindServer, "content_block_start index %d after index %d", i, d.lastWire)
	}
	d.lastWire = i
	cb := ev.ContentBlock
	b := &blockState{part: d.parts}
	switch cb.Type {
	case "text":
		out = append(out, llm.Event{Type: llm.EventText, Index: b.part, Text: cb.Text})
	case "thinking":
		out = append(out, llm.Event{Type: llm.EventThinking, Index: b.part, Text: cb.Thinking, Signature: cb.Signature})
	case "tool_use":
		tc := &llm.ToolCall{ID: cb.ID, Name: cb.Name}
		if args := compactObject(cb.Input); args != "{}" {
			tc.Arguments = args
		}
		out = append(out, llm.Event{Type: llm.EventToolCall, Index: b.part, ToolCall: tc})
	default:
		b.part = -1 // no canonical form (redacted thinking, server tools): skipped
	}
	if b.part >= 0 {
		b.kind = cb.Type
		d.parts++
	}
	if d.blocks == nil {
		d.blocks = make(map[int]*blockState, 4)
	}
	d.blocks[i] = b
	return out, nil
}

// block returns the open block an event names.
func (d *decoder) block(index *int, typ string) (*blockState, error) {
	if index == nil {
		return nil, d.errorf(llm.KindServer, "%s without index", typ)
	}
	b := d.blocks[*index]
	if b == nil {
		return nil, d.errorf(llm.KindServer, "%s for block %d, which was not started", typ, *index)
	}
	if b.closed {
		return nil, d.errorf(llm.KindServer, "%s for block %d, which was stopped", typ, *index)
	}
	return b, nil
}

func (d *decoder) blockDelta(out []llm.Event, ev *wireEvent) ([]llm.Event, error) {
	b, err := d.block(ev.Index, "content_block_delta")
	if err != nil {
		return out, err
	}
	if ev.Delta == nil {
		return out, d.errorf(llm.KindServer, "content_block_delta without delta")
	}
	if d.stopped {
		return out, d.errorf(llm.KindServer, "content_block_delta after the stop reason")
	}
	if b.kind == "" {
		return out, nil
	}
	dl := ev.Delta
	want := ""
	switch dl.Type {
	case "text_delta":
		want = "text"
		if b.kind == want && dl.Text != "" {
			out = append(out, llm.Event{Type: llm.EventText, Index: b.part, Text: dl.Text})
		}
	case "thinking_delta":
		want = "thinking"
		if b.kind == want && dl.Thinking != "" {
			out = append(out, llm.Event{Type: llm.EventThinking, Index: b.part, Text: dl.Thinking})
		}
	case "signature_delta":
		want = "thinking"
		if b.kind == want && dl.Signature != "" {
			out = append(out, llm.Event{Type: llm.EventThinking, Index: b.part, Signature: dl.Signature})
		}
	case "input_json_delta":
		want = "tool_use"
		if b.kind == want && dl.PartialJSON != "" {
			out = append(out, llm.Event{Type: llm.EventToolArgs, Index: b.part, ToolCall: &llm.ToolCall{Arguments: dl.PartialJSON}})
		}
	default:
		return out, nil // citations_delta and future delta types
	}
	if b.kind != want {
		return out, d.errorf(llm.KindServer, "%s for block %d of type %s", dl.Type, *ev.Index, b.kind)
	}
	return out, nil
}
