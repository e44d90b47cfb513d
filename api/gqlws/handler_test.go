package gqlws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws/gqlwstest"
)

func TestQueryAndSubscription(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlws.Options{})
	c := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	c.init(nil)

	c.send("subscribe", "q", query("{ hello }"))
	jsonEq(t, c.expect("next", "q").Payload, `{"data":{"hello":"world"}}`)
	c.expect("complete", "q")

	c.send("subscribe", "f", query("{ fail }"))
	m := c.expect("next", "f")
	if !strings.Contains(string(m.Payload), "boom") {
		t.Fatalf("execution error not in next: %s", m.Payload)
	}
	c.expect("complete", "f")

	c.send("subscribe", "t", map[string]any{
		"query":     "subscription T($n: Int!) { ticks(count: $n) }",
		"variables": map[string]any{"n": 5},
	})
	for i := 1; i <= 5; i++ {
		jsonEq(t, c.expect("next", "t").Payload, fmt.Sprintf(`{"data":{"ticks":%d}}`, i))
	}
	c.expect("complete", "t")
	// The id is free again once completed.
	c.send("subscribe", "t", query("subscription { ticks(count: 1) }"))
	c.expect("next", "t")
	c.expect("complete", "t")
}

func TestClientCompleteStopsResolver(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlws.Options{})
	c := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	c.init(nil)
	c.send("subscribe", "1", query("subscription { feed }"))
	feed := s.root.NextFeed(t)
	feed.Send(t, "a")
	jsonEq(t, c.expect("next", "1").Payload, `{"data":{"feed":"a"}}`)
	c.send("complete", "1", nil)
	select {
	case <-feed.Ended():
	case <-time.After(5 * time.Second):
		t.Fatal("resolver context not done after the client's complete")
	}
	// No complete follows the client's complete; the connection stays usable.
	c.send("ping", "", nil)
	c.expect("pong", "")
}

func TestServerCompletesSubscription(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlws.Options{})
	c := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	c.init(nil)
	c.send("subscribe", "1", query("subscription { feed }"))
	feed := s.root.NextFeed(t)
	for _, v := range []string{"a", "b", "c"} {
		feed.Send(t, v)
	}
	feed.Close()
	for _, v := range []string{"a", "b", "c"} {
		jsonEq(t, c.expect("next", "1").Payload, `{"data":{"feed":"`+v+`"}}`)
	}
	c.expect("complete", "1")
}

func TestValidationErrorHasNoComplete(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlws.Options{})
	c := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	c.init(nil)
	c.send("subscribe", "bad", query("{ nope }"))
	m := c.expect("error", "bad")
	if !strings.Contains(string(m.Payload), `Cannot query field \"nope\"`) || !strings.HasPrefix(string(m.Payload), "[") {
		t.Fatalf("error payload = %s, want a list of GraphQL errors", m.Payload)
	}
	c.send("subscribe", "v", map[string]any{"query": "subscription T($n: Int!) { ticks(count: $n) }"})
	c.expect("error", "v") // missing variable
	// Nothing else was sent for "bad": the next message answers the ping.
	c.send("ping", "", map[string]any{"x": 1})
	jsonEq(t, c.expect("pong", "").Payload, `{"x":1}`)
}

func TestCloseCodes(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	refuse := func(_ context.Context, _ *http.Request, p map[string]any) (context.Context, error) {
		switch p["token"] {
		case nil:
			return nil, fmt.Errorf("no token: %w", gqlws.ErrUnauthenticated)
		case "reader":
			return nil, errors.New("read-only key")
		}
		return nil, nil
	}
	s := newServer(t, gqlws.Options{Init: refuse, InitTimeout: 200 * time.Millisecond, ReadLimit: 1024})
	tests := []struct {
		name   string
		run    func(c *client)
		code   int
		reason string
	}{
		{"init timeout", func(*client) {}, 4408, "Connection initialisation timeout"},
		{"unauthenticated", func(c *client) { c.send("connection_init", "", nil) }, 4401, "Unauthorized"},
		{"forbidden", func(c *client) { c.send("connection_init", "", map[string]any{"token": "reader"}) }, 4403, "Forbidden"},
		{"subscribe before ack", func(c *client) { c.send("subscribe", "1", query("{ hello }")) }, 4401, "Unauthorized"},
		{"second init", func(c *client) {
			c.init(map[string]any{"token": "ok"})
			c.send("connection_init", "", map[string]any{"token": "ok"})
		}, 4429, "Too many initialisation requests"},
		{"not json", func(c *client) { c.sendRaw("{") }, 4400, "Invalid message"},
		{"unknown type", func(c *client) { c.send("hello", "", nil) }, 4400, "Unexpected message of type hello"},
		{"subscribe without id", func(c *client) {
			c.init(map[string]any{"token": "ok"})
			c.send("subscribe", "", query("{ hello }"))
		}, 4400, "Invalid subscribe message"},
		{"duplicate id", func(c *client) {
			c.init(map[string]any{"token": "ok"})
			c.send("subscribe", "1", query("subscription { feed }"))
			s.root.NextFeed(t)
			c.send("subscribe", "1", query("subscription { feed }"))
		}, 4409, "Subscriber for 1 already exists"},
		{"message too big", func(c *client) {
			c.init(map[string]any{"token": "ok"})
			c.send("subscribe", "1", query("{ hello "+strings.Repeat(" ", 2048)+"}"))
		}, websocket.CloseMessageTooBig, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
			tt.run(c)
			c.expectClose(tt.code, tt.reason)
		})
	}
}

