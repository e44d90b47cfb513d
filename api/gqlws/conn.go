package gqlws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// conn is one WebSocket connection. Three kinds of goroutines serve it, all
// owned by serve: the reader (protocol state machine), the writer (the only
// one writing data frames) and one goroutine per operation. They meet at
// the bounded send queue and at closing.
type conn struct {
	h     *Handler
	opts  *Options
	ws    *websocket.Conn
	req   *http.Request
	proto string
	log   *slog.Logger

	ctx    context.Context // ends when the connection closes
	cancel context.CancelCauseFunc
	opCtx  context.Context // ctx as returned by Options.Init

	send  chan []byte // bounded: full means slow consumer
	acked atomic.Bool

	closing    chan struct{} // closed once a close is decided
	closeOnce  sync.Once
	closeCode  int // written before closing is closed
	closeText  string
	closeFlush bool // write what is queued before the close frame
	closeFrame bool // send a close frame (false when the peer is gone)
	frameSent  bool // written by the writer before it ends

	mu       sync.Mutex
	ops      map[string]*operation
	draining bool
	opsWG    sync.WaitGroup

	initSeen bool // reader only
}

type operation struct {
	c      *conn
	id     string
	ctx    context.Context
	cancel context.CancelCauseFunc
	prefix []byte // the result message up to its payload

	mu    sync.Mutex // orders results before the "complete"
	ended bool
}

func newConn(h *Handler, ws *websocket.Conn, r *http.Request) *conn {
	ctx, cancel := context.WithCancelCause(r.Context())
	return &conn{
		h:       h,
		opts:    &h.opts,
		ws:      ws,
		req:     r,
		proto:   ws.Subprotocol(),
		log:     h.opts.Logger.With("remote", r.RemoteAddr, "subprotocol", ws.Subprotocol()),
		ctx:     ctx,
		cancel:  cancel,
		opCtx:   ctx,
		send:    make(chan []byte, h.opts.SendQueue),
		closing: make(chan struct{}),
		ops:     map[string]*operation{},
	}
}

// serve runs the connection and returns once every goroutine of it ended.
func (c *conn) serve() {
	c.log.Debug("websocket opened")
	readerDone := make(chan struct{})
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); c.writeLoop() }()
	if c.proto == "" {
		close(readerDone)
		c.fail(CloseSubprotocol, "Subprotocol not acceptable", true)
	} else {
		timer := time.AfterFunc(c.opts.InitTimeout, func() {
			c.fail(CloseInitTimeout, "Connection initialisation timeout", true)
		})
		defer timer.Stop()
		go func() { defer close(readerDone); c.readLoop(timer) }()
	}
	<-c.closing
	<-writerDone
	if c.frameSent { // let the peer answer the close handshake
		select {
		case <-readerDone:
		case <-time.After(closeGrace):
		}
	}
	_ = c.ws.Close()
	<-readerDone
	c.opsWG.Wait()
	level := slog.LevelDebug
	if c.closeCode != CloseNormal && c.closeCode != CloseGoingAway && c.closeCode != websocket.CloseNoStatusReceived {
		level = slog.LevelInfo
	}
	c.log.Log(context.Background(), level, "websocket closed", "code", c.closeCode, "reason", c.closeText)
}

// fail decides to close the connection with code and reason. The first
// decision wins; later calls do nothing. flush writes the queued messages
// before the close frame.
func (c *conn) fail(code int, reason string, flush bool) {
	c.closeWith(code, reason, flush, true)
}

func (c *conn) closeWith(code int, reason string, flush, frame bool) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, closeReason(reason)
		c.closeFlush, c.closeFrame = flush, frame
		c.cancel(errClosed)
		close(c.closing)
	})
}

// shutdown completes every operation, then closes with 1001.
func (c *conn) shutdown() {
	c.mu.Lock()
	c.draining = true
	for _, op := range c.ops {
		op.cancel(errShutdown)
	}
	c.mu.Unlock()
	c.opsWG.Wait() // no Add after draining is set
	c.fail(CloseGoingAway, "server shutting down", true)
}

