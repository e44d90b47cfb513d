package ollama

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// MaxLine bounds one NDJSON line of a stream, so that a hostile upstream
// cannot make the reader buffer without limit.
const MaxLine = 8 << 20

var errLineTooLong = errors.New("ollama: stream line too long")

// lineReader reads newline-delimited lines of at most MaxLine bytes.
type lineReader struct {
	r    *bufio.Reader
	line []byte
}

// next returns the next line without its end (LF or CRLF); a last line
// without a newline is returned too. It returns io.EOF at the end.
func (l *lineReader) next() ([]byte, error) {
	l.line = l.line[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		l.line = append(l.line, chunk...)
		if len(l.line) > MaxLine {
			return nil, errLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(l.line) > 0 {
				return bytes.TrimRight(l.line, "\r"), nil
			}
			return nil, err
		}
		return bytes.TrimRight(l.line[:len(l.line)-1], "\r"), nil
	}
}

// stream reads an NDJSON /api/chat body. Recv is for one goroutine; Close
// may be called from any, at any time.
type stream struct {
	ctx    context.Context
	cancel context.CancelFunc
	body   io.ReadCloser
	lines  lineReader
	dec    decoder
	queue  []llm.Event
	over   bool  // stop (and usage) queued: io.EOF follows
	err    error // sticky: every Recv after a failure returns it

	closeOnce sync.Once
}

func newStream(ctx context.Context, cancel context.CancelFunc, name, model string, body io.ReadCloser) *stream {
	return &stream{ctx: ctx, cancel: cancel, body: body, lines: lineReader{r: bufio.NewReaderSize(body, 16<<10)},
		dec: decoder{name: name, model: model}}
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
		if s.over {
			return llm.Event{}, io.EOF
		}
		s.queue, s.err = s.next(s.queue[:0])
	}
}

// next reads one line and returns the canonical events it makes. After the
// line marked done it reads no further.
func (s *stream) next(evs []llm.Event) ([]llm.Event, error) {
	line, err := s.lines.next()
	switch {
	case err == io.EOF:
		s.over = true
		return s.dec.finish(evs)
	case errors.Is(err, errLineTooLong):
		return evs, s.dec.errorf("a stream line is longer than %d bytes", MaxLine)
	case err != nil:
		return evs, llm.FromTransport(s.ctx, s.dec.name, err)
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return evs, nil
	}
	var r chatResponse
	if err := json.Unmarshal(line, &r); err != nil {
		return evs, s.dec.errorf("a stream line is not a chat response: %v", err)
	}
	if evs, err = s.dec.add(&r, evs); err != nil {
		return evs, err
	}
	if s.dec.done {
		s.over = true
		return s.dec.finish(evs)
	}
	return evs, nil
}

// Close releases the connection; before io.EOF it cancels the call.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		_ = s.body.Close()
	})
	return nil
}
