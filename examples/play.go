package examples

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// Client is how Play reaches a server.
type Client struct {
	// Base is the server's base URL, e.g. "http://127.0.0.1:4000".
	Base string
	// Header, when set, adds credentials or a tenant to every request.
	Header func(*http.Request)
	// HTTP is the client to use; nil means one without an overall
	// timeout (Play follows the event feed for as long as ctx allows).
	HTTP *http.Client
}

// Result is what Play saw.
type Result struct {
	// State and Data are the resource's at the end.
	State string
	Data  map[string]any
	// Runs are the ids of the agent runs that worked for the resource,
	// in the order they started.
	Runs []string
	// Events are the events Play reported, in log order.
	Events []events.Envelope
}

// ledgerWait bounds how long Play waits, once the resource has reached
// its end, for the LlmCallCompleted events of its runs' model calls: the
// router journals them a few milliseconds after each call.
const ledgerWait = 3 * time.Second

// Play plays sc on the server: it creates the resource on workflowID,
// answers every human wait the resource parks on with sc.Answers, fires
// sc.Fire once the resource has settled, and returns when the resource is
// in sc.End(). The simulator must have been scripted (sc.Script) before.
//
// Play follows the server's event feed from its start and calls report
// (when not nil) with every event of the resource, of the agent runs that
// work for it and of their model calls (LlmCallCompleted), as they happen.
// A failed agent run or automation step, a wait without an answer in sc,
// or the resource reaching a terminal state other than sc.End() is an
// error. ctx bounds the whole play.
func Play(ctx context.Context, c Client, workflowID string, sc Scenario, report func(events.Envelope)) (Result, error) {
	if c.HTTP == nil {
		c.HTTP = &http.Client{}
	}
	feedCtx, endFeed := context.WithCancel(ctx)
	defer endFeed()
	feed, err := c.follow(feedCtx)
	if err != nil {
		return Result{}, err
	}
	defer feed.Close()

	body := map[string]any{"workflowId": workflowID, "id": sc.ResourceID, "data": sc.Data}
	if err := c.rest(ctx, "POST", "/api/v1/resources", body, nil); err != nil {
		return Result{}, fmt.Errorf("creating resource %s: %w", sc.ResourceID, err)
	}

	p := &player{c: c, sc: sc, report: report, runs: map[string]bool{}, calls: map[string]bool{},
		billed: map[string]bool{}, unclaimed: map[string]events.Envelope{}, start: time.Now().Add(-time.Minute)}
	sc2 := bufio.NewScanner(feed)
	sc2.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var ledgerTimer *time.Timer
	for sc2.Scan() {
		var e events.Envelope
		if err := json.Unmarshal(sc2.Bytes(), &e); err != nil {
			return p.result(), fmt.Errorf("event feed: bad line %q: %w", sc2.Text(), err)
		}
		if err := p.handle(ctx, e); err != nil {
			return p.result(), err
		}
		if p.done {
			if p.billedAll() {
				break
			}
			if ledgerTimer == nil {
				ledgerTimer = time.AfterFunc(ledgerWait, endFeed) // the feed's end ends the loop
				defer ledgerTimer.Stop()
			}
		}
	}
	if !p.done {
		if err := sc2.Err(); err != nil && ctx.Err() == nil {
			return p.result(), fmt.Errorf("event feed: %w", err)
		}
		if ctx.Err() != nil {
			return p.result(), fmt.Errorf("resource %s in state %q, not %q: %w", sc.ResourceID, p.state, p.target(), context.Cause(ctx))
		}
		return p.result(), errors.New("the event feed ended before the scenario did")
	}
	var view struct {
		State string         `json:"state"`
		Data  map[string]any `json:"data"`
	}
	if err := c.rest(ctx, "GET", "/api/v1/resources/"+url.PathEscape(sc.ResourceID), nil, &view); err != nil {
		return p.result(), fmt.Errorf("reading resource %s: %w", sc.ResourceID, err)
	}
	r := p.result()
	r.State, r.Data = view.State, view.Data
	return r, nil
}

// player is the state of one Play.
type player struct {
	c      Client
	sc     Scenario
	report func(events.Envelope)

	state  string
	stage  int // 0: waiting for Settle; i: waiting for Fire[i-1].To
	done   bool
	runs   map[string]bool // runs working for the resource
	order  []string
	calls  map[string]bool // router call ids of those runs' model calls
	billed map[string]bool // call ids seen in LlmCallCompleted
	// unclaimed are ledger events (since start) whose AgentModelCalled
	// has not come yet, by call id.
	unclaimed map[string]events.Envelope
	start     time.Time
	seen      []events.Envelope
}

// probe holds the fields of the event data Play looks at.
type probe struct {
	ResourceID string `json:"resourceId"`
	RunID      string `json:"runId"`
	CallID     string `json:"callId"`
	State      string `json:"state"`
	To         string `json:"to"`
	Activity   string `json:"activity"`
	WaitID     string `json:"waitId"`
	Kind       string `json:"kind"`
	Error      string `json:"error"`
}

func (p *player) result() Result {
	return Result{State: p.state, Runs: append([]string(nil), p.order...), Events: p.seen}
}

func (p *player) target() string {
	if p.stage == 0 {
		return p.sc.Settle
	}
	return p.sc.Fire[p.stage-1].To
}

