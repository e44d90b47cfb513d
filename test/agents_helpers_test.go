package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

// agentRunFields are the AgentRun fields the agent tests read.
const agentRunFields = `id agentId agentVersion status input output outputJson steps costUsd error
  usage { inputTokens outputTokens totalTokens }`

// agentRunEventFields are the AgentRunEvent fields the agent tests read.
const agentRunEventFields = `type runId step text toolCallId toolName arguments result isError position
  run { id status output steps costUsd error }`

// gqlRun is an AgentRun.
type gqlRun struct {
	ID           string          `json:"id"`
	AgentID      string          `json:"agentId"`
	AgentVersion int             `json:"agentVersion"`
	Status       string          `json:"status"`
	Input        string          `json:"input"`
	Output       string          `json:"output"`
	OutputJSON   json.RawMessage `json:"outputJson"`
	Steps        int             `json:"steps"`
	CostUsd      *float64        `json:"costUsd"`
	Error        string          `json:"error"`
	Usage        gqlUsage        `json:"usage"`
}

// runEvent is an AgentRunEvent, from GraphQL or the REST stream.
type runEvent struct {
	Type       string  `json:"type"`
	RunID      string  `json:"runId"`
	Step       int     `json:"step"`
	Text       string  `json:"text"`
	ToolCallID string  `json:"toolCallId"`
	ToolName   string  `json:"toolName"`
	Arguments  string  `json:"arguments"`
	Result     string  `json:"result"`
	IsError    bool    `json:"isError"`
	Position   int     `json:"position"`
	Run        *gqlRun `json:"run"`
}

// terminal reports whether a run event ends its run.
func (e runEvent) terminal() bool {
	return e.Type == "COMPLETED" || e.Type == "FAILED" || e.Type == "CANCELLED"
}

// createAgent creates an agent as who and returns its id.
func (s *llmServer) createAgent(t *testing.T, who string, in map[string]any) string {
	t.Helper()
	var out struct {
		A struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
		} `json:"createAgent"`
	}
	s.gqlAs(t, who, `mutation($in: AgentInput!) { createAgent(input: $in) { id version } }`, map[string]any{"in": in}, &out)
	if out.A.ID == "" || out.A.Version != 1 {
		t.Fatalf("createAgent = %+v", out.A)
	}
	return out.A.ID
}

// executeAgent starts a run of agentID as who.
func (s *llmServer) executeAgent(t *testing.T, who, agentID, input string) gqlRun {
	t.Helper()
	var out struct {
		R gqlRun `json:"executeAgent"`
	}
	s.gqlAs(t, who, `mutation($a: ID!, $in: String) { executeAgent(agentId: $a, input: $in) { `+agentRunFields+` } }`,
		map[string]any{"a": agentID, "in": input}, &out)
	if out.R.ID == "" || out.R.AgentID != agentID {
		t.Fatalf("executeAgent = %+v", out.R)
	}
	return out.R
}

// agentRun reads a run as who.
func (s *llmServer) agentRun(t *testing.T, who, runID string) gqlRun {
	t.Helper()
	var out struct {
		R *gqlRun `json:"agentRun"`
	}
	s.gqlAs(t, who, `query($id: ID!) { agentRun(id: $id) { `+agentRunFields+` } }`, map[string]any{"id": runID}, &out)
	if out.R == nil {
		t.Fatalf("agentRun(%s) = null", runID)
	}
	return *out.R
}