// drop closes the socket without a close handshake.
func (c *conn) drop() {
	c.closeWith(CloseGoingAway, "server shutting down", false, false)
	_ = c.ws.Close()
}

// enqueue queues a message for the writer without blocking. A full queue
// closes the connection: the client is not reading fast enough.
func (c *conn) enqueue(b []byte) bool {
	select {
	case <-c.closing:
		return false
	default:
	}
	select {
	case c.send <- b:
		return true
	default:
		c.fail(ClosePolicyViolation, fmt.Sprintf("slow consumer: %d messages behind", cap(c.send)), false)
		return false
	}
}

func (c *conn) writeLoop() {
	ticker := time.NewTicker(c.opts.KeepAlive)
	defer ticker.Stop()
	for {
		select {
		case b := <-c.send:
			if err := c.write(b); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "write failed: "+err.Error(), false, false)
			}
		case <-ticker.C:
			if err := c.ping(); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "ping failed: "+err.Error(), false, false)
			}
		case <-c.closing:
			c.finish()
			return
		}
	}
}

// finish flushes the queue when asked and sends the close frame.
func (c *conn) finish() {
	if c.closeFlush {
	flush:
		for {
			select {
			case b := <-c.send:
				if c.write(b) != nil {
					return
				}
			default:
				break flush
			}
		}
	}
	if !c.closeFrame {
		return
	}
	msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
	c.frameSent = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.opts.WriteTimeout)) == nil
}

func (c *conn) write(b []byte) error {
	if err := c.ws.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// ping sends a WebSocket ping frame and, once acknowledged, the protocol's
// own keep-alive message.
func (c *conn) ping() error {
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.opts.WriteTimeout)); err != nil {
		return err
	}
	if !c.acked.Load() {
		return nil
	}
	if c.proto == ProtocolLegacy {
		return c.write(encode(msgKeepAlive, "", nil))
	}
	return c.write(encode(msgPing, "", nil))
}

// readLoop reads and dispatches messages until the connection fails.
func (c *conn) readLoop(initTimer *time.Timer) {
	idle := 2 * c.opts.KeepAlive
	c.ws.SetReadLimit(c.opts.ReadLimit)
	_ = c.ws.SetReadDeadline(time.Now().Add(idle))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.readFailed(err)
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(idle))
		select {
		case <-c.closing:
			continue // wait for the close handshake, ignore the rest
		default:
		}
		if c.proto == ProtocolLegacy {
			c.handleLegacy(data, initTimer)
		} else {
			c.handle(data, initTimer)
		}
	}
}

func (c *conn) readFailed(err error) {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce): // gorilla answered the close frame already
		c.closeWith(ce.Code, ce.Text, false, false)
	case errors.Is(err, websocket.ErrReadLimit):
		c.fail(CloseMessageTooBig, fmt.Sprintf("message larger than %d bytes", c.opts.ReadLimit), false)
	default:
		c.closeWith(websocket.CloseAbnormalClosure, "read failed: "+err.Error(), false, false)
	}
}

// authorize runs Options.Init and reports whether the connection may go on;
// on refusal it returns the close code and reason.
func (c *conn) authorize(payload map[string]any) (ok bool, code int, reason string) {
	if c.opts.Init == nil {
		return true, 0, ""
	}
	ctx, err := c.opts.Init(c.ctx, c.req, payload)
	switch {
	case err == nil:
		if ctx != nil {
			c.opCtx = ctx
		}
		return true, 0, ""
	case errors.Is(err, ErrUnauthenticated):
		c.log.Info("connection refused", "err", err)
		return false, CloseUnauthorized, "Unauthorized"
	default:
		c.log.Info("connection refused", "err", err)
		return false, CloseForbidden, "Forbidden"
	}
}
