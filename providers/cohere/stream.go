package cohere

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

// Groups of Cohere's separately numbered stream items.
const (
	groupContent = iota
	groupTool
	groupPlan
)

// partKey names one Cohere stream item of one kind.
type partKey struct {
	group int
	index int
	kind  llm.PartKind
}

// stream reads a streamed /v2/chat answer. Recv is not safe for concurrent
// use; Close may be called from any goroutine.
type stream struct {
	ctx      context.Context
	cancel   context.CancelFunc
	provider string
	body     io.ReadCloser
	r        *sse.Reader
	model    string

	id       string
	started  bool
	stopped  bool
	done     bool
	err      error
	pending  []llm.Event
	kinds    map[int]llm.PartKind // content index → kind, from content-start
	parts    map[partKey]int
	next     int
	closeOne sync.Once
	closed   atomic.Bool // set by Close, read by Recv
}

func newStream(ctx context.Context, cancel context.CancelFunc, provider string, body io.ReadCloser, model string) *stream {
	return &stream{
		ctx: ctx, cancel: cancel, provider: provider, body: body, r: sse.NewReader(body), model: model,
		kinds: map[int]llm.PartKind{}, parts: map[partKey]int{},
	}
}

// Recv returns the next canonical event, io.EOF after the usage event, or
// the error that ended the stream.
func (s *stream) Recv() (llm.Event, error) {
	if s.closed.Load() && !s.done && s.err == nil {
		s.pending = nil
		s.err = &llm.Error{Kind: llm.KindCancelled, Status: 499, Message: "cohere: the stream was closed", Provider: s.provider}
	}
	for {
		if len(s.pending) > 0 {
			ev := s.pending[0]
			s.pending = s.pending[1:]
			return ev, nil
		}
		if s.err != nil {
			return llm.Event{}, s.err
		}
		if s.done {
			return llm.Event{}, io.EOF
		}
		if err := s.step(); err != nil {
			s.err = err
			s.release()
		} else if s.done {
			s.release()
		}
	}
}

// Close releases the connection; before the end it cancels the call.
func (s *stream) Close() error {
	s.closed.Store(true)
	s.release()
	return nil
}

func (s *stream) release() {
	s.closeOne.Do(func() {
		s.cancel()
		s.body.Close()
	})
}

// streamEvent is the data of one v2 stream event.
type streamEvent struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Index   int    `json:"index"`
	Message string `json:"message"`
	Delta   *struct {
		Message *struct {
			Content   json.RawMessage `json:"content"`
			ToolPlan  *string         `json:"tool_plan"`
			ToolCalls json.RawMessage `json:"tool_calls"`
		} `json:"message"`
		FinishReason string     `json:"finish_reason"`
		Error        string     `json:"error"`
		Usage        *wireUsage `json:"usage"`
	} `json:"delta"`
}

type streamContent struct {
	Type     string  `json:"type"`
	Text     *string `json:"text"`
	Thinking *string `json:"thinking"`
}

// step reads one SSE event and queues what it yields.
func (s *stream) step() error {
	ev, err := s.r.Next()
	if err != nil {
		switch {
		case err == io.EOF:
			return s.fail(llm.KindConnection, "the stream ended before message-end")
		case errors.Is(err, sse.ErrLineTooLong):
			return s.fail(llm.KindServer, "stream event line too long")
		}
		return llm.FromTransport(s.ctx, s.provider, fmt.Errorf("cohere: read stream: %w", err))
	}
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 {
		return nil
	}
	if string(data) == "[DONE]" {
		return s.fail(llm.KindConnection, "the stream ended before message-end")
	}
	var e streamEvent
	if err := json.Unmarshal(data, &e); err != nil {
		return s.fail(llm.KindServer, "unreadable stream event %q: %v", ev.Event, err)
	}
	typ := e.Type
	if typ == "" {
		typ = ev.Event
	}
	if typ == "" && e.Message != "" {
		return s.fail(llm.KindServer, "%s", e.Message)
	}
	return s.handle(typ, &e)
}

