package openai

import (
	"bytes"
	"context"
	"io"
	"mime"
	"strconv"
	"sync"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

// Stream sends req with streaming on and returns the stream once the
// provider answered 2xx. Errors before that are returned here; later ones
// come from Recv.
func (c *Client) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	body, err := c.marshalChat(req, true)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	resp, err := c.post(sctx, "chat/completions", req.Model, body, true)
	if err != nil {
		cancel()
		return nil, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
		// The server ignored "stream": read the whole answer and replay it.
		defer cancel()
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
		if err != nil {
			return nil, llm.FromTransport(ctx, c.name, err)
		}
		if len(b) > maxResponseBody {
			return nil, badUpstream(c.name, "response larger than %d bytes", maxResponseBody)
		}
		r, err := c.decodeResponse(b)
		if err != nil {
			return nil, err
		}
		return &replay{events: responseEvents(r)}, nil
	}
	return newStream(sctx, cancel, c, resp.Body), nil
}

// stream decodes chat.completion.chunk events. Recv and Close may be called
// from different goroutines; Recv itself is not for concurrent use.
type stream struct {
	ctx    context.Context
	cancel context.CancelFunc
	c      *Client
	body   io.ReadCloser
	r      *sse.Reader

	closeOnce sync.Once

	queue []llm.Event
	head  int
	err   error // terminal: io.EOF or the stream's error

	started  bool
	stopped  bool
	finish   string
	refused  bool
	usage    *llm.Usage
	nparts   int
	text     int // part index of the text part, -1 before it opens
	think    int // part index of the thinking part, -1 before it opens
	tools    []toolSlot
	lastTool int // position in tools of the last tool call touched, -1 for none
	chunk    chunk
}

// toolSlot ties an OpenAI tool-call index to a canonical part index.
type toolSlot struct {
	index int // OpenAI's "index"; -1 when the server sent none
	id    string
	part  int
}

func newStream(ctx context.Context, cancel context.CancelFunc, c *Client, body io.ReadCloser) *stream {
	return &stream{ctx: ctx, cancel: cancel, c: c, body: body, r: sse.NewReader(body),
		text: -1, think: -1, lastTool: -1}
}

// Close releases the connection; before the end it cancels the upstream.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.body.Close()
	})
	return nil
}

// Recv returns the next event, io.EOF after the last one.
func (s *stream) Recv() (llm.Event, error) {
	for {
		if s.head < len(s.queue) {
			ev := s.queue[s.head]
			s.queue[s.head] = llm.Event{}
			s.head++
			return ev, nil
		}
		s.queue, s.head = s.queue[:0], 0
		if s.err != nil {
			return llm.Event{}, s.err
		}
		s.step()
	}
}

// step reads one SSE event and queues what it yields, or sets s.err.
func (s *stream) step() {
	ev, err := s.r.Next()
	if err != nil {
		s.end(err)
		return
	}
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 {
		return
	}
	if bytes.Equal(data, []byte("[DONE]")) {
		s.finishStream()
		s.fail(io.EOF)
		return
	}
	if err := decodeChunk(data, &s.chunk); err != nil {
		s.fail(badUpstream(s.c.name, "unreadable stream chunk: %v", err))
		return
	}
	s.handle(&s.chunk)
}

// end handles the end of the body or a read error.
func (s *stream) end(err error) {
	if err != io.EOF {
		if err == sse.ErrLineTooLong {
			s.fail(badUpstream(s.c.name, "stream line longer than %d bytes", sse.MaxLine))
			return
		}
		e := llm.FromTransport(s.ctx, s.c.name, err)
		if e.Kind == llm.KindConnection {
			e.Message = "the stream broke off: " + err.Error()
		}
		s.fail(e)
		return
	}
	if s.finish != "" && s.usage != nil {
		s.finishStream()
		s.fail(io.EOF)
		return
	}
	e := llm.Errorf(llm.KindConnection, "the stream ended before data: [DONE] (truncated)")
	e.Provider = s.c.name
	s.fail(e)
}

// fail makes err terminal and releases the connection.
func (s *stream) fail(err error) {
	s.err = err
	s.Close()
}

func (s *stream) push(ev llm.Event) { s.queue = append(s.queue, ev) }

