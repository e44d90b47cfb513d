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

// conn is one WebSocket connection. While it is open, its only goroutines
// are the reader (protocol state machine) and one per operation; frames are
// written by whoever sends them (see outbox), a flusher goroutine exists
// only while a backlog does, and the keep-alive is a timer. Once a close is
// decided, one goroutine finishes the connection: it writes what must be
// written, closes the socket and waits for the others.
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

	readerDone chan struct{}
	done       func() // called once the connection and its goroutines ended

	mu        sync.Mutex
	ops       map[string]*operation
	draining  bool
	opsWG     sync.WaitGroup
	keepAlive *time.Timer // nil before serve
	initTimer *time.Timer
	finished  bool // the timers are stopped for good

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

// newConn prepares the connection; done is called once it has ended.
func newConn(h *Handler, ws *websocket.Conn, r *http.Request, done func()) *conn {
	// ServeHTTP returns before the connection ends, and net/http cancels
	// the request's context then: keep its values, not its cancellation.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
	c := &conn{
		h:          h,
		opts:       &h.opts,
		ws:         ws,
		req:        r,
		proto:      ws.Subprotocol(),
		log:        h.opts.Logger.With("remote", r.RemoteAddr, "subprotocol", ws.Subprotocol()),
		ctx:        ctx,
		cancel:     cancel,
		opCtx:      ctx,
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
		done:       done,
		ops:        map[string]*operation{},
	}
	c.out = newOutbox(ws.UnderlyingConn(), h.opts.SendQueue, h.opts.WriteTimeout, c.writeFailed)
	return c
}

// serve starts the connection: its keep-alive, its init timeout and its
// reader. It returns at once.
func (c *conn) serve() {
	c.log.Debug("websocket opened")
	if c.proto == "" {
		close(c.readerDone)
		c.fail(CloseSubprotocol, "Subprotocol not acceptable", true)
		return
	}
	c.mu.Lock()
	if !c.finished {
		c.keepAlive = time.AfterFunc(c.opts.KeepAlive, c.ping)
		c.initTimer = time.AfterFunc(c.opts.InitTimeout, func() {
			c.fail(CloseInitTimeout, "Connection initialisation timeout", true)
		})
	}
	c.mu.Unlock()
	go func() { defer close(c.readerDone); c.readLoop() }() // owned: finish waits
}

// initDone stops the init timeout: connection_init arrived.
func (c *conn) initDone() {
	c.mu.Lock()
	if c.initTimer != nil {
		c.initTimer.Stop()
	}
	c.mu.Unlock()
}

// finish ends the connection once a close is decided: it writes what is
// queued (all of it when asked to flush, else only the rest of a partly
// written frame) and the close frame, lets the peer answer, closes the
// socket, waits for the reader and the operations, and calls done.
func (c *conn) finish() {
	c.mu.Lock()
	c.finished = true
	for _, t := range []*time.Timer{c.keepAlive, c.initTimer} {
		if t != nil {
			t.Stop()
		}
	}
	c.mu.Unlock()
	frameSent := false
	rest := c.out.close(c.closeFlush)
	if len(rest) == 0 || c.out.write(rest) == nil {
		if c.closeFrame {
			msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
			frameSent = c.out.write(append(appendHeader(nil, opClose, len(msg)), msg...)) == nil
		}
	}
	if frameSent { // let the peer answer the close handshake
		t := time.NewTimer(closeGrace)
		select {
		case <-c.readerDone:
		case <-t.C:
		}
		t.Stop()
	}
	_ = c.ws.Close()
	<-c.readerDone
	c.opsWG.Wait()
	level := slog.LevelDebug
	if c.closeCode != CloseNormal && c.closeCode != CloseGoingAway && c.closeCode != websocket.CloseNoStatusReceived {
		level = slog.LevelInfo
	}
	c.log.Log(context.Background(), level, "websocket closed", "code", c.closeCode, "reason", c.closeText)
	c.done()
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
		go c.finish() // owned: calls done, which Handler.Shutdown waits for
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

// ping sends a WebSocket ping frame and, once acknowledged, the protocol's
// own keep-alive message, then sets the next one. It runs on the keep-alive
// timer.
func (c *conn) ping() {
	if c.sendFrame(opPing) && c.acked.Load() {
		if c.proto == ProtocolLegacy {
			c.enqueue(encode(msgKeepAlive, "", nil))
		} else {
			c.enqueue(encode(msgPing, "", nil))
		}
	}
	c.mu.Lock()
	if !c.finished {
		c.keepAlive.Reset(c.opts.KeepAlive)
	}
	c.mu.Unlock()
}

// readLoop reads and dispatches messages until the connection fails.
func (c *conn) readLoop() {
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
			c.handleLegacy(data)
		} else {
			c.handle(data)
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
