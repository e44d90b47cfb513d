package gqlws_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws/gqlwstest"
)

func refuseAll(context.Context, *http.Request, map[string]any) (context.Context, error) {
	return nil, errors.New("nobody may connect")
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSlowConsumer: a client that never reads while the server pushes large
// events is disconnected with 1008 "slow consumer", and a healthy client on
// the same server keeps receiving meanwhile.
func TestSlowConsumer(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	logs := &syncBuffer{}
	s := newServer(t, gqlws.Options{
		SendQueue:    8,
		WriteTimeout: 300 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})

	healthy := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	healthy.init(nil)
	healthy.send("subscribe", "h", query("subscription { feed }"))
	feed := s.root.NextFeed(t)

	slow := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	slow.init(nil)
	slow.send("subscribe", "s", query("subscription { big(count: 100000, size: 65536) }"))
	// From here on the slow client reads nothing.

	i := 0
	for !strings.Contains(logs.String(), "slow consumer") {
		v := string(rune('a' + i%26))
		feed.Send(t, v)
		jsonEq(t, healthy.expect("next", "h").Payload, `{"data":{"feed":"`+v+`"}}`)
		i++
		if i > 2000 {
			t.Fatalf("slow consumer not detected; logs:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `reason="slow consumer: 8 messages behind"`) || !strings.Contains(logs.String(), "code=1008") {
		t.Fatalf("close not logged with code and reason:\n%s", logs)
	}
	// The slow client's connection ends: after the queued data it finds the
	// close frame, or the TCP connection closed when the frame could not be
	// written in time.
	_ = slow.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := slow.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code != websocket.ClosePolicyViolation && ce.Code != websocket.CloseAbnormalClosure {
			t.Fatalf("slow client closed with %d %q", ce.Code, ce.Text)
		}
		t.Logf("slow client ended with: %v", err)
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("slow client still connected: %v", err)
		}
		break
	}
	// The healthy client is unaffected.
	feed.Send(t, "after")
	jsonEq(t, healthy.expect("next", "h").Payload, `{"data":{"feed":"after"}}`)
}