func (p *player) billedAll() bool {
	for id := range p.calls {
		if !p.billed[id] {
			return false
		}
	}
	return true
}

func (p *player) track(runID string) {
	if runID != "" && !p.runs[runID] {
		p.runs[runID] = true
		p.order = append(p.order, runID)
	}
}

// handle reacts to one event of the feed.
func (p *player) handle(ctx context.Context, e events.Envelope) error {
	var d probe
	_ = json.Unmarshal(e.Data, &d) // events without these fields are skipped below
	mine := false
	switch {
	case strings.HasPrefix(e.Stream, events.ResourceStreamPrefix):
		mine = d.ResourceID == p.sc.ResourceID
	case strings.HasPrefix(e.Stream, events.AgentRunStreamPrefix):
		if e.Type == events.TypeAgentRunStarted && d.ResourceID == p.sc.ResourceID {
			p.track(d.RunID)
		}
		mine = p.runs[d.RunID]
		if mine && e.Type == events.TypeAgentModelCalled && d.CallID != "" {
			p.calls[d.CallID] = true
		}
	case e.Type == events.TypeLlmCallCompleted:
		// A call's ledger event may come before or after the run's
		// AgentModelCalled: one that comes first waits for it.
		p.billed[d.CallID] = true
		if !p.calls[d.CallID] {
			if e.Time.After(p.start) {
				p.unclaimed[d.CallID] = e
			}
			return nil
		}
		mine = true
	}
	if mine && e.Type == events.TypeAgentModelCalled {
		p.emit(e)
		if l, ok := p.unclaimed[d.CallID]; ok {
			delete(p.unclaimed, d.CallID)
			p.emit(l)
		}
		return nil
	}
	if !mine {
		return nil
	}
	p.emit(e)
	switch e.Type {
	case events.TypeResourceCreated:
		p.state = d.State
	case events.TypeStateChanged:
		p.state = d.To
	case events.TypeResourceAgentStarted:
		p.track(d.RunID)
		return nil
	case events.TypeResourceParked:
		p.track(d.RunID)
		return p.answer(ctx, d)
	case events.TypeResourceActivityFailed:
		return fmt.Errorf("activity %s of resource %s failed (%s): %s", d.Activity, d.ResourceID, d.Kind, d.Error)
	case events.TypeAgentRunFailed:
		return fmt.Errorf("agent run %s failed (%s): %s", d.RunID, d.Kind, d.Error)
	default:
		return nil
	}
	return p.advance(ctx)
}

// emit reports e and keeps it for the result.
func (p *player) emit(e events.Envelope) {
	p.seen = append(p.seen, e)
	if p.report != nil {
		p.report(e)
	}
}

// advance fires the next activity once the resource is where the
// scenario expects it.
func (p *player) advance(ctx context.Context) error {
	if p.done || p.state != p.target() {
		return nil
	}
	if p.stage == len(p.sc.Fire) {
		p.done = true
		return nil
	}
	f := p.sc.Fire[p.stage]
	p.stage++
	body := map[string]any{"data": f.Data}
	path := "/api/v1/resources/" + url.PathEscape(p.sc.ResourceID) + "/activities/" + url.PathEscape(f.Activity)
	if err := p.c.rest(ctx, "POST", path, body, nil); err != nil {
		return fmt.Errorf("firing %s: %w", f.Activity, err)
	}
	return nil
}

// answer resumes the resource with the scenario's answer to its wait.
func (p *player) answer(ctx context.Context, d probe) error {
	ans, ok := p.sc.Answers[d.Activity]
	if !ok {
		return fmt.Errorf("resource %s waits for a human at %s, and the scenario has no answer", d.ResourceID, d.Activity)
	}
	var out struct {
		ResumeResource struct {
			ToState string `json:"toState"`
		} `json:"resumeResource"`
	}
	return p.c.graphql(ctx, `mutation($id: ID!, $answer: JSON!, $wait: ID) {
  resumeResource(resourceId: $id, answer: $answer, waitId: $wait) { toState }
}`, map[string]any{"id": d.ResourceID, "answer": ans, "wait": d.WaitID}, &out)
}

// follow opens the event feed from the start of the log.
func (c Client) follow(ctx context.Context) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.Base+"/api/v1/events?from=1&follow=1", nil)
	if err != nil {
		return nil, err
	}
	c.header(req)
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("event feed: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		return nil, fmt.Errorf("event feed: %w", answerError(res))
	}
	return res.Body, nil
}

func (c Client) header(req *http.Request) {
	if c.Header != nil {
		c.Header(req)
	}
}

// rest sends a JSON request and decodes a 2xx answer into out (if not nil).
func (c Client) rest(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, c.Base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.header(req)
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return answerError(res)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// graphql runs one GraphQL operation and decodes its data into out.
func (c Client) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := c.rest(ctx, "POST", "/graphql", map[string]any{"query": query, "variables": vars}, &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		msgs := make([]string, len(resp.Errors))
		for i, e := range resp.Errors {
			msgs[i] = e.Message
			if code, ok := e.Extensions["code"].(string); ok {
				msgs[i] = code + ": " + e.Message
			}
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	if out == nil || len(resp.Data) == 0 {
		return nil
	}
	return json.Unmarshal(resp.Data, out)
}

// answerError is a non-2xx answer as an error.
func answerError(res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return fmt.Errorf("server answered %s: %s", res.Status, strings.TrimSpace(string(b)))
}
