package gqlsse

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
)

// Options configures a [Handler]. Zero values take the Default… values.
type Options struct {
	// Init authorizes each request (called with a nil payload) and returns
	// the context its operation runs in; nil accepts every request. An error
	// is answered 401 when it wraps gqlws.ErrUnauthenticated, 403 otherwise.
	Init gqlws.InitFunc
	// MaxBodyBytes caps a POST body (413 beyond).
	MaxBodyBytes int64
	// Heartbeat is the interval of ":" comment lines on an idle stream.
	Heartbeat time.Duration
	// WriteTimeout bounds the write of one event; a client that does not
	// take it in time is disconnected.
	WriteTimeout time.Duration
	// MaxStreamsPerClient caps the concurrent streams of one client, as
	// named by ClientKey (429 beyond); 0 means no cap.
	MaxStreamsPerClient int
	// ClientKey names the client of a request for MaxStreamsPerClient. It
	// runs after Init and may read the principal from ctx; nil uses the
	// remote IP address.
	ClientKey func(ctx context.Context, r *http.Request) string
	// Next serves requests that do not accept text/event-stream (plain
	// GraphQL over HTTP, GraphiQL); nil answers 406.
	Next http.Handler
	// Logger receives stream lifecycle records; nil discards them.
	Logger *slog.Logger
}

// Default option values.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultHeartbeat    = 15 * time.Second
	DefaultWriteTimeout = 10 * time.Second
)

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ClientKey == nil {
		o.ClientKey = remoteIP
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func remoteIP(_ context.Context, r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

var errShutdown = errors.New("server shutting down")

// Handler serves GraphQL over SSE in distinct connections mode: one
// request, one operation, one event stream. Stop it with
// [Handler.Shutdown].
type Handler struct {
	exec gqlws.Executor
	opts Options

	mu       sync.Mutex
	draining bool
	streams  map[*context.CancelCauseFunc]struct{}
	clients  map[string]int // open streams per ClientKey
	wg       sync.WaitGroup
}

// NewHandler returns an SSE handler running operations on exec.
func NewHandler(exec gqlws.Executor, opts Options) *Handler {
	return &Handler{
		exec:    exec,
		opts:    opts.withDefaults(),
		streams: map[*context.CancelCauseFunc]struct{}{},
		clients: map[string]int{},
	}
}

// ServeHTTP streams the results of one operation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !acceptsEventStream(r) {
		if h.opts.Next != nil {
			h.opts.Next.ServeHTTP(w, r)
			return
		}
		writeError(w, &httpError{http.StatusNotAcceptable, "NOT_ACCEPTABLE", "Accept must include text/event-stream"})
		return
	}
	req, herr := parseRequest(w, r, h.opts.MaxBodyBytes)
	if herr != nil {
		writeError(w, herr)
		return
	}
	ctx := r.Context()
	if h.opts.Init != nil {
		c, err := h.opts.Init(ctx, r, nil)
		if err != nil {
			h.opts.Logger.Info("request refused", "remote", r.RemoteAddr, "err", err)
			if errors.Is(err, gqlws.ErrUnauthenticated) {
				writeError(w, &httpError{http.StatusUnauthorized, "UNAUTHENTICATED", "Unauthorized"})
			} else {
				writeError(w, &httpError{http.StatusForbidden, "FORBIDDEN", "Forbidden"})
			}
			return
		}
		if c != nil {
			ctx = c
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	key := h.opts.ClientKey(ctx, r)
	if herr := h.admit(key, &cancel); herr != nil {
		writeError(w, herr)
		return
	}
	defer h.release(key, &cancel)

	results, err := h.exec.Subscribe(ctx, req)
	var reqErr *gqlws.RequestError
	if err != nil && !errors.As(err, &reqErr) {
		h.opts.Logger.Error("operation failed to start", "err", err)
		writeError(w, &httpError{http.StatusInternalServerError, "INTERNAL", "Internal server error"})
		return
	}
	s := &stream{w: w, rc: http.NewResponseController(w), timeout: h.opts.WriteTimeout}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if reqErr != nil { // pre-execution errors travel in a next event
		_ = s.event("next", &graphql.Response{Errors: reqErr.Errors})
		_ = s.event("complete", nil)
		return
	}
	if s.flush() != nil {
		cancel(nil)
	}
	h.pump(ctx, cancel, s, results)
}

// pump forwards results until the stream ends, the client leaves or the
// server shuts down; it returns once results is closed.
func (h *Handler) pump(ctx context.Context, cancel context.CancelCauseFunc, s *stream, results <-chan *graphql.Response) {
	defer func() {
		for range results { // the executor closes it once ctx is done
		}
	}()
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case resp, ok := <-results:
			if !ok {
				_ = s.event("complete", nil)
				return
			}
			if err := s.event("next", resp); err != nil {
				cancel(err)
				return
			}
		case <-heartbeat.C:
			if err := s.comment(); err != nil {
				cancel(err)
				return
			}
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), errShutdown) {
				_ = s.event("complete", nil)
			}
			return
		}
	}
}

func (h *Handler) admit(key string, cancel *context.CancelCauseFunc) *httpError {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return &httpError{http.StatusServiceUnavailable, "UNAVAILABLE", "server shutting down"}
	}
	if max := h.opts.MaxStreamsPerClient; max > 0 && h.clients[key] >= max {
		return &httpError{http.StatusTooManyRequests, "TOO_MANY_STREAMS", "too many concurrent streams"}
	}
	h.clients[key]++
	h.streams[cancel] = struct{}{}
	h.wg.Add(1)
	return nil
}

func (h *Handler) release(key string, cancel *context.CancelCauseFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients[key]--; h.clients[key] <= 0 {
		delete(h.clients, key)
	}
	delete(h.streams, cancel)
	h.wg.Done()
}

// Shutdown refuses new streams, ends the open ones with a complete event
// and waits for them, or until ctx ends. Call it before (or from
// RegisterOnShutdown of) http.Server.Shutdown, which waits for streaming
// handlers to return.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.draining = true
	for cancel := range h.streams {
		(*cancel)(errShutdown)
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stream writes SSE events with a deadline each.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (s *stream) event(name string, data any) error {
	buf := []byte("event: " + name + "\ndata:")
	if data != nil {
		b, err := json.Marshal(data) // compact: no newline inside
		if err != nil {
			return err
		}
		buf = append(append(buf, ' '), b...)
	}
	return s.write(append(buf, "\n\n"...))
}

func (s *stream) comment() error { return s.write([]byte(":\n\n")) }

func (s *stream) write(b []byte) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.flush()
}

func (s *stream) flush() error {
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func writeError(w http.ResponseWriter, e *httpError) {
	if e.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, POST")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": e.msg, "extensions": map[string]any{"code": e.code}}},
	})
}
