package gqlws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/gqlsse"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws/gqlwstest"
)

// Serving both WebSocket protocols and SSE on one route, with plain GraphQL
// over HTTP (here a stand-in) for everything else.
func ExampleNewHandler() {
	schema, _ := gqlwstest.NewSchema()
	exec := gqlws.FromSchema(schema)
	auth := func(ctx context.Context, r *http.Request, payload map[string]any) (context.Context, error) {
		// payload is the connection_init payload (nil for SSE, read r instead).
		if payload != nil && payload["authToken"] == nil {
			return nil, fmt.Errorf("no authToken: %w", gqlws.ErrUnauthenticated)
		}
		return ctx, nil
	}
	plain := http.NotFoundHandler() // e.g. &relay.Handler{Schema: schema}
	sse := gqlsse.NewHandler(exec, gqlsse.Options{Init: auth, Next: plain})
	ws := gqlws.NewHandler(exec, gqlws.Options{Init: auth, Next: sse})

	mux := http.NewServeMux()
	mux.Handle("/graphql", ws)
	srv := &http.Server{Addr: "127.0.0.1:4000", Handler: mux}
	_ = srv // srv.ListenAndServe() …

	// On shutdown: the transports first, then the server.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ws.Shutdown(ctx)
	_ = sse.Shutdown(ctx)
	_ = srv.Shutdown(ctx)
	// Output:
}

type failingExecutor struct{}

func (failingExecutor) Subscribe(context.Context, gqlws.Request) (<-chan *graphql.Response, error) {
	return nil, errors.New("database down")
}

func TestInternalError(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	h := gqlws.NewHandler(failingExecutor{}, gqlws.Options{})
	s := &server{h: h}
	s.Server = newHTTPServer(t, h)
	c := dial(t, s.wsURL(), gqlws.ProtocolTransportWS)
	c.init(nil)
	c.send("subscribe", "1", query("{ hello }"))
	c.expectClose(gqlws.CloseInternal, "Internal server error")
}
