package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/gateway"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

// fakeRuns serves acme's run "r1" (four events, then the end) and "live"
// (one event, then nothing until the watch ends, which it reports).
type fakeRuns struct {
	ended chan struct{}
}

var r1 = []actors.RunEvent{
	{Type: actors.RunEventStarted, Position: 3, Run: &actors.RunView{ID: "r1", Status: "running"}},
	{Type: actors.RunEventModelCalled, Step: 1, Position: 5},
	{Type: actors.RunEventToolCall, Step: 1, ToolName: "get_weather", Arguments: "{\"city\":\n\"Oslo\"}", Position: 5},
	{Type: actors.RunEventToken, Step: 2, Text: "Sunny"},
	{Type: actors.RunEventCompleted, Position: 9, Text: "Sunny", Run: &actors.RunView{ID: "r1", Status: "completed", Output: "Sunny"}},
}

func (f *fakeRuns) Watch(ctx context.Context, c actors.Caller, id string) (<-chan actors.RunEvent, error) {
	if c.Tenant != "acme" || (id != "r1" && id != "live") {
		return nil, fmt.Errorf("agent run %q: %w", id, actors.ErrNotFound)
	}
	ch := make(chan actors.RunEvent)
	go func() {
		defer close(ch)
		if id == "live" {
			ch <- r1[0]
			<-ctx.Done()
			close(f.ended)
			return
		}
		for _, ev := range r1 {
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func newAgentStream(t *testing.T) (*httptest.Server, *fakeRuns) {
	t.Helper()
	f := &fakeRuns{ended: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/agents/runs/{id}/stream", gateway.AgentStream(gateway.AgentStreamDeps{Runs: f, KeepAlive: 5 * time.Millisecond,
		Authenticate: func(r *http.Request) (auth.Principal, error) {
			if r.Header.Get("Authorization") == "" {
				return auth.Principal{}, auth.ErrUnauthenticated
			}
			p := auth.Anonymous()
			p.Tenant = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			return p, nil
		}}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, f
}

func getStream(t *testing.T, ctx context.Context, url, tenant string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tenant != "" {
		req.Header.Set("Authorization", "Bearer "+tenant)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

type streamed struct {
	ID, Event string
	Data      gateway.RunEvent
}

func readAll(t *testing.T, body io.Reader) []streamed {
	t.Helper()
	var out []streamed
	rd := sse.NewReader(body)
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		s := streamed{ID: ev.ID, Event: ev.Event}
		if err := json.Unmarshal(ev.Data, &s.Data); err != nil {
			t.Fatalf("data %q: %v", ev.Data, err)
		}
		out = append(out, s)
	}
}

func TestAgentStream(t *testing.T) {
	srv, _ := newAgentStream(t)
	url := srv.URL + "/v1/agents/runs/r1/stream"
	all := make([]streamed, len(r1))
	for i, ev := range r1 {
		all[i] = streamed{Event: ev.Type, Data: gateway.RunEvent{RunID: "r1", RunEvent: ev}}
		if ev.Position != 0 {
			all[i].ID = fmt.Sprint(ev.Position)
		}
	}
	cases := []struct {
		name    string
		headers []string
		want    []streamed
	}{
		{"from the start to the end", nil, all},
		{"resumed after a position", []string{"Last-Event-ID", "5"}, all[3:]},
		{"resumed at the end", []string{"Last-Event-ID", "9"}, []streamed{all[3]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := getStream(t, context.Background(), url, "acme", c.headers...)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			if diff := cmp.Diff(c.want, readAll(t, res.Body)); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAgentStreamErrors(t *testing.T) {
	srv, _ := newAgentStream(t)
	cases := []struct {
		name, path, tenant string
		headers            []string
		status             int
		msg                string
	}{
		{"no credential", "/v1/agents/runs/r1/stream", "", nil, http.StatusUnauthorized, "unauthenticated"},
		{"another tenant's run", "/v1/agents/runs/r1/stream", "globex", nil, http.StatusNotFound, `"r1" does not exist`},
		{"no such run", "/v1/agents/runs/nope/stream", "acme", nil, http.StatusNotFound, `"nope" does not exist`},
		{"bad Last-Event-ID", "/v1/agents/runs/r1/stream", "acme", []string{"Last-Event-ID", "x"}, http.StatusBadRequest, "Last-Event-ID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := getStream(t, context.Background(), srv.URL+c.path, c.tenant, c.headers...)
			b, _ := io.ReadAll(res.Body)
			var body struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if res.StatusCode != c.status || json.Unmarshal(b, &body) != nil || !strings.Contains(body.Error.Message, c.msg) {
				t.Fatalf("%d %s, want %d mentioning %q", res.StatusCode, b, c.status, c.msg)
			}
		})
	}
}

// TestAgentStreamLive: an idle stream gets keep-alive comments, and the
// client going away ends the watch.
func TestAgentStreamLive(t *testing.T) {
	srv, f := newAgentStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	res := getStream(t, ctx, srv.URL+"/v1/agents/runs/live/stream", "acme")
	br := bufio.NewReader(res.Body)
	var lines []string
	for !strings.HasPrefix(strings.Join(lines, "\n"), "id: 3\nevent: STARTED\n") || !strings.HasPrefix(lines[len(lines)-1], ":") {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("%v after %q", err, lines)
		}
		lines = append(lines, strings.TrimRight(l, "\n"))
	}
	cancel()
	select {
	case <-f.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not end with the client")
	}
}
