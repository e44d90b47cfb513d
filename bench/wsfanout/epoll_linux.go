package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const defaultReader = "epoll"

// epollReaders reads every connection from a few goroutines, each waiting
// on an epoll set of its own. After the handshake a connection's socket is
// duplicated and the Go connection closed, so the runtime's poller does not
// see its traffic: only the loop that owns it does.
type epollReaders struct {
	round time.Duration // pause between rounds of reads
	loops []*loop
	next  atomic.Uint32
	stop  atomic.Bool
	wg    sync.WaitGroup

	mu      sync.Mutex
	clients []*epollClient
}

// loop is one reading goroutine and its epoll set.
type loop struct {
	epfd    int
	clients []atomic.Pointer[epollClient] // by file descriptor
}

type epollClient struct {
	samples
	fd   int
	pend []byte // the start of a frame whose rest has not arrived
	msg  []byte // fragments of a message in continuation frames
	l    *loop
	wmu  sync.Mutex // the loop answers pings while closeAll may close
}

// maxFD bounds the descriptors a loop can index.
const maxFD = 1 << 17

func newEpollReaders(n int, round time.Duration) (readers, error) {
	e := &epollReaders{round: round}
	for range n {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return nil, fmt.Errorf("epoll_create1: %w", err)
		}
		l := &loop{epfd: fd, clients: make([]atomic.Pointer[epollClient], maxFD)}
		e.loops = append(e.loops, l)
		e.wg.Go(func() { e.run(l) })
	}
	return e, nil
}

// run reads the ready sockets of l in rounds. When a round found fewer
// sockets ready than it could take, the loop pauses for e.round before the
// next one instead of waiting in epoll_wait: while it waits there, every
// message the server writes must wake it (a cross-CPU wake-up charged to
// the server's write); while it pauses, messages just queue. It only waits
// in epoll_wait when nothing at all is ready. The pause adds at most
// e.round to a delivery's measured latency.
func (e *epollReaders) run(l *loop) {
	events := make([]syscall.EpollEvent, 512)
	buf := make([]byte, 64<<10)
	for !e.stop.Load() {
		n, err := syscall.EpollWait(l.epfd, events, 0)
		if n == 0 && err == nil {
			n, err = syscall.EpollWait(l.epfd, events, 100)
		}
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			fmt.Fprintln(os.Stderr, "epoll_wait:", err)
			return
		}
		for _, ev := range events[:n] {
			if c := l.clients[ev.Fd].Load(); c != nil {
				c.readReady(buf)
			}
		}
		if n < len(events) && e.round > 0 {
			time.Sleep(e.round)
		}
	}
}

// readReady reads what the socket holds and handles every complete frame.
func (c *epollClient) readReady(buf []byte) {
	for {
		k, err := syscall.Read(c.fd, buf)
		now := time.Now().UnixNano()
		switch {
		case errors.Is(err, syscall.EAGAIN):
			return
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil || k == 0:
			c.end(-1)
			return
		}
		c.consume(buf[:k], now)
		if k < len(buf) {
			return
		}
	}
}

// consume parses the frames in data (after any carried-over start).
func (c *epollClient) consume(data []byte, now int64) {
	if len(c.pend) > 0 {
		data = append(c.pend, data...)
		c.pend = nil
	}
	for len(data) > 0 {
		fin, op, payload, size, ok := parseFrame(data)
		if size < 0 {
			fmt.Fprintln(os.Stderr, "frame too large")
			c.end(-1)
			return
		}
		if !ok {
			break
		}
		data = data[size:]
		if !c.frame(fin, op, payload, now) {
			return
		}
	}
	if len(data) > 0 {
		c.pend = append([]byte(nil), data...)
	}
}

// frame handles one frame; false once the connection ended.
func (c *epollClient) frame(fin bool, op byte, payload []byte, now int64) bool {
	switch op {
	case 0, 1: // continuation, text
		if !fin || len(c.msg) > 0 {
			c.msg = append(c.msg, payload...)
			if !fin {
				return true
			}
			payload, c.msg = c.msg, nil
		}
		c.message(payload, now)
	case 8: // close
		code := int64(1005)
		if len(payload) >= 2 {
			code = int64(binary.BigEndian.Uint16(payload))
		}
		c.end(code)
		return false
	case 9: // ping
		c.write(10, payload)
	}
	return true
}

func (c *epollClient) message(m []byte, now int64) {
	switch {
	case bytes.Contains(m, keyNext):
		pos, evt, ok := parseNext(m)
		if !ok {
			if nextErrors.Add(1) <= 3 {
				fmt.Fprintf(os.Stderr, "next without an event: %s\n", m)
			}
			return
		}
		c.add(sample{pos: pos, recv: now, evt: evt})
	case bytes.Contains(m, keyPing):
		c.write(1, []byte(`{"type":"pong"}`))
	}
}