func (s *stream) handle(typ string, e *streamEvent) error {
	switch typ {
	case "message-start":
		if s.id == "" {
			s.id = e.ID
		}
		s.start()
		return nil
	case "message-end":
		return s.end(e)
	case "content-start", "content-delta", "tool-plan-delta", "tool-call-start", "tool-call-delta":
	default:
		return nil // content-end, tool-call-end, citations, debug, unknown
	}
	if s.stopped {
		return s.fail(llm.KindServer, "%s after message-end", typ)
	}
	s.start()
	var msg struct {
		Content   json.RawMessage
		ToolPlan  *string
		ToolCalls json.RawMessage
	}
	if e.Delta != nil && e.Delta.Message != nil {
		m := e.Delta.Message
		msg.Content, msg.ToolPlan, msg.ToolCalls = m.Content, m.ToolPlan, m.ToolCalls
	}
	switch typ {
	case "content-start", "content-delta":
		var c streamContent
		if err := firstObject(msg.Content, &c); err != nil {
			return s.fail(llm.KindServer, "%s: unreadable delta.message.content: %v", typ, err)
		}
		kind, known := s.kinds[e.Index]
		if typ == "content-start" || !known {
			kind = llm.PartText
			if c.Type == "thinking" || (c.Type == "" && c.Thinking != nil && c.Text == nil) {
				kind = llm.PartThinking
			}
			s.kinds[e.Index] = kind
		}
		frag := c.Text
		evType := llm.EventText
		if kind == llm.PartThinking {
			frag, evType = c.Thinking, llm.EventThinking
		}
		if frag != nil && *frag != "" {
			idx := s.index(partKey{groupContent, e.Index, kind})
			s.pending = append(s.pending, llm.Event{Type: evType, Index: idx, Text: *frag})
		}
	case "tool-plan-delta":
		if msg.ToolPlan != nil && *msg.ToolPlan != "" {
			idx := s.index(partKey{groupPlan, 0, llm.PartThinking})
			s.pending = append(s.pending, llm.Event{Type: llm.EventThinking, Index: idx, Text: *msg.ToolPlan})
		}
	case "tool-call-start":
		var tc wireToolCall
		if err := firstObject(msg.ToolCalls, &tc); err != nil {
			return s.fail(llm.KindServer, "tool-call-start: unreadable delta.message.tool_calls: %v", err)
		}
		key := partKey{groupTool, e.Index, llm.PartToolCall}
		if _, dup := s.parts[key]; dup {
			return s.fail(llm.KindServer, "second tool-call-start for tool call %d", e.Index)
		}
		if tc.Function == nil || tc.Function.Name == "" {
			return s.fail(llm.KindServer, "tool-call-start %d lacks a function name", e.Index)
		}
		call := &llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: fragment(tc.Function.Arguments)}
		s.pending = append(s.pending, llm.Event{Type: llm.EventToolCall, Index: s.index(key), ToolCall: call})
	case "tool-call-delta":
		var tc wireToolCall
		if err := firstObject(msg.ToolCalls, &tc); err != nil {
			return s.fail(llm.KindServer, "tool-call-delta: unreadable delta.message.tool_calls: %v", err)
		}
		idx, ok := s.parts[partKey{groupTool, e.Index, llm.PartToolCall}]
		if !ok {
			return s.fail(llm.KindServer, "tool-call-delta for tool call %d, which never started", e.Index)
		}
		if tc.Function != nil {
			if frag := fragment(tc.Function.Arguments); frag != "" {
				s.pending = append(s.pending, llm.Event{Type: llm.EventToolArgs, Index: idx, ToolCall: &llm.ToolCall{Arguments: frag}})
			}
		}
	}
	return nil
}

// end handles message-end: the stop and the usage, or Cohere's error.
func (s *stream) end(e *streamEvent) error {
	if s.stopped {
		return s.fail(llm.KindServer, "second message-end")
	}
	var reason, msg string
	var usage *wireUsage
	if e.Delta != nil {
		reason, msg, usage = e.Delta.FinishReason, e.Delta.Error, e.Delta.Usage
	}
	stop, ferr := finishReason(reason, msg)
	if ferr != nil {
		ferr.Provider = s.provider
		return ferr
	}
	s.start()
	s.stopped, s.done = true, true
	s.pending = append(s.pending, llm.Event{Type: llm.EventStop, StopReason: stop})
	if usage != nil {
		u := usage.canonical()
		s.pending = append(s.pending, llm.Event{Type: llm.EventUsage, Usage: &u})
	}
	return nil
}

// start queues EventStart once, before anything else.
func (s *stream) start() {
	if !s.started {
		s.started = true
		s.pending = append(s.pending, llm.Event{Type: llm.EventStart, ID: s.id, Model: s.model})
	}
}

// index returns the canonical index of an item, numbering it if new.
func (s *stream) index(k partKey) int {
	if idx, ok := s.parts[k]; ok {
		return idx
	}
	idx := s.next
	s.next++
	s.parts[k] = idx
	return idx
}

// firstObject decodes raw, an object or a list of them (the first is
// taken), into v; absent or null leaves v as it is.
func firstObject(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return err
		}
		if len(list) == 0 {
			return nil
		}
		raw = list[0]
	}
	return json.Unmarshal(raw, v)
}

// fragment is an arguments fragment: a JSON string's text (Cohere's form),
// or raw JSON as it came.
func fragment(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// fail makes the stream's *llm.Error.
func (s *stream) fail(kind llm.ErrorKind, format string, args ...any) *llm.Error {
	e := llm.Errorf(kind, "cohere: "+format, args...)
	e.Provider = s.provider
	return e
}
