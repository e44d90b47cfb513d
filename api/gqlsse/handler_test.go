package gqlsse_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/api/gqlsse"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws/gqlwstest"
)

type server struct {
	*httptest.Server
	h    *gqlsse.Handler
	root *gqlwstest.Root
}

func newServer(t *testing.T, opts gqlsse.Options) *server {
	t.Helper()
	schema, root := gqlwstest.NewSchema()
	h := gqlsse.NewHandler(gqlws.FromSchema(schema), opts)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		srv.Close()
	})
	return &server{Server: srv, h: h, root: root}
}

type event struct{ name, data string }

// sse is an open event stream.
type sse struct {
	t      *testing.T
	resp   *http.Response
	sc     *bufio.Scanner
	cancel context.CancelFunc
}

func post(t *testing.T, url string, body any) *sse {
	t.Helper()
	b, _ := json.Marshal(body)
	return open(t, http.MethodPost, url, strings.NewReader(string(b)))
}

func open(t *testing.T, method, url string, body io.Reader, header ...string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, method, url, body)
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &sse{t: t, resp: resp, sc: bufio.NewScanner(resp.Body), cancel: cancel}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return s
}

// next returns the next event; comments are returned as event{":", ""}.
func (s *sse) next() event {
	s.t.Helper()
	var ev event
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				return ev
			}
		case strings.HasPrefix(line, ":"):
			ev.name = ":"
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data:"):
			ev.data = strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		}
	}
	s.t.Fatalf("stream ended: %v", s.sc.Err())
	return ev
}

func (s *sse) expect(name, data string) {
	s.t.Helper()
	ev := s.next()
	for ev.name == ":" {
		ev = s.next()
	}
	if ev.name != name || (data != "" && ev.data != data) {
		s.t.Fatalf("got event %q data %s, want %q %s", ev.name, ev.data, name, data)
	}
}

func TestStreams(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlsse.Options{})

	q := post(t, s.URL, map[string]any{"query": "{ hello }"})
	if ct := q.resp.Header.Get("Content-Type"); q.resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("status %d content-type %q", q.resp.StatusCode, ct)
	}
	q.expect("next", `{"data":{"hello":"world"}}`)
	q.expect("complete", "")

	sub := open(t, http.MethodGet, s.URL+"?"+url.Values{
		"query":     {"subscription T($n: Int!) { ticks(count: $n) }"},
		"variables": {`{"n":3}`},
	}.Encode(), nil)
	for i := 1; i <= 3; i++ {
		sub.expect("next", fmt.Sprintf(`{"data":{"ticks":%d}}`, i))
	}
	sub.expect("complete", "")

	bad := post(t, s.URL, map[string]any{"query": "{ nope }"})
	if bad.resp.StatusCode != 200 {
		t.Fatalf("validation error status %d, want 200", bad.resp.StatusCode)
	}
	ev := bad.next()
	if ev.name != "next" || !strings.Contains(ev.data, `"errors"`) || strings.Contains(ev.data, `"data"`) {
		t.Fatalf("validation error event %+v", ev)
	}
	bad.expect("complete", "")
}

func TestDisconnectStopsResolver(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlsse.Options{Heartbeat: 20 * time.Millisecond})
	c := post(t, s.URL, map[string]any{"query": "subscription { feed }"})
	feed := s.root.NextFeed(t)
	if ev := c.next(); ev.name != ":" {
		t.Fatalf("want heartbeat comment, got %+v", ev)
	}
	feed.Send(t, "a")
	c.expect("next", `{"data":{"feed":"a"}}`)
	c.cancel()
	select {
	case <-feed.Ended():
	case <-time.After(5 * time.Second):
		t.Fatal("resolver context not done after the client left")
	}
}

func TestShutdownCompletes(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	s := newServer(t, gqlsse.Options{})
	c := post(t, s.URL, map[string]any{"query": "subscription { feed }"})
	s.root.NextFeed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expect("complete", "")
}

func TestRefusals(t *testing.T) {
	gqlwstest.CheckLeaks(t)
	init := func(ctx context.Context, r *http.Request, _ map[string]any) (context.Context, error) {
		switch r.Header.Get("Authorization") {
		case "":
			return nil, fmt.Errorf("no key: %w", gqlws.ErrUnauthenticated)
		case "Bearer reader":
			return nil, errors.New("read-only")
		}
		return ctx, nil
	}
	s := newServer(t, gqlsse.Options{Init: init, MaxBodyBytes: 256, MaxStreamsPerClient: 1})
	ok := "Bearer ok"
	tests := []struct {
		name, method, ctype, auth, accept, query, body string
		want                                           int
	}{
		{"no event-stream accept", "POST", "application/json", ok, "application/json", "", `{"query":"{hello}"}`, 406},
		{"method", "PUT", "application/json", ok, "text/event-stream", "", `{"query":"{hello}"}`, 405},
		{"content type", "POST", "text/plain", ok, "text/event-stream", "", `{"query":"{hello}"}`, 415},
		{"malformed json", "POST", "application/json", ok, "text/event-stream", "", `{"query":`, 400},
		{"no query", "POST", "application/json", ok, "text/event-stream", "", `{}`, 400},
		{"too large", "POST", "application/json", ok, "text/event-stream", "", `{"query":"` + strings.Repeat(" ", 300) + `{hello}"}`, 413},
		{"bad variables", "GET", "", ok, "text/event-stream", "query=%7Bhello%7D&variables=%5B%5D", "", 400},
		{"mutation over GET", "GET", "", ok, "text/event-stream", "query=" + url.QueryEscape("mutation M { x }"), "", 405},
		{"unauthenticated", "POST", "application/json", "", "text/event-stream", "", `{"query":"{hello}"}`, 401},
		{"forbidden", "POST", "application/json", "Bearer reader", "text/event-stream", "", `{"query":"{hello}"}`, 403},
		{"accepted", "POST", "application/json", ok, "text/event-stream, application/json", "", `{"query":"{hello}"}`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.URL+"?"+tt.query, strings.NewReader(tt.body))
			req.Header.Set("Accept", tt.accept)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.want)
			}
		})
	}

	// One stream per client: a second concurrent one is refused.
	open(t, http.MethodGet, s.URL+"?query="+url.QueryEscape("subscription { feed }"), nil, "Authorization", ok)
	s.root.NextFeed(t)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"?query=%7Bhello%7D", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", ok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second stream: %d, want 429", resp.StatusCode)
	}
}

func TestIsMutationNotFooledByStrings(t *testing.T) {
	s := newServer(t, gqlsse.Options{})
	q := `query Q($s: String = "mutation") { hello } # mutation`
	c := open(t, http.MethodGet, s.URL+"?query="+url.QueryEscape(q), nil)
	if c.resp.StatusCode != 200 {
		t.Fatalf("status %d", c.resp.StatusCode)
	}
}
