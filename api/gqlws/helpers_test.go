package gqlws_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws/gqlwstest"
)

// server starts the test schema behind a gqlws handler on a real port.
type server struct {
	*httptest.Server
	h    *gqlws.Handler
	root *gqlwstest.Root
}

func newServer(t *testing.T, opts gqlws.Options) *server {
	t.Helper()
	schema, root := gqlwstest.NewSchema()
	h := gqlws.NewHandler(gqlws.FromSchema(schema), opts)
	return &server{Server: newHTTPServer(t, h), h: h, root: root}
}

// newHTTPServer serves h on a real port until the test ends.
func newHTTPServer(t *testing.T, h *gqlws.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		srv.Close()
	})
	return srv
}

func (s *server) wsURL() string { return "ws" + strings.TrimPrefix(s.URL, "http") }

// msg is a protocol message as the client sees it.
type msg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, url, proto string) *client {
	t.Helper()
	c, resp, err := dialErr(url, proto)
	if err != nil {
		t.Fatalf("dial %s: %v (response %v)", proto, err, resp)
	}
	c.t = t
	t.Cleanup(func() { c.ws.Close() })
	return c
}

func dialErr(url, proto string) (*client, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(url, nil)
	if err != nil {
		return nil, resp, err
	}
	return &client{ws: ws}, resp, nil
}

func (c *client) send(typ, id string, payload any) {
	c.t.Helper()
	m := map[string]any{"type": typ}
	if id != "" {
		m["id"] = id
	}
	if payload != nil {
		m["payload"] = payload
	}
	if err := c.ws.WriteJSON(m); err != nil {
		c.t.Fatalf("send %s: %v", typ, err)
	}
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// read returns the next message that is not a keep-alive.
func (c *client) read() msg {
	c.t.Helper()
	for {
		m, err := c.readErr()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if m.Type != "ka" && m.Type != "ping" {
			return m
		}
	}
}

func (c *client) readErr() (msg, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m msg
	err := c.ws.ReadJSON(&m)
	return m, err
}

func (c *client) expect(typ, id string) msg {
	c.t.Helper()
	m := c.read()
	if m.Type != typ || m.ID != id {
		c.t.Fatalf("got %s id=%q payload=%s, want %s id=%q", m.Type, m.ID, m.Payload, typ, id)
	}
	return m
}

// expectClose reads until the server closes and checks the close code.
func (c *client) expectClose(code int, reasonPrefix string) {
	c.t.Helper()
	for {
		m, err := c.readErr()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("want close %d, got %v (last %s)", code, err, m.Type)
		}
		if ce.Code != code || !strings.HasPrefix(ce.Text, reasonPrefix) {
			c.t.Fatalf("close = %d %q, want %d %q…", ce.Code, ce.Text, code, reasonPrefix)
		}
		return
	}
}

func (c *client) init(payload any) {
	c.t.Helper()
	c.send("connection_init", "", payload)
	c.expect("connection_ack", "")
}

func query(q string) map[string]any { return map[string]any{"query": q} }

func jsonEq(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("bad json %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want json %s: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("got %s, want %s", gb, wb)
	}
}
