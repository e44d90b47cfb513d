package gqlws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	graphql "github.com/graph-gophers/graphql-go"
)

// handle dispatches one graphql-transport-ws message.
func (c *conn) handle(data []byte) {
	var m message
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		c.fail(CloseBadRequest, "Invalid message received", false)
		return
	}
	switch m.Type {
	case msgConnectionInit:
		if c.initSeen {
			c.fail(CloseTooManyInitialise, "Too many initialisation requests", false)
			return
		}
		c.initSeen = true
		c.initDone()
		payload, ok := decodeObject(m.Payload)
		if !ok {
			c.fail(CloseBadRequest, "Invalid connection_init payload", false)
			return
		}
		if ok, code, reason := c.authorize(payload); !ok {
			c.fail(code, reason, true)
			return
		}
		c.acked.Store(c.enqueue(encode(msgConnectionAck, "", nil)))
	case msgPing:
		var payload any
		if len(m.Payload) > 0 {
			payload = m.Payload
		}
		c.enqueue(encode(msgPong, "", payload))
	case msgPong:
	case msgSubscribe:
		if !c.acked.Load() {
			c.fail(CloseUnauthorized, "Unauthorized", false)
			return
		}
		var req Request
		if m.ID == "" || json.Unmarshal(m.Payload, &req) != nil || req.Query == "" {
			c.fail(CloseBadRequest, "Invalid subscribe message", false)
			return
		}
		c.start(m.ID, req)
	case msgComplete:
		if !c.acked.Load() {
			c.fail(CloseUnauthorized, "Unauthorized", false)
			return
		}
		if m.ID == "" {
			c.fail(CloseBadRequest, "Invalid complete message", false)
			return
		}
		c.stop(m.ID, errCompleted)
	default:
		c.fail(CloseBadRequest, closeReason("Unexpected message of type "+m.Type+" received"), false)
	}
}

// handleLegacy dispatches one subscriptions-transport-ws message. As that
// protocol asks, a malformed message is answered with connection_error and
// does not end the connection.
func (c *conn) handleLegacy(data []byte) {
	var m message
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		c.enqueue(encode(msgConnectionError, "", errorList("invalid message")[0]))
		return
	}
	switch m.Type {
	case msgConnectionInit:
		if c.initSeen {
			c.fail(CloseTooManyInitialise, "Too many initialisation requests", false)
			return
		}
		c.initSeen = true
		c.initDone()
		payload, ok := decodeObject(m.Payload)
		if !ok {
			c.enqueue(encode(msgConnectionError, "", errorList("invalid connection_init payload")[0]))
			c.fail(CloseBadRequest, "Invalid connection_init payload", true)
			return
		}
		if ok, code, reason := c.authorize(payload); !ok {
			c.enqueue(encode(msgConnectionError, "", errorList(reason)[0]))
			c.fail(code, reason, true)
			return
		}
		if c.enqueue(encode(msgConnectionAck, "", nil)) && c.enqueue(encode(msgKeepAlive, "", nil)) {
			c.acked.Store(true)
		}
	case msgStart:
		if !c.acked.Load() {
			c.fail(CloseUnauthorized, "Unauthorized", false)
			return
		}
		var req Request
		if m.ID == "" || json.Unmarshal(m.Payload, &req) != nil || req.Query == "" {
			c.enqueue(encode(msgError, m.ID, errorList("invalid start message")))
			return
		}
		c.start(m.ID, req)
	case msgStop:
		c.stop(m.ID, errCompleted)
	case msgConnectionTerminate:
		c.fail(CloseNormal, "", true)
	default:
		c.enqueue(encode(msgError, m.ID, errorList("unknown message type "+m.Type)))
	}
}