// end records the close and stops watching the socket.
func (c *epollClient) end(code int64) {
	if c.closed.CompareAndSwap(0, code) {
		_ = syscall.EpollCtl(c.l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	}
}

// write sends a masked frame (client frames are masked), retrying a full
// socket for up to a second.
func (c *epollClient) write(op byte, payload []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.fd < 0 {
		return
	}
	f := maskedFrame(op, payload)
	for deadline := time.Now().Add(time.Second); len(f) > 0 && time.Now().Before(deadline); {
		k, err := syscall.Write(c.fd, f)
		switch {
		case err == nil:
			f = f[k:]
		case errors.Is(err, syscall.EAGAIN):
			time.Sleep(time.Millisecond)
		case errors.Is(err, syscall.EINTR):
		default:
			return
		}
	}
}

func (e *epollReaders) connect(ctx context.Context, addr, query string) (subscriber, error) {
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(cctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer nc.Close() // the socket lives on in the duplicate
	_ = nc.SetDeadline(time.Now().Add(15 * time.Second))
	br := bufio.NewReaderSize(nc, 1024)
	if err := handshake(nc, br, addr); err != nil {
		return nil, err
	}
	if _, err := nc.Write(maskedFrame(1, []byte(`{"type":"connection_init","payload":{}}`))); err != nil {
		return nil, err
	}
	m, err := readMessage(br)
	if err != nil {
		return nil, fmt.Errorf("connection_ack: %w", err)
	}
	if !bytes.Contains(m, []byte(`"connection_ack"`)) {
		return nil, fmt.Errorf("expected connection_ack, got %s", m)
	}
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	if _, err := nc.Write(maskedFrame(1, sub)); err != nil {
		return nil, err
	}
	rest, _ := br.Peek(br.Buffered())
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = syscall.Dup(int(s)) }); err != nil || derr != nil {
		return nil, fmt.Errorf("dup: %w", errors.Join(err, derr))
	}
	if fd >= maxFD {
		syscall.Close(fd)
		return nil, fmt.Errorf("descriptor %d beyond %d", fd, maxFD)
	}
	l := e.loops[int(e.next.Add(1))%len(e.loops)]
	c := &epollClient{fd: fd, l: l, pend: append([]byte(nil), rest...)}
	c.list = make([]sample, 0, 512)
	l.clients[fd].Store(c)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.clients[fd].Store(nil)
		syscall.Close(fd)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	e.mu.Lock()
	e.clients = append(e.clients, c)
	e.mu.Unlock()
	return c, nil
}

// handshake upgrades the connection to graphql-transport-ws.
func handshake(nc net.Conn, br *bufio.Reader, addr string) error {
	var key [16]byte
	_, _ = rand.Read(key[:])
	req := "GET /graphql HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "graphql-transport-ws" {
		return fmt.Errorf("handshake: %s, subprotocol %q", resp.Status, resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	return nil
}

// readMessage reads one unfragmented data message during the set-up.
func readMessage(br *bufio.Reader) ([]byte, error) {
	for {
		var hdr [14]byte
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return nil, err
		}
		n := 2
		switch hdr[1] & 0x7f {
		case 126:
			n += 2
		case 127:
			n += 8
		}
		if _, err := io.ReadFull(br, hdr[2:n]); err != nil {
			return nil, err
		}
		_, op, _, size, _ := parseFrame(hdr[:n])
		if size < 0 {
			return nil, errors.New("frame too large")
		}
		payload := make([]byte, size-n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return nil, err
		}
		if op == 1 {
			return payload, nil
		}
		if op == 8 {
			return nil, fmt.Errorf("closed by the server: %q", payload)
		}
	}
}

// closeAll sends a close frame on every open connection, waits (bounded)
// for the server's answers, then stops the loops and closes the sockets.
func (e *epollReaders) closeAll() {
	e.mu.Lock()
	clients := e.clients
	e.mu.Unlock()
	msg := binary.BigEndian.AppendUint16(nil, 1000)
	msg = append(msg, "bench done"...)
	for _, c := range clients {
		if c.closedCode() == 0 {
			c.write(8, msg)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		open := 0
		for _, c := range clients {
			if c.closedCode() == 0 {
				open++
			}
		}
		if open == 0 {
			break
		}
	}
	e.stop.Store(true)
	e.wg.Wait()
	for _, c := range clients {
		c.wmu.Lock()
		syscall.Close(c.fd)
		c.fd = -1
		c.wmu.Unlock()
	}
	for _, l := range e.loops {
		syscall.Close(l.epfd)
	}
	fmt.Printf("closed %d connections\n", len(clients))
}