func TestInitContextReachesResolvers(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	init := func(ctx context.Context, r *http.Request, p map[string]any) (context.Context, error) {
		return context.WithValue(ctx, gqlwstest.PrincipalKey{}, p["user"]), nil
	}
	s := newServer(t, gqlws.Options{Init: init})
	c := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	c.init(map[string]any{"user": "ada"})
	c.send("subscribe", "1", query("{ whoami }"))
	jsonEq(t, c.expect("next", "1").Payload, `{"data":{"whoami":"ada"}}`)
}

func TestHandshake(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	s := newServer(t, gqlws.Options{Next: next})
	plain := newServer(t, gqlws.Options{})

	for _, tt := range []struct {
		srv  *server
		want int
	}{{s, http.StatusTeapot}, {plain, http.StatusBadRequest}} {
		resp, err := http.Get(tt.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("plain GET = %d, want %d", resp.StatusCode, tt.want)
		}
	}

	d := websocket.Dialer{Subprotocols: []string{gqlws.ProtocolTransportWS}}
	_, resp, err := d.Dial(s.wsURL(), http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin dial: err=%v resp=%v, want 403", err, resp)
	}
	c := dial(t, s.wsURL(), "graphql-sse")
	c.expectClose(4406, "Subprotocol not acceptable")
	for _, p := range []string{gqlws.ProtocolTransportWS, gqlws.ProtocolLegacy} {
		c := dial(t, s.wsURL(), p)
		if got := c.ws.Subprotocol(); got != p {
			t.Errorf("negotiated %q, want %q", got, p)
		}
	}
}

func TestMaxOperations(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlws.Options{MaxOperations: 1})
	c := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	c.init(nil)
	c.send("subscribe", "1", query("subscription { feed }"))
	s.root.NextFeed(t)
	c.send("subscribe", "2", query("{ hello }"))
	m := c.expect("error", "2")
	if !strings.Contains(string(m.Payload), "too many active operations") {
		t.Fatalf("payload %s", m.Payload)
	}
}

func TestServerPing(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlws.Options{KeepAlive: 50 * time.Millisecond})
	c := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	c.init(nil)
	// Answering keeps the connection open beyond two intervals.
	pings := 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		m, err := c.readErr()
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == "ping" {
			pings++
			c.send("pong", "", nil)
		}
	}
	if pings < 2 {
		t.Fatalf("%d pings in 300ms, want at least 2", pings)
	}
	c.send("subscribe", "1", query("{ hello }"))
	c.expect("next", "1")
}

func TestShutdownCompletesOperations(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlws.Options{})
	clients := map[string]*client{
		gqlws.ProtocolTransportWS: dial(t, s.wsURL(), gqlws.ProtocolTransportWS),
		gqlws.ProtocolLegacy:      dial(t, s.wsURL(), gqlws.ProtocolLegacy),
	}
	for p, c := range clients {
		c.init(nil)
		if p == gqlws.ProtocolLegacy {
			c.send("start", "1", query("subscription { feed }"))
		} else {
			c.send("subscribe", "1", query("subscription { feed }"))
		}
		s.root.NextFeed(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		c.expect("complete", "1")
		c.expectClose(websocket.CloseGoingAway, "server shutting down")
	}
	if _, resp, err := dialErr(s.wsURL(), gqlws.ProtocolTransportWS); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after shutdown: %v %v, want 503", err, resp)
	}
}