// waitRun polls the run until its status is one of statuses; it fails
// after 30 s.
func (s *llmServer) waitRun(t *testing.T, who, runID string, statuses ...string) gqlRun {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.agentRun(t, who, runID)
		for _, st := range statuses {
			if r.Status == st {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s after 30s, want one of %v: %+v\nserver log:\n%s", runID, r.Status, statuses, r, s.serverLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runLog returns the events of a run's stream that who sees in the audit
// log, in order.
func (s *llmServer) runLog(t *testing.T, who, runID string) []loggedEvent {
	t.Helper()
	var out struct {
		Events []loggedEvent `json:"events"`
	}
	s.gqlAs(t, who, `query($s: String) { events(stream: $s, from: 1, limit: 1000) { position stream type data } }`,
		map[string]any{"s": "agentrun-" + runID}, &out)
	return out.Events
}

// waitRunLog polls a run's stream until it holds an event of type typ and
// returns the stream.
func (s *llmServer) waitRunLog(t *testing.T, who, runID, typ string) []loggedEvent {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs := s.runLog(t, who, runID)
		for _, e := range evs {
			if e.Type == typ {
				return evs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in run %s after 30s: %+v\nserver log:\n%s", typ, runID, evs, s.serverLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// modelCall is the data of an AgentModelCalled event, as documented in
// events/catalog_agent.go (decoded independently of the product's type).
type modelCall struct {
	Step    int     `json:"step"`
	CallID  string  `json:"callId"`
	Model   string  `json:"model"`
	CostUSD float64 `json:"costUsd"`
	Priced  bool    `json:"priced"`
	Parts   []struct {
		Kind       string `json:"kind"`
		Text       string `json:"text"`
		ToolCallID string `json:"toolCallId"`
		Name       string `json:"name"`
		Arguments  string `json:"arguments"`
	} `json:"parts"`
}

// modelCalls decodes the AgentModelCalled events of a run's stream.
func modelCalls(t *testing.T, evs []loggedEvent) []modelCall {
	t.Helper()
	var out []modelCall
	for _, e := range evs {
		if e.Type != "AgentModelCalled" {
			continue
		}
		var m modelCall
		if err := json.Unmarshal(e.Data, &m); err != nil {
			t.Fatalf("AgentModelCalled %s: %v", e.Data, err)
		}
		out = append(out, m)
	}
	return out
}

// countTypes counts a stream's events by type.
func countTypes(evs []loggedEvent) map[string]int {
	n := map[string]int{}
	for _, e := range evs {
		n[e.Type]++
	}
	return n
}

// toolServer is an HTTP tool: it answers every call with a JSON object
// naming the arguments it received. While it is held, calls wait until it
// is released or the caller goes away.
type toolServer struct {
	*httptest.Server
	mu      sync.Mutex
	calls   []toolCall
	entered chan struct{} // one value per call, as it arrives
	gate    chan struct{} // closed: calls answer
	once    sync.Once
}

// toolCall is a request the tool received.
type toolCall struct {
	Method, Path, Auth string
	Body               string
	Aborted            bool // the caller went away before the answer
}

// newToolServer starts a tool; held tools wait for release.
func newToolServer(t *testing.T, held bool) *toolServer {
	t.Helper()
	ts := &toolServer{entered: make(chan struct{}, 64), gate: make(chan struct{})}
	if !held {
		close(ts.gate)
	}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := toolCall{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: string(b)}
		ts.entered <- struct{}{}
		select {
		case <-ts.gate:
		case <-r.Context().Done():
			c.Aborted = true
		}
		ts.mu.Lock()
		ts.calls = append(ts.calls, c)
		ts.mu.Unlock()
		if c.Aborted {
			return
		}
		var args map[string]any
		_ = json.Unmarshal(b, &args)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"city": args["city"], "temperatureC": 21, "sky": "clear"})
	}))
	t.Cleanup(func() { ts.release(); ts.Close() })
	return ts
}

// release lets held and future calls answer.
func (ts *toolServer) release() { ts.once.Do(func() { close(ts.gate) }) }

// waitEntered waits for the next call to arrive.
func (ts *toolServer) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-ts.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the tool was not called within 30s")
	}
}

// received returns the calls the tool finished (answered or aborted).
func (ts *toolServer) received() []toolCall {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]toolCall(nil), ts.calls...)
}

