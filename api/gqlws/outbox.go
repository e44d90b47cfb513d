package gqlws

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"
)

// outbox is the sending side of a connection. It frames messages itself
// (server frames are unmasked and this server never compresses) and writes
// them in one of two ways:
//
//   - directly, from the goroutine that sends, when nothing is queued: one
//     non-blocking write that the socket takes at once in the common case.
//     No goroutine has to wake up and no deadline timer is armed per
//     message. Where the socket cannot be written without blocking (not a
//     plain socket, e.g. TLS), every frame is queued instead;
//   - queued, when the socket did not take it all or frames are already
//     waiting. A flusher goroutine, started for the backlog and ended with
//     it, then writes the whole backlog at once: one write for many
//     frames, under the write timeout.
//
// Frames leave in the order they were sent. A frame is never split by
// another: the rest of a partly written frame is the head of the queue.
type outbox struct {
	nc      net.Conn
	raw     *rawWriter // nil: every frame is queued
	limit   int        // Options.SendQueue
	timeout time.Duration
	failed  func(error) // a write of the flusher failed

	mu       sync.Mutex
	flushed  sync.Cond // signalled when the flusher ends
	buf      []byte    // queued frames, in order
	queued   int       // messages in buf
	inHand   int       // messages the flusher is writing
	flushing bool      // a flusher runs: frames queue behind it
	head     int       // bytes at the start of buf that end a partly written frame
	closed   bool      // the connection is closing: no more frames
	broken   bool      // a write failed: the stream may end inside a frame
	spare    []byte    // a drained buffer to reuse
}

// maxSpare bounds the queue buffer an idle connection keeps for reuse.
const maxSpare = 16 << 10

var (
	errSlow    = errors.New("send queue full")
	errClosing = errors.New("connection closing")
	errBroken  = errors.New("an earlier write failed")
)

// newOutbox returns the outbox of nc; failed learns of the flusher's
// write errors.
func newOutbox(nc net.Conn, limit int, timeout time.Duration, failed func(error)) *outbox {
	o := &outbox{nc: nc, raw: newRawWriter(nc), limit: limit, timeout: timeout, failed: failed}
	o.flushed.L = &o.mu
	return o
}

// WebSocket opcodes.
const (
	opText  = 1
	opClose = 8
	opPing  = 9
	opPong  = 10
)

// frames pools the scratch buffers frames are built in.
var frames = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// send frames the concatenation of parts as one message of type op and
// writes or queues it. It returns errSlow when more than limit messages
// would be waiting (the caller closes the connection), errClosing once the
// connection is closing, or the error of a direct write.
func (o *outbox) send(op byte, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	bp := frames.Get().(*[]byte)
	f := appendHeader((*bp)[:0], op, n)
	for _, p := range parts {
		f = append(f, p...)
	}
	return o.putPooled(bp, f, 1)
}

// sendTexts frames one text message per body (the concatenation of
// prefix, body and suffix) and writes or queues them together, like send.
func (o *outbox) sendTexts(prefix []byte, bodies [][]byte, suffix []byte) error {
	bp := frames.Get().(*[]byte)
	f := (*bp)[:0]
	for _, b := range bodies {
		f = appendHeader(f, opText, len(prefix)+len(b)+len(suffix))
		f = append(append(append(f, prefix...), b...), suffix...)
	}
	return o.putPooled(bp, f, len(bodies))
}

// putPooled puts f, built in the pooled buffer bp, and returns bp.
func (o *outbox) putPooled(bp *[]byte, f []byte, msgs int) error {
	err := o.put(f, msgs)
	if cap(f) <= maxSpare {
		*bp = f[:0]
		frames.Put(bp)
	}
	return err
}

// put writes or queues f, whole frames holding msgs messages; f is not
// retained.
func (o *outbox) put(f []byte, msgs int) error {
	o.mu.Lock()
	if o.closed || o.broken {
		o.mu.Unlock()
		return errClosing
	}
	if o.raw != nil && !o.flushing && len(o.buf) == 0 {
		n, err := o.raw.tryWrite(f)
		if err != nil || n == len(f) {
			o.broken = err != nil
			o.mu.Unlock()
			return err
		}
		o.head = partial(f, n)
		f = f[n:]
	} else if o.queued+o.inHand+msgs-1 > o.limit {
		o.mu.Unlock()
		return errSlow
	}
	if o.buf == nil {
		o.buf, o.spare = o.spare[:0], nil
	}
	o.buf = append(o.buf, f...)
	o.queued += msgs
	start := !o.flushing
	o.flushing = true
	o.mu.Unlock()
	if start {
		go o.flush() // owned: ends with the backlog; close waits for it
	}
	return nil
}

// flush writes the queue until it is empty, the connection closes or a
// write fails.
func (o *outbox) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	defer o.flushed.Broadcast()
	for len(o.buf) > 0 && !o.closed {
		b := o.buf
		o.buf, o.inHand, o.queued, o.head = nil, o.queued, 0, 0
		o.mu.Unlock()
		err := o.write(b)
		o.mu.Lock()
		o.inHand = 0
		if cap(b) <= maxSpare {
			o.spare = b[:0]
		}
		if err != nil {
			o.flushing, o.broken = false, true
			o.mu.Unlock()
			o.failed(err) // closes the connection
			o.mu.Lock()
			return
		}
	}
	o.flushing = false
}

// close refuses further frames, waits for the flusher, and returns what
// is queued: all of it, or (all false) only the rest of a partly written
// frame, which must precede anything else written to the socket.
func (o *outbox) close(all bool) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	for o.flushing {
		o.flushed.Wait()
	}
	if o.broken {
		return nil
	}
	b := o.buf
	if !all {
		b = b[:o.head]
	}
	o.buf, o.queued, o.head = nil, 0, 0
	return b
}

// write writes b under the write timeout, whose deadline is then cleared
// again for the direct writes. After a failed write nothing more is
// written (the stream may end inside a frame). Only the flusher, and the
// connection's finish once the flusher is gone, call it.
func (o *outbox) write(b []byte) error {
	o.mu.Lock()
	broken := o.broken
	o.mu.Unlock()
	if broken {
		return errBroken
	}
	err := o.nc.SetWriteDeadline(time.Now().Add(o.timeout))
	if err == nil {
		_, err = o.nc.Write(b)
	}
	if err == nil {
		err = o.nc.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		o.mu.Lock()
		o.broken = true
		o.mu.Unlock()
	}
	return err
}

// partial returns how many bytes after the first n of f finish the frame
// that the write of those n bytes cut (0 when n fell between frames). f
// holds whole frames built by this package.
func partial(f []byte, n int) int {
	for off := 0; off < n; {
		h, size := 2, int(f[off+1]&0x7f)
		switch size {
		case 126:
			h, size = 4, int(binary.BigEndian.Uint16(f[off+2:]))
		case 127:
			h, size = 10, int(binary.BigEndian.Uint64(f[off+2:]))
		}
		if off += h + size; off > n {
			return off - n
		}
	}
	return 0
}

// appendHeader appends the header of an unmasked final frame of n bytes.
func appendHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}
