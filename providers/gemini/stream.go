package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

// stream reads a streamGenerateContent?alt=sse body. Recv is for one
// goroutine; Close may be called from any, at any time.
type stream struct {
	ctx    context.Context
	cancel context.CancelFunc
	body   io.ReadCloser
	r      *sse.Reader
	dec    decoder
	queue  []llm.Event
	done   bool  // stop (and usage) queued: io.EOF follows
	err    error // sticky: every Recv after a failure returns it

	closeOnce sync.Once
}

func newStream(ctx context.Context, cancel context.CancelFunc, name, model string, body io.ReadCloser) *stream {
	return &stream{ctx: ctx, cancel: cancel, body: body, r: sse.NewReader(body), dec: decoder{name: name, model: model}}
}

// Recv returns the next event, io.EOF after the last, or an *llm.Error.
func (s *stream) Recv() (llm.Event, error) {
	for {
		if len(s.queue) > 0 {
			ev := s.queue[0]
			s.queue = s.queue[1:]
			return ev, nil
		}
		if s.err != nil {
			return llm.Event{}, s.err
		}
		if s.done {
			return llm.Event{}, io.EOF
		}
		s.queue, s.err = s.next(s.queue[:0])
	}
}

// next reads one SSE event and returns the canonical events it makes.
func (s *stream) next(evs []llm.Event) ([]llm.Event, error) {
	ev, err := s.r.Next()
	switch {
	case err == io.EOF:
		s.done = true
		return s.dec.finish(evs)
	case errors.Is(err, sse.ErrLineTooLong):
		return evs, s.dec.errorf("a stream line is longer than %d bytes", sse.MaxLine)
	case err != nil:
		return evs, llm.FromTransport(s.ctx, s.dec.name, err)
	}
	if len(ev.Data) == 0 {
		return evs, nil
	}
	var chunk response
	if err := json.Unmarshal(ev.Data, &chunk); err != nil {
		return evs, s.dec.errorf("a stream chunk is not a GenerateContentResponse: %v", err)
	}
	if chunk.Error != nil {
		status := chunk.Error.Code
		if status == 0 {
			status = http.StatusInternalServerError
		}
		msg := chunk.Error.Message
		if msg == "" {
			msg = "the provider failed mid-stream"
		}
		return evs, llm.FromStatus(s.dec.name, status, chunk.Error.Status, msg, 0)
	}
	return s.dec.add(&chunk, evs)
}

// Close releases the connection; before io.EOF it cancels the call.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		_ = s.body.Close()
	})
	return nil
}
