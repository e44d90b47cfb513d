package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// client speaks GraphQL to the server and the control API to the
// simulator.
type client struct {
	addr string
	http *http.Client
}

func newClient(addr string, conns int) *client {
	return &client{addr: addr, http: &http.Client{Timeout: 2 * time.Minute,
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns}}}
}

// post sends body to url and decodes a 2xx answer into out.
func (c *client) post(ctx context.Context, url string, body any, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s: %.300s", url, resp.Status, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// gql runs one GraphQL operation and decodes its data into out.
func (c *client) gql(ctx context.Context, query string, vars map[string]any, out any) error {
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := c.post(ctx, "http://"+c.addr+"/graphql", map[string]any{"query": query, "variables": vars}, &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("graphql: %s", resp.Errors[0].Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(resp.Data, out)
}

// script queues the three steps of one run for model on the simulator:
// a tool call, another tool call, the answer.
func (c *client) script(ctx context.Context, sim, model string) error {
	call := func(id string) map[string]any {
		return map[string]any{"tool_calls": []map[string]any{{"id": id, "name": "lookup", "arguments": map[string]any{"city": "Oslo"}}}}
	}
	body := map[string]any{"model": model, "steps": []map[string]any{
		call("call_1"), call("call_2"), {"text": "It is 21 °C in Oslo, twice confirmed."}}}
	return c.post(ctx, "http://"+sim+"/_sim/script", body, nil)
}

const createAgent = `mutation($in: AgentInput!) { createAgent(input: $in) { id } }`

// createAgent creates agent id on model of the "sim" deployment with the
// HTTP tool at toolURL.
func (c *client) createAgent(ctx context.Context, id, model, toolURL string) error {
	in := map[string]any{
		"id": id, "name": "Bench " + id, "llmProvider": "sim", "model": model,
		"systemPrompt": "You look things up with the lookup tool, then answer in one sentence.",
		"maxTokens":    256, "maxSteps": 10, "timeoutSeconds": 3600,
		"tools": []map[string]any{{"name": "lookup", "description": "Looks up the weather of a city.", "url": toolURL,
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}},
				"required": []string{"city"}}}},
	}
	return c.gql(ctx, createAgent, map[string]any{"in": in}, nil)
}

const executeAgent = `mutation($id: ID!) { executeAgent(agentId: $id, input: "What is the weather in Oslo? Check twice.") { id status } }`

// execute starts a run of agent id and returns the run's id.
func (c *client) execute(ctx context.Context, id string) (string, error) {
	var out struct {
		ExecuteAgent struct {
			ID string `json:"id"`
		} `json:"executeAgent"`
	}
	if err := c.gql(ctx, executeAgent, map[string]any{"id": id}, &out); err != nil {
		return "", err
	}
	return out.ExecuteAgent.ID, nil
}

// unfinished reports whether the read model still lists a running or
// waiting run.
func (c *client) unfinished(ctx context.Context) (bool, error) {
	var out struct {
		R []struct{ ID string } `json:"r"`
		W []struct{ ID string } `json:"w"`
	}
	err := c.gql(ctx, `{ r: agentRuns(status: "running", first: 1) { id } w: agentRuns(status: "waiting", first: 1) { id } }`, nil, &out)
	return len(out.R)+len(out.W) > 0, err
}

// runInfo is a run as read at the end.
type runInfo struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Steps     int       `json:"steps"`
	Error     *string   `json:"error"`
	StartedAt time.Time `json:"startedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// runs reads the runs ids (100 per request, aliased agentRun fields);
// empty ids (failed starts) are skipped.
func (c *client) runs(ctx context.Context, ids []string, workers int) ([]runInfo, error) {
	var todo []string
	for _, id := range ids {
		if id != "" {
			todo = append(todo, id)
		}
	}
	const per = 100
	batches := (len(todo) + per - 1) / per
	out := make([]runInfo, len(todo))
	var mu sync.Mutex
	err := each(ctx, batches, min(workers, 8), func(b int) error {
		lo, hi := b*per, min((b+1)*per, len(todo))
		var q strings.Builder
		q.WriteString("{")
		for i := lo; i < hi; i++ {
			fmt.Fprintf(&q, " r%d: agentRun(id: %q) { id status steps error startedAt updatedAt }", i, todo[i])
		}
		q.WriteString(" }")
		var got map[string]*runInfo
		if err := c.gql(ctx, q.String(), nil, &got); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for i := lo; i < hi; i++ {
			r := got[fmt.Sprintf("r%d", i)]
			if r == nil {
				return fmt.Errorf("run %s not found", todo[i])
			}
			out[i] = *r
		}
		return nil
	})
	return out, err
}

// hasEvent reports whether the caller's log has an event at position ≥ p.
func (c *client) hasEvent(ctx context.Context, p uint64) (bool, error) {
	var out struct {
		Events []struct{ Position uint64 } `json:"events"`
	}
	err := c.gql(ctx, fmt.Sprintf(`{ events(from: %d, limit: 1) { position } }`, p), nil, &out)
	return len(out.Events) > 0, err
}

// head is the position of the caller's last event (exponential, then
// binary search over the events query).
func (c *client) head(ctx context.Context) (uint64, error) {
	hi := uint64(1)
	for {
		ok, err := c.hasEvent(ctx, hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		hi *= 2
	}
	lo := uint64(0) // invariant: an event at ≥ lo (or lo = 0), none at ≥ hi
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := c.hasEvent(ctx, mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// settledHead waits until the head has not moved for a second.
func (c *client) settledHead(ctx context.Context) (uint64, error) {
	last, err := c.head(ctx)
	for err == nil {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
		var h uint64
		if h, err = c.head(ctx); err == nil && h == last {
			return h, nil
		}
		last = h
	}
	return 0, err
}

// countEvents counts the caller's events in [from, to] by type.
func (c *client) countEvents(ctx context.Context, from, to uint64) (map[string]int, error) {
	n := map[string]int{}
	for from <= to {
		var out struct {
			Events []struct {
				Position uint64
				Type     string
			} `json:"events"`
		}
		if err := c.gql(ctx, fmt.Sprintf(`{ events(from: %d, limit: 1000) { position type } }`, from), nil, &out); err != nil {
			return nil, err
		}
		if len(out.Events) == 0 {
			break
		}
		for _, e := range out.Events {
			if e.Position <= to {
				n[e.Type]++
			}
		}
		from = out.Events[len(out.Events)-1].Position + 1
	}
	return n, nil
}

// profile saves /debug/pprof/<what> of the server to cfg.pprofOut+suffix.
func (c *client) profile(ctx context.Context, cfg config, what, suffix string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+cfg.pprof+"/debug/pprof/"+what, nil)
	if err != nil {
		return
	}
	resp, err := c.http.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "agentload: profile:", err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(cfg.pprofOut+suffix, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "agentload: profile:", err)
	}
}
