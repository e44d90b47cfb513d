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

// conn is one WebSocket connection. serve owns its goroutines: the reader
// (protocol state machine) and one goroutine per operation; serve itself is
// the writer of whatever the outbox could not write at once, and of the
// keep-alives. They meet at the outbox and at closing.
type conn struct {
	h     *Handler
	opts  *Options
	ws    *websocket.Conn
	req   *http.Request // until connection_init: Init may read it
	proto string
	log   *slog.Logger

	ctx    context.Context // ends when the connection closes
	cancel context.CancelCauseFunc
	opCtx  context.Context // ctx as returned by Options.Init

	out   *outbox // bounded: full means slow consumer
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
	// ServeHTTP returns before the connection ends, and net/http cancels
	// the request's context then: keep its values, not its cancellation.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
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
		out:     newOutbox(ws.UnderlyingConn(), h.opts.SendQueue),
		closing: make(chan struct{}),
		ops:     map[string]*operation{},
	}
}

// serve runs the connection and returns once every goroutine of it ended.
func (c *conn) serve() {
	c.log.Debug("websocket opened")
	readerDone := make(chan struct{})
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
	c.writeLoop()
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

// enqueue sends a message without blocking: it is written at once or
// queued for the writer. A full queue closes the connection: the client is
// not reading fast enough.
func (c *conn) enqueue(b []byte) bool {
	return c.sendFrame(opText, b)
}

// sendFrame sends the concatenation of parts as one frame of type op.
func (c *conn) sendFrame(op byte, parts ...[]byte) bool {
	select {
	case <-c.closing:
		return false
	default:
	}
	return c.sent(c.out.send(op, parts...))
}

// sendTexts sends one text message per body (prefix, body, suffix) in
// one write.
func (c *conn) sendTexts(prefix []byte, bodies [][]byte, suffix []byte) bool {
	select {
	case <-c.closing:
		return false
	default:
	}
	return c.sent(c.out.sendTexts(prefix, bodies, suffix))
}

// sent reports whether a send succeeded, closing the connection when it
// found the queue full or the socket broken.
func (c *conn) sent(err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, errSlow):
		c.fail(ClosePolicyViolation, fmt.Sprintf("slow consumer: %d messages behind", c.opts.SendQueue), false)
	case errors.Is(err, errClosing):
	default:
		c.writeFailed(err)
	}
	return false
}

func (c *conn) writeFailed(err error) {
	c.closeWith(websocket.CloseAbnormalClosure, "write failed: "+err.Error(), false, false)
}

// writeLoop writes the queued frames and the keep-alives until the
// connection closes, then finishes it.
func (c *conn) writeLoop() {
	ticker := time.NewTicker(c.opts.KeepAlive)
	defer ticker.Stop()
	for {
		select {
		case <-c.out.wake:
			if err := c.out.flush(c.opts.WriteTimeout); err != nil {
				c.writeFailed(err)
			}
		case <-ticker.C:
			c.ping()
		case <-c.closing:
			c.finish()
			return
		}
	}
}

// finish writes what is queued (all of it when asked to flush, else only
// the rest of a partly written frame) and sends the close frame.
func (c *conn) finish() {
	rest := c.out.close(c.closeFlush)
	if len(rest) > 0 && c.out.write(rest, c.opts.WriteTimeout) != nil {
		return
	}
	if !c.closeFrame {
		return
	}
	msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
	c.frameSent = c.out.write(append(appendHeader(nil, opClose, len(msg)), msg...), c.opts.WriteTimeout) == nil
}

// ping sends a WebSocket ping frame and, once acknowledged, the protocol's
// own keep-alive message.
func (c *conn) ping() {
	if !c.sendFrame(opPing) || !c.acked.Load() {
		return
	}
	if c.proto == ProtocolLegacy {
		c.enqueue(encode(msgKeepAlive, "", nil))
		return
	}
	c.enqueue(encode(msgPing, "", nil))
}

// readLoop reads and dispatches messages until the connection fails.
func (c *conn) readLoop(initTimer *time.Timer) {
	idle := 2 * c.opts.KeepAlive
	c.ws.SetReadLimit(c.opts.ReadLimit)
	_ = c.ws.SetReadDeadline(time.Now().Add(idle))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	// Pongs and the answer to the peer's close frame go through the outbox:
	// gorilla's own handlers would write past it (and leave a write
	// deadline behind). The close is answered once, by the writer, unless
	// the server had decided to close first (then its own frame is the
	// answer).
	c.ws.SetPingHandler(func(data string) error {
		c.sendFrame(opPong, []byte(data))
		return nil
	})
	c.ws.SetCloseHandler(func(code int, text string) error {
		c.closeWith(code, text, false, true)
		return nil
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
	case errors.As(err, &ce): // the close handler decided already
		c.closeWith(ce.Code, ce.Text, false, false)
	case errors.Is(err, websocket.ErrReadLimit): // gorilla sent the close frame
		c.closeWith(CloseMessageTooBig, fmt.Sprintf("message larger than %d bytes", c.opts.ReadLimit), false, false)
	default:
		c.closeWith(websocket.CloseAbnormalClosure, "read failed: "+err.Error(), false, false)
	}
}

// authorize runs Options.Init and reports whether the connection may go on;
// on refusal it returns the close code and reason.
func (c *conn) authorize(payload map[string]any) (ok bool, code int, reason string) {
	req := c.req
	c.req = nil // Init is called once: the request need not be kept
	if c.opts.Init == nil {
		return true, 0, ""
	}
	ctx, err := c.opts.Init(c.ctx, req, payload)
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
