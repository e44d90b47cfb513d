package gqlws

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Options configures a [Handler]. Zero values take the Default… values.
type Options struct {
	// Init authorizes connection_init; nil accepts every connection and runs
	// its operations in the request context.
	Init InitFunc
	// InitTimeout bounds the wait for connection_init (close 4408).
	InitTimeout time.Duration
	// KeepAlive is the interval of server pings (a WebSocket ping frame, plus
	// a "ping" message on graphql-transport-ws or "ka" on the legacy
	// protocol). A connection from which nothing, not even a pong, arrives
	// for two intervals is closed.
	KeepAlive time.Duration
	// WriteTimeout bounds the write of one message; a client that does not
	// take it in time is disconnected.
	WriteTimeout time.Duration
	// ReadLimit is the largest message accepted, in bytes (close 1009).
	ReadLimit int64
	// SendQueue is the number of messages that may wait for the writer. A
	// connection whose queue is full is a slow consumer and is closed with
	// 1008 "slow consumer: N messages behind".
	SendQueue int
	// MaxOperations caps the active operations of one connection; a further
	// subscribe is answered with an "error" message.
	MaxOperations int
	// CheckOrigin vets the Origin header of the handshake; nil accepts
	// requests without Origin and those whose Origin host equals the Host.
	CheckOrigin func(r *http.Request) bool
	// DisableLegacy refuses the legacy "graphql-ws" subprotocol.
	DisableLegacy bool
	// Next serves requests that are not WebSocket upgrades; nil answers 400.
	Next http.Handler
	// Logger receives connection lifecycle records; nil discards them.
	Logger *slog.Logger
}

// Default option values.
const (
	DefaultInitTimeout   = 10 * time.Second
	DefaultKeepAlive     = 15 * time.Second
	DefaultWriteTimeout  = 10 * time.Second
	DefaultReadLimit     = 64 << 10
	DefaultSendQueue     = 256
	DefaultMaxOperations = 100
)

// closeGrace is how long a closing connection waits for the peer's close
// frame before dropping the TCP connection.
const closeGrace = time.Second

func (o Options) withDefaults() Options {
	if o.InitTimeout <= 0 {
		o.InitTimeout = DefaultInitTimeout
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.SendQueue <= 0 {
		o.SendQueue = DefaultSendQueue
	}
	if o.MaxOperations <= 0 {
		o.MaxOperations = DefaultMaxOperations
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Handler serves GraphQL over WebSocket. Create it with [NewHandler]; stop
// it with [Handler.Shutdown] (http.Server.Shutdown does not track hijacked
// connections).
type Handler struct {
	exec     Executor
	opts     Options
	upgrader websocket.Upgrader
	payloads payloadCache // results shared by many operations are encoded once

	mu       sync.Mutex
	conns    map[*conn]struct{}
	draining bool
	wg       sync.WaitGroup // one per connection being served
}

// NewHandler returns a handler that serves both subprotocols on one endpoint.
func NewHandler(exec Executor, opts Options) *Handler {
	opts = opts.withDefaults()
	protos := []string{ProtocolTransportWS}
	if !opts.DisableLegacy {
		protos = append(protos, ProtocolLegacy)
	}
	return &Handler{
		exec: exec,
		opts: opts,
		upgrader: websocket.Upgrader{
			Subprotocols: protos,
			CheckOrigin:  opts.CheckOrigin,
			// The connection writes its frames itself (outbox.go): gorilla
			// needs no write buffer, and a pool keeps it from holding one.
			WriteBufferPool: &sync.Pool{},
			// Clients send little (init, subscribe, complete, pongs): a
			// small read buffer instead of net/http's 4 KB one.
			ReadBufferSize: readBufferSize,
		},
		conns: map[*conn]struct{}{},
	}
}

// readBufferSize is the read buffer of a connection; larger messages are
// read in several steps.
const readBufferSize = 1024

// ServeHTTP upgrades the request, starts serving the connection and
// returns: the connection lives on in goroutines of the handler until it
// closes ([Handler.Shutdown] waits for them). Returning lets net/http free
// the request's buffers and goroutine; the request's context values (not
// its cancellation, which comes when ServeHTTP returns) reach the
// operations.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		if h.opts.Next != nil {
			h.opts.Next.ServeHTTP(w, r)
			return
		}
		http.Error(w, "websocket upgrade required", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	if h.draining {
		h.mu.Unlock()
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()

	ws, err := h.upgrader.Upgrade(w, r, nil) // answers the client itself on failure
	if err != nil {
		h.opts.Logger.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		h.wg.Done()
		return
	}
	var c *conn
	c = newConn(h, ws, r, func() { // once the connection ended: Shutdown waits for it
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		h.wg.Done()
	})
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	c.serve()
	h.mu.Lock()
	draining := h.draining
	h.mu.Unlock()
	if draining { // Shutdown started during the upgrade
		c.shutdown()
	}
}

// Shutdown refuses new connections, completes the active operations of
// every connection (a "complete" message each), closes the connections with
// 1001 and waits until they are gone. When ctx ends first, the remaining
// connections are dropped and ctx's error is returned.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.draining = true
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	var shutdowns sync.WaitGroup
	for _, c := range conns {
		shutdowns.Go(c.shutdown)
	}
	done := make(chan struct{})
	go func() { shutdowns.Wait(); h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		for c := range h.conns {
			c.drop()
		}
		h.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

var (
	errShutdown  = errors.New("server shutting down")
	errClosed    = errors.New("connection closed")
	errCompleted = errors.New("completed by the client")
	errReplaced  = errors.New("replaced by a new operation with the same id")
)