// start registers and runs an operation.
func (c *conn) start(id string, req Request) {
	legacy := c.proto == ProtocolLegacy
	c.mu.Lock()
	if c.draining {
		c.mu.Unlock()
		c.enqueue(encode(msgError, id, errorList("server shutting down")))
		return
	}
	if old, dup := c.ops[id]; dup {
		if !legacy {
			c.mu.Unlock()
			c.fail(CloseSubscriberExists, "Subscriber for "+id+" already exists", false)
			return
		}
		delete(c.ops, id) // the legacy server replaces the operation
		old.cancel(errReplaced)
	}
	if len(c.ops) >= c.opts.MaxOperations {
		c.mu.Unlock()
		c.enqueue(encode(msgError, id, errorList(fmt.Sprintf("too many active operations (limit %d)", c.opts.MaxOperations))))
		return
	}
	ctx, cancel := context.WithCancelCause(c.opCtx)
	next := msgNext
	if legacy {
		next = msgData
	}
	op := &operation{c: c, id: id, ctx: ctx, cancel: cancel, prefix: resultPrefix(next, id)}
	c.ops[id] = op
	c.opsWG.Add(1)
	c.mu.Unlock()
	go c.run(op, req)
}

// stop cancels an operation at the client's request; unknown ids are
// ignored (the operation may have completed already).
func (c *conn) stop(id string, cause error) {
	c.mu.Lock()
	op, ok := c.ops[id]
	if ok {
		delete(c.ops, id)
	}
	c.mu.Unlock()
	if ok {
		op.cancel(cause)
	}
}

// forget removes op from the active set unless it was replaced or stopped.
func (c *conn) forget(op *operation) {
	c.mu.Lock()
	if c.ops[op.id] == op {
		delete(c.ops, op.id)
	}
	c.mu.Unlock()
}

// Push sends the next results of op (the executor's direct path, see
// [Sink]; forward uses it for the results of the channel).
func (op *operation) Push(resps ...*graphql.Response) bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.ended || op.ctx.Err() != nil {
		return false
	}
	if len(resps) == 1 {
		return op.c.sendFrame(opText, op.prefix, op.c.h.payloads.encode(resps[0]), closeBrace)
	}
	payloads := make([][]byte, len(resps))
	for i, r := range resps {
		payloads[i] = op.c.h.payloads.encode(r)
	}
	return op.c.sendTexts(op.prefix, payloads, closeBrace)
}

var closeBrace = []byte("}")

// end refuses further results: what follows is the operation's
// "complete", if any.
func (op *operation) end() {
	op.mu.Lock()
	op.ended = true
	op.mu.Unlock()
}

// run starts one operation. Its results are forwarded by a new goroutine:
// a subscription lives long, mostly waiting, and the new goroutine's stack
// stays small, while this one may have grown a large stack in the
// executor (parsing, validation).
func (c *conn) run(op *operation, req Request) {
	results, err := c.h.exec.Subscribe(WithSink(op.ctx, op), req)
	if err != nil {
		defer c.opsWG.Done()
		defer op.cancel(nil)
		c.forget(op)
		var reqErr *RequestError
		switch {
		case errors.As(err, &reqErr):
			c.enqueue(encode(msgError, op.id, reqErr.Errors))
		case op.ctx.Err() != nil:
		default:
			c.log.Error("operation failed to start", "id", op.id, "err", err)
			c.fail(CloseInternal, "Internal server error", true)
		}
		return
	}
	go c.forward(op, results) // owned: counted in opsWG
}

// forward forwards the results of op in order, then completes it.
func (c *conn) forward(op *operation, results <-chan *graphql.Response) {
	defer c.opsWG.Done()
	defer op.cancel(nil)
	for resp := range results {
		op.Push(resp)
	}
	op.end()
	// Forget before "complete" so that the client may reuse the id at once.
	c.forget(op)
	cause := context.Cause(op.ctx)
	switch {
	case op.ctx.Err() == nil, errors.Is(cause, errShutdown):
	case errors.Is(cause, errCompleted) && c.proto == ProtocolLegacy: // legacy answers stop with complete
	default: // completed by the client, replaced, or the connection is gone
		return
	}
	c.enqueue(encode(msgComplete, op.id, nil))
}
