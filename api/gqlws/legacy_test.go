package gqlws_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws/gqlwstest"
)

func TestLegacyProtocol(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlws.Options{})
	c := dial(t, s.wsURL(), gqlws.ProtocolLegacy)
	c.send("connection_init", "", map[string]any{})
	c.expect("connection_ack", "")
	if m, err := c.readErr(); err != nil || m.Type != "ka" {
		t.Fatalf("want ka right after ack, got %v %v", m, err)
	}

	c.send("start", "q", query("{ hello }"))
	jsonEq(t, c.expect("data", "q").Payload, `{"data":{"hello":"world"}}`)
	c.expect("complete", "q")

	c.send("start", "t", query("subscription { ticks(count: 3) }"))
	for i := 1; i <= 3; i++ {
		jsonEq(t, c.expect("data", "t").Payload, fmt.Sprintf(`{"data":{"ticks":%d}}`, i))
	}
	c.expect("complete", "t")

	c.send("start", "bad", query("{ nope }"))
	if m := c.expect("error", "bad"); !strings.Contains(string(m.Payload), "nope") {
		t.Fatalf("error payload %s", m.Payload)
	}

	c.send("start", "f", query("subscription { feed }"))
	feed := s.root.NextFeed(t)
	feed.Send(t, "a")
	c.expect("data", "f")
	c.send("stop", "f", nil)
	c.expect("complete", "f")
	select {
	case <-feed.Ended():
	case <-time.After(5 * time.Second):
		t.Fatal("resolver context not done after stop")
	}

	c.sendRaw("not json")
	c.expect("connection_error", "")

	c.send("connection_terminate", "", nil)
	c.expectClose(websocket.CloseNormalClosure, "")
}

func TestLegacyRefused(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlws.Options{Init: refuseAll})
	c := dial(t, s.wsURL(), gqlws.ProtocolLegacy)
	c.send("connection_init", "", nil)
	if m := c.expect("connection_error", ""); !strings.Contains(string(m.Payload), "Forbidden") {
		t.Fatalf("payload %s", m.Payload)
	}
	c.expectClose(4403, "Forbidden")
}
