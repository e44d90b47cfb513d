package actors_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/providers"
	_ "github.com/circuit-breaker/circuit-breaker/providers/openai"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// recorder keeps the router's call records.
type recorder struct {
	mu    sync.Mutex
	calls []router.Call
}

func (r *recorder) Record(c router.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) all() []router.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]router.Call(nil), r.calls...)
}

// agentEnv is an embedded store, the simulator behind the real router
// (OpenAI format, model gpt-4o), an HTTP tool server and a System.
type agentEnv struct {
	t      *testing.T
	store  events.Store
	sim    *sim.Server
	router *router.Router
	rec    *recorder
	sys    *actors.System
	tools  *toolServer
	// gone counts upstream requests whose client went away.
	mu   sync.Mutex
	gone int
}

func newAgentEnv(t *testing.T) *agentEnv {
	t.Helper()
	e := &agentEnv{t: t, store: natsjstest.Open(t, ""), sim: sim.New(sim.Config{}), rec: &recorder{}}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.sim.ServeHTTP(w, r)
		if r.Context().Err() != nil {
			e.mu.Lock()
			e.gone++
			e.mu.Unlock()
		}
	}))
	t.Cleanup(up.Close)
	client, err := providers.New(providers.Config{Name: "openai", Format: "openai", BaseURL: up.URL + "/v1", APIKey: "sk-test"})
	if err != nil {
		t.Fatal(err)
	}
	e.router, err = router.New(router.Config{Recorder: e.rec, Deployments: []router.Deployment{
		{Name: "openai", Provider: "openai", Client: client, Models: []string{"gpt-4o"}}}})
	if err != nil {
		t.Fatal(err)
	}
	e.tools = newToolServer(t)
	e.sys = e.start()
	return e
}

// start starts a System on the environment's store and router.
func (e *agentEnv) start() *actors.System {
	sys := actors.New(e.store, actors.Options{LLM: e.router, RequestTimeout: 20 * time.Second})
	e.t.Cleanup(func() { _ = sys.Stop(context.Background()) })
	return sys
}

func (e *agentEnv) upstreamGone() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gone
}

// chats are the chat requests the simulator received.
func (e *agentEnv) chats() []sim.Request {
	var out []sim.Request
	for _, r := range e.sim.Requests() {
		if strings.HasSuffix(r.Path, "/chat/completions") {
			out = append(out, r)
		}
	}
	return out
}

// journal reads the run's stream.
func (e *agentEnv) journal(id string) []events.Envelope {
	e.t.Helper()
	evs, err := e.store.ReadStream(context.Background(), events.AgentRunStream(acme.Tenant, id), 1, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func types(evs []events.Envelope) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

// define saves an agent using the simulator's gpt-4o and the given tools.
func (e *agentEnv) define(name string, tools ...agent.Tool) agent.Definition {
	e.t.Helper()
	d, err := e.sys.Agents.Save(context.Background(), acme, agent.Definition{Name: name, Model: "gpt-4o",
		SystemPrompt: "You are a test agent.", Tools: tools})
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// wait watches run id until it ends and returns every event seen.
func (e *agentEnv) wait(sys *actors.System, id string) ([]actors.RunEvent, actors.RunView) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ch, err := sys.Agents.Watch(ctx, acme, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var seen []actors.RunEvent
	for ev := range ch {
		seen = append(seen, ev)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("run %s did not end; events %v", id, evTypes(seen))
	}
	v, err := sys.Agents.Run(context.Background(), acme, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return seen, v
}

// waitFor watches run id until an event of type typ.
func (e *agentEnv) waitFor(sys *actors.System, id, typ string) actors.RunEvent {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ch, err := sys.Agents.Watch(ctx, acme, id)
	if err != nil {
		e.t.Fatal(err)
	}
	for ev := range ch {
		if ev.Type == typ {
			return ev
		}
	}
	e.t.Fatalf("run %s: no %s event", id, typ)
	return actors.RunEvent{}
}

func evTypes(evs []actors.RunEvent) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		if ev.Type != actors.RunEventToken && ev.Type != actors.RunEventThinking {
			out = append(out, ev.Type)
		}
	}
	return out
}

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// toolServer serves HTTP tools: /weather answers, /fail fails, /block
// blocks until released (or the client goes away), /pair answers once two
// calls are in flight at the same time.
type toolServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	calls    []string // paths, in arrival order
	bodies   []string
	inFlight int
	maxIn    int
	release  chan struct{}
	pair     chan struct{}
}

func newToolServer(t *testing.T) *toolServer {
	ts := &toolServer{release: make(chan struct{}), pair: make(chan struct{})}
	var pairOnce sync.Once
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ts.mu.Lock()
		ts.calls = append(ts.calls, r.URL.Path)
		ts.bodies = append(ts.bodies, string(b))
		ts.inFlight++
		ts.maxIn = max(ts.maxIn, ts.inFlight)
		both := ts.inFlight >= 2
		ts.mu.Unlock()
		defer func() {
			ts.mu.Lock()
			ts.inFlight--
			ts.mu.Unlock()
		}()
		switch r.URL.Path {
		case "/weather":
			w.Write([]byte(`{"temp":21}`))
		case "/fail":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/block":
			select {
			case <-ts.release:
				w.Write([]byte(`{"unblocked":true}`))
			case <-r.Context().Done():
			}
		case "/pair":
			if both {
				pairOnce.Do(func() { close(ts.pair) })
			}
			select {
			case <-ts.pair:
			case <-time.After(10 * time.Second):
			}
			var args map[string]any
			_ = json.Unmarshal(b, &args)
			w.Write([]byte(`{"echo":"` + toString(args["q"]) + `"}`))
		}
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

func (ts *toolServer) tool(name, path string) agent.Tool {
	return agent.Tool{Name: name, Description: "test tool " + name, Kind: agent.KindHTTP,
		Parameters: json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`),
		HTTP:       &agent.HTTPTool{URL: ts.srv.URL + path}}
}

func (ts *toolServer) seen() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.calls...)
}