// handle queues the events of one chunk.
func (s *stream) handle(ch *chunk) {
	if o, ok := ch.errorObject(); ok {
		s.fail(s.c.upstreamError(o))
		return
	}
	if string(ch.object) == "error" {
		s.fail(s.c.upstreamError(errorObject{Message: ch.message, Type: ch.typ}))
		return
	}
	if !s.started {
		if len(ch.id) == 0 && ch.choices <= 0 && !ch.hasUsage {
			return // Azure's prompt_filter_results chunk, or a keep-alive
		}
		s.started = true
		s.push(llm.Event{Type: llm.EventStart, ID: string(ch.id), Model: string(ch.model)})
	}
	if ch.choice && !s.stopped {
		s.delta(&ch.delta)
		if ch.finish != "" {
			s.finish = ch.finish
			s.stop()
		}
	}
	if ch.hasUsage {
		u := usageFrom(&ch.usage)
		s.usage = &u
	}
}

// delta queues the content events of choice 0's delta.
func (s *stream) delta(d *respMessage) {
	if t := thinking(d); t != "" {
		if s.think < 0 {
			s.think = s.open()
		}
		s.push(llm.Event{Type: llm.EventThinking, Index: s.think, Text: t})
	}
	text := d.Content
	if text == "" && d.Refusal != "" {
		text = d.Refusal
		s.refused = true
	}
	if text != "" {
		if s.text < 0 {
			s.text = s.open()
		}
		s.push(llm.Event{Type: llm.EventText, Index: s.text, Text: string(text)})
	}
	for i := range d.ToolCalls {
		s.toolDelta(&d.ToolCalls[i])
	}
}

func (s *stream) open() int {
	n := s.nparts
	s.nparts++
	return n
}

// toolDelta queues a tool-call fragment. Fragments are matched to calls by
// OpenAI's index; servers that send no index continue the last call unless
// the fragment carries a new id.
func (s *stream) toolDelta(tc *toolCall) {
	slot := -1
	if tc.Index != nil {
		for i := range s.tools {
			if s.tools[i].index == *tc.Index {
				slot = i
				break
			}
		}
	} else if s.lastTool >= 0 && (tc.ID == "" || tc.ID == s.tools[s.lastTool].id) {
		slot = s.lastTool
	}
	if slot >= 0 {
		s.lastTool = slot
		if tc.Function.Arguments != "" {
			s.push(llm.Event{Type: llm.EventToolArgs, Index: s.tools[slot].part,
				ToolCall: &llm.ToolCall{Arguments: tc.Function.Arguments}})
		}
		return
	}
	idx := -1
	if tc.Index != nil {
		idx = *tc.Index
	}
	part := s.open()
	id := tc.ID
	if id == "" {
		id = "call_" + strconv.Itoa(len(s.tools))
	}
	s.tools = append(s.tools, toolSlot{index: idx, id: tc.ID, part: part})
	s.lastTool = len(s.tools) - 1
	s.push(llm.Event{Type: llm.EventToolCall, Index: part,
		ToolCall: &llm.ToolCall{ID: id, Name: tc.Function.Name, Arguments: tc.Function.Arguments}})
}

// stop queues the stop event once.
func (s *stream) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	s.push(llm.Event{Type: llm.EventStop, StopReason: stopReason(s.finish, len(s.tools) > 0, s.refused)})
}

// finishStream queues what is still owed at the end: the start (for an
// empty stream), the stop and the usage.
func (s *stream) finishStream() {
	if !s.started {
		s.started = true
		s.push(llm.Event{Type: llm.EventStart})
	}
	s.stop()
	if s.usage != nil {
		s.push(llm.Event{Type: llm.EventUsage, Usage: s.usage})
		s.usage = nil
	}
}

// replay is a stream over events known in advance.
type replay struct {
	events []llm.Event
	i      int
}

func (r *replay) Recv() (llm.Event, error) {
	if r.i >= len(r.events) {
		return llm.Event{}, io.EOF
	}
	r.i++
	return r.events[r.i-1], nil
}

func (r *replay) Close() error { return nil }

// responseEvents is the event sequence that accumulates to r.
func responseEvents(r *llm.Response) []llm.Event {
	evs := []llm.Event{{Type: llm.EventStart, ID: r.ID, Model: r.Model}}
	for i, p := range r.Parts {
		switch p.Kind {
		case llm.PartText:
			evs = append(evs, llm.Event{Type: llm.EventText, Index: i, Text: p.Text})
		case llm.PartThinking:
			evs = append(evs, llm.Event{Type: llm.EventThinking, Index: i, Text: p.Text, Signature: p.Signature})
		case llm.PartToolCall:
			tc := *p.ToolCall
			evs = append(evs, llm.Event{Type: llm.EventToolCall, Index: i, ToolCall: &tc})
		}
	}
	u := r.Usage
	return append(evs, llm.Event{Type: llm.EventStop, StopReason: r.StopReason, StopSequence: r.StopSequence},
		llm.Event{Type: llm.EventUsage, Usage: &u})
}
