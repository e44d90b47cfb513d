package gqlws_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws/gqlwstest"
)

// FuzzMessages sends arbitrary messages, after a connection_init, on both
// subprotocols of a real handler: the server must answer or close the
// connection, never panic (a panic in the handler kills the test binary)
// and keep serving new connections.
func FuzzMessages(f *testing.F) {
	for _, seed := range []string{
		`{"type":"subscribe","id":"1","payload":{"query":"{ hello }"}}`,
		`{"type":"subscribe","id":"1","payload":{"query":"subscription { ticks(count: 2) }"}}`,
		`{"type":"start","id":"1","payload":{"query":"{ hello }"}}`,
		`{"type":"complete","id":"1"}`,
		`{"type":"ping","payload":[1,2]}`,
		`{"type":"connection_init","payload":null}`,
		`{"type":"subscribe","id":"","payload":{"variables":{"a":{"b":[]}}}}`,
		`[]`, `{`, `"x"`, `{"type":1}`,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	schema, _ := gqlwstest.NewSchema()
	h := gqlws.NewHandler(gqlws.FromSchema(schema), gqlws.Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	f.Fuzz(func(t *testing.T, message string, legacy bool) {
		proto := gqlws.ProtocolTransportWS
		if legacy {
			proto = gqlws.ProtocolLegacy
		}
		d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 2 * time.Second}
		ws, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatalf("server stopped accepting connections: %v", err)
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"connection_init"}`))
		_ = ws.WriteMessage(websocket.TextMessage, []byte(message))
		_ = ws.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	})
}
