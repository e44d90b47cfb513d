package sim

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// dialect is one wire format's way of answering a chat request.
type dialect interface {
	name() string
	caps() caps
	// writeError answers with an error in the format's shape.
	writeError(w http.ResponseWriter, e *apiError)
	// writeReply answers with a whole (not streamed) reply.
	writeReply(w http.ResponseWriter, c *call, rp *reply)
	// encoder returns the encoder of a streamed reply.
	encoder(c *call, rp *reply) encoder
}

// encoder writes a streamed reply, one step at a time, by appending its
// wire form to a buffer that the driver writes and flushes after each
// delta. Block i is rp.blocks[i].
type encoder interface {
	contentType() string
	begin(b []byte) []byte
	blockStart(b []byte, i int) []byte
	delta(b []byte, i int, frag string) []byte
	blockStop(b []byte, i int) []byte
	// end closes the stream: stop reason, usage, terminator.
	end(b []byte) []byte
	// fail writes the format's mid-stream error.
	fail(b []byte, e *apiError) []byte
}

// apiError is an error answer, before the format shapes it.
type apiError struct {
	status  int
	message string
	// code is a format-specific error type or code when the status alone
	// does not tell it ("invalid_api_key", "API_KEY_INVALID").
	code       string
	retryAfter time.Duration
}

func errorf(status int, message string) *apiError { return &apiError{status: status, message: message} }

// defaultMessage is the message of an error without one.
func defaultMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Rate limit exceeded (simulated). Please retry after a short wait."
	case 529:
		return "Overloaded (simulated)"
	case http.StatusServiceUnavailable:
		return "The service is temporarily unavailable (simulated)."
	case http.StatusInternalServerError:
		return "The server had an error while processing your request (simulated)."
	}
	if t := http.StatusText(status); t != "" {
		return t + " (simulated)"
	}
	return "Error " + strconv.Itoa(status) + " (simulated)"
}

// setRetryAfter writes Retry-After (whole seconds, at least 1) and, when ms
// is set, retry-after-ms.
func setRetryAfter(h http.Header, d time.Duration, ms bool) {
	if d <= 0 {
		return
	}
	h.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	if ms {
		h.Set("Retry-After-Ms", strconv.FormatInt(d.Milliseconds(), 10))
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// interval is the pause between two tokens, 0 without pacing.
func (c *Config) interval() time.Duration {
	if c.TokensPerSecond <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / c.TokensPerSecond)
}

// serveChat answers a decoded, authorised chat request after the
// configured latency: injected failures, the
// scripted or generated reply, timing, and the whole or streamed answer.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request, d dialect, c *call, cfg *Config) {
	ctx := r.Context()
	if st := s.roll(cfg); st != 0 {
		e := errorf(st, defaultMessage(st))
		if st == http.StatusTooManyRequests {
			e.retryAfter = cfg.RetryAfter
			if e.retryAfter <= 0 {
				e.retryAfter = time.Second
			}
		}
		d.writeError(w, e)
		return
	}
	st, scripted := s.next(c.model)
	rp := s.build(c, &st, scripted, d.caps(), cfg)
	if !sleep(ctx, rp.delay) {
		return
	}
	if rp.hang && (!c.stream || rp.errAfter == 0) {
		<-ctx.Done()
		return
	}
	if rp.status != 0 && (rp.errAfter == 0 || !c.stream) {
		msg := rp.message
		if msg == "" {
			msg = defaultMessage(rp.status)
		}
		d.writeError(w, &apiError{status: rp.status, message: msg, retryAfter: rp.retryAfter})
		return
	}
	if !c.stream {
		wait := cfg.TTFT
		if iv := cfg.interval(); iv > 0 {
			n := 0
			for _, b := range rp.blocks {
				n += len(b.frags)
			}
			wait += time.Duration(n) * iv
		}
		if !sleep(ctx, wait) {
			return
		}
		d.writeReply(w, c, rp)
		return
	}
	s.stream(w, r, d.encoder(c, rp), rp, cfg)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// stream drives a streamed reply: one delta per token or fragment, each
// written and flushed, paced by the configuration. It returns when the
// client goes away.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, enc encoder, rp *reply, cfg *Config) {
	ctx := r.Context()
	h := w.Header()
	h.Set("Content-Type", enc.contentType())
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= 64<<10 {
			*bp = buf[:0]
			bufPool.Put(bp)
		}
	}()
	flush := func() bool {
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				return false
			}
			buf = buf[:0]
		}
		return rc.Flush() == nil && ctx.Err() == nil
	}
	fail := func() {
		if rp.hang {
			flush()
			<-ctx.Done()
			return
		}
		msg := rp.message
		if msg == "" {
			msg = defaultMessage(rp.status)
		}
		buf = enc.fail(buf, &apiError{status: rp.status, message: msg})
		flush()
	}
	buf = enc.begin(buf)
	if !flush() || !sleep(ctx, cfg.TTFT) {
		return
	}
	iv := cfg.interval()
	sent := 0
	for i := range rp.blocks {
		buf = enc.blockStart(buf, i)
		for _, f := range rp.blocks[i].frags {
			if rp.errAfter > 0 && sent == rp.errAfter {
				fail()
				return
			}
			if sent > 0 && !sleep(ctx, iv) {
				return
			}
			buf = enc.delta(buf, i, f)
			if !flush() {
				return
			}
			sent++
		}
		buf = enc.blockStop(buf, i)
	}
	if rp.errAfter > 0 {
		fail()
		return
	}
	buf = enc.end(buf)
	flush()
}