// restEvent is one event of GET /v1/agents/runs/{id}/stream.
type restEvent struct {
	ID, Name string
	Event    runEvent
}

// restRunStream is an open GET /v1/agents/runs/{id}/stream.
type restRunStream struct {
	Status int
	Header http.Header
	Body   []byte // an error answer
	events chan restEvent
	errc   chan error
}

// runStream opens the REST stream of a run as who.
func (s *llmServer) runStream(t *testing.T, who, runID string, headers ...string) *restRunStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/v1/agents/runs/"+runID+"/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := append(credHeaders(who), headers...)
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET run stream: %v\nserver log:\n%s", err, s.serverLog())
	}
	st := &restRunStream{Status: res.StatusCode, Header: res.Header, events: make(chan restEvent, 1024), errc: make(chan error, 1)}
	if res.StatusCode != http.StatusOK {
		st.Body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		close(st.events)
		st.errc <- nil
		return st
	}
	// Owned: ends with the body (the server ends the stream, or ctx ends).
	go func() {
		defer res.Body.Close()
		defer close(st.events)
		rd := sse.NewReader(res.Body)
		for {
			ev, err := rd.Next()
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				st.errc <- err
				return
			}
			re := restEvent{ID: ev.ID, Name: ev.Event}
			if err := json.Unmarshal(ev.Data, &re.Event); err != nil {
				st.errc <- fmt.Errorf("event data %q: %w", ev.Data, err)
				return
			}
			st.events <- re
		}
	}()
	t.Cleanup(func() {
		cancel()
		for range st.events {
		}
	})
	return st
}

// next returns the next event; ok is false at the end of the stream.
func (st *restRunStream) next(t *testing.T) (restEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-st.events:
		if !ok {
			if err := <-st.errc; err != nil {
				t.Fatalf("run stream: %v", err)
			}
			st.errc <- nil
		}
		return ev, ok
	case <-time.After(30 * time.Second):
		t.Fatal("no run stream event for 30s")
	}
	return restEvent{}, false
}

// until reads events up to and including the first of type typ.
func (st *restRunStream) until(t *testing.T, typ string) []restEvent {
	t.Helper()
	var out []restEvent
	for {
		ev, ok := st.next(t)
		if !ok {
			t.Fatalf("run stream ended before %s: %+v", typ, out)
		}
		out = append(out, ev)
		if ev.Name == typ {
			return out
		}
	}
}

// nodeRunEvents reads agentRunEvents results from a node client up to and
// including the first of type typ ("" reads until the operation completes).
func (c *nodeClient) runEvents(t *testing.T, typ string) []runEvent {
	t.Helper()
	var out []runEvent
	for {
		l := c.next(t)
		if l.Complete {
			if typ != "" {
				t.Fatalf("node %s: completed before %s: %+v", c.name, typ, out)
			}
			c.wait(t)
			return out
		}
		if l.Next == nil || len(l.Next.Errors) > 0 {
			t.Fatalf("node %s: want an event, got %s\nstderr:\n%s", c.name, l.raw, c.stderr)
		}
		var d struct {
			E runEvent `json:"agentRunEvents"`
		}
		if err := json.Unmarshal(l.Next.Data, &d); err != nil {
			t.Fatalf("node %s: %v: %s", c.name, err, l.raw)
		}
		out = append(out, d.E)
		if typ != "" && d.E.Type == typ {
			return out
		}
	}
}

// eventTypes lists the types of events, tokens merged into one "TOKEN*".
func eventTypes(evs []runEvent) string {
	var b strings.Builder
	last := ""
	for _, e := range evs {
		typ := e.Type
		if typ == "TOKEN" || typ == "THINKING" {
			if last == typ {
				continue
			}
		}
		last = typ
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(typ)
		if typ == "TOKEN" || typ == "THINKING" {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// waitFor polls cond until it holds; it fails after 30 s naming what.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 30s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
