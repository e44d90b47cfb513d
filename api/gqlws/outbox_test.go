package gqlws

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// readFrames parses n unmasked frames from r.
func readFrames(t *testing.T, r io.Reader, n int) []string {
	t.Helper()
	var got []string
	for range n {
		var h [10]byte
		if _, err := io.ReadFull(r, h[:2]); err != nil {
			t.Fatalf("frame %d: %v", len(got), err)
		}
		if h[0] != 0x80|opText || h[1]&0x80 != 0 {
			t.Fatalf("frame %d: header % x", len(got), h[:2])
		}
		size := int(h[1])
		switch size {
		case 126:
			io.ReadFull(r, h[2:4])
			size = int(h[2])<<8 | int(h[3])
		case 127:
			io.ReadFull(r, h[2:10])
			size = 0
			for _, b := range h[2:10] {
				size = size<<8 | int(b)
			}
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatalf("frame %d: %v", len(got), err)
		}
		got = append(got, string(b))
	}
	return got
}

// TestOutboxOrder: frames of every size class arrive whole and in order,
// written directly (a socket) or all through the writer (a pipe), also
// while the writer is busy with a backlog.
func TestOutboxOrder(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 200000, 3}
	cases := []struct {
		name string
		pair func(t *testing.T) (net.Conn, net.Conn)
	}{
		{"socket", tcpPair},
		{"pipe", func(*testing.T) (net.Conn, net.Conn) { return net.Pipe() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, cli := tc.pair(t)
			o := newOutbox(srv, 1000, 5*time.Second, func(err error) { t.Error(err) })
			if (o.raw != nil) != (tc.name == "socket") {
				t.Fatalf("direct writes: %v", o.raw != nil)
			}
			var want []string // all start with "<" and end with ">": sendTexts' prefix and suffix
			for round := range 3 {
				for i, n := range sizes {
					want = append(want, fmt.Sprintf("<%d.%d:%s>", round, i, bytes.Repeat([]byte("x"), n)))
				}
			}
			done := make(chan []string)
			go func() { done <- readFrames(t, cli, len(want)) }()
			for i := 0; i < len(want); {
				if i%4 == 3 && i+3 <= len(want) { // three messages in one write
					var bodies [][]byte
					for _, m := range want[i : i+3] {
						bodies = append(bodies, []byte(m[1:len(m)-1]))
					}
					if err := o.sendTexts([]byte(want[i][:1]), bodies, []byte(want[i][len(want[i])-1:])); err != nil {
						t.Fatal(err)
					}
					i += 3
					continue
				}
				p := []byte(want[i])
				if err := o.send(opText, p[:len(p)/2], p[len(p)/2:]); err != nil {
					t.Fatal(err)
				}
				i++
			}
			got := <-done
			if rest := o.close(true); len(rest) > 0 {
				t.Fatalf("%d bytes left after the peer read everything", len(rest))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("frame %d: got %d bytes %.20q…, want %d bytes %.20q…", i, len(got[i]), got[i], len(want[i]), want[i])
				}
			}
		})
	}
}

// TestOutboxSlow: a peer that reads nothing fills the socket, then the
// queue: errSlow once more than the limit wait. If the peer then reads,
// every frame arrives whole and in order; if it does not, the flusher's
// write times out and nothing more is written (not even a close frame,
// which could land inside a cut frame), and a closed outbox refuses
// frames.
func TestOutboxSlow(t *testing.T) {
	for _, reads := range []bool{true, false} {
		t.Run(fmt.Sprintf("reads=%v", reads), func(t *testing.T) {
			srv, cli := tcpPair(t)
			failed := make(chan error, 1)
			o := newOutbox(srv, 4, 300*time.Millisecond, func(err error) { failed <- err })
			big := bytes.Repeat([]byte("y"), 1<<20)
			sent := 0
			var err error
			for sent < 1000 {
				if err = o.send(opText, big); err != nil {
					break
				}
				sent++
			}
			if !errors.Is(err, errSlow) {
				t.Fatalf("after %d frames: %v, want errSlow", sent, err)
			}
			o.mu.Lock()
			waiting := o.queued + o.inHand
			o.mu.Unlock()
			if waiting != 5 {
				t.Fatalf("%d frames waiting at errSlow, want limit+1 = 5", waiting)
			}
			if !reads {
				if err := <-failed; !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("flusher: %v, want a timeout", err)
				}
				if rest := o.close(false); rest != nil {
					t.Fatalf("close after a failed write returned %d bytes", len(rest))
				}
				if err := o.write([]byte{0x88, 0}); !errors.Is(err, errBroken) {
					t.Fatalf("write after a failed write: %v", err)
				}
				if err := o.send(opText, []byte("late")); !errors.Is(err, errClosing) {
					t.Fatalf("send after close: %v", err)
				}
				return
			}
			_ = cli.SetReadDeadline(time.Now().Add(10 * time.Second))
			for i, f := range readFrames(t, cli, sent) {
				if len(f) != len(big) {
					t.Fatalf("frame %d: %d bytes", i, len(f))
				}
			}
			if rest := o.close(true); len(rest) > 0 {
				t.Fatalf("%d bytes left", len(rest))
			}
			select {
			case err := <-failed:
				t.Fatalf("flusher failed: %v", err)
			default:
			}
		})
	}
}

// TestPartial: the rest of the frame a partial write cut, for cuts in
// headers, in payloads and between frames.
func TestPartial(t *testing.T) {
	var f []byte
	var ends []int // end offset of each frame
	for _, n := range []int{3, 0, 200, 70000} {
		f = appendHeader(f, opText, n)
		f = append(f, bytes.Repeat([]byte("z"), n)...)
		ends = append(ends, len(f))
	}
	cases := []struct {
		name string
		n    int
		want int
	}{
		{"nothing written", 0, 0},
		{"in the first header", 1, ends[0] - 1},
		{"in the first payload", 3, ends[0] - 3},
		{"between frames", ends[0], 0},
		{"in an empty frame's header", ends[0] + 1, ends[1] - ends[0] - 1},
		{"in a 16-bit header", ends[1] + 3, ends[2] - ends[1] - 3},
		{"in a 64-bit header", ends[2] + 5, ends[3] - ends[2] - 5},
		{"in the last payload", ends[3] - 1, 1},
		{"all", ends[3], 0},
	}
	for _, c := range cases {
		if got := partial(f, c.n); got != c.want {
			t.Errorf("%s: partial(%d) = %d, want %d", c.name, c.n, got, c.want)
		}
	}
}
