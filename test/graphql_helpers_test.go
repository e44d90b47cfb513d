package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// adminKey is the bootstrap admin key of the servers started by startAuth.
const adminKey = "e2e-admin-key-0123456789abcdef0123456789abcdef"

// startAuth starts a server with authentication required and adminKey as
// its bootstrap admin key (through the environment, which start passes on).
func startAuth(t *testing.T) *proc {
	t.Helper()
	t.Setenv("CIRCUIT_BREAKER_AUTH_MODE", "required")
	t.Setenv("CIRCUIT_BREAKER_ADMIN_KEY", adminKey)
	return start(t, t.TempDir())
}

// gqlError is one GraphQL error of a response.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// gqlResp is the answer to a GraphQL request over HTTP.
type gqlResp struct {
	Status int
	Body   []byte
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// hasData reports whether the response carries any non-null data.
func (r gqlResp) hasData() bool {
	var m map[string]any
	if json.Unmarshal(r.Data, &m) != nil {
		return false
	}
	for _, v := range m {
		if v != nil {
			return true
		}
	}
	return false
}

func (r gqlResp) codes() []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, e.code())
	}
	return out
}

// post POSTs a GraphQL request to /graphql, with token as a bearer
// credential when it is not empty. Safe in any goroutine.
func (p *proc) post(token, query string, vars map[string]any) (gqlResp, error) {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return gqlResp{}, err
	}
	req, err := http.NewRequest("POST", p.base+"/graphql", bytes.NewReader(b))
	if err != nil {
		return gqlResp{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return gqlResp{}, fmt.Errorf("POST /graphql: %w", err)
	}
	defer res.Body.Close()
	r := gqlResp{Status: res.StatusCode}
	if r.Body, err = io.ReadAll(res.Body); err != nil {
		return r, err
	}
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(r.Body, &r); err != nil {
			return r, fmt.Errorf("POST /graphql: %w: %s", err, r.Body)
		}
	}
	return r, nil
}

// gqlDo is post that fails the test when the request cannot be made.
func (p *proc) gqlDo(t *testing.T, token, query string, vars map[string]any) gqlResp {
	t.Helper()
	r, err := p.post(token, query, vars)
	if err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, p.log)
	}
	return r
}

// gqlOK runs a GraphQL request that must succeed and decodes its data into
// out (when not nil).
func (p *proc) gqlOK(t *testing.T, token, query string, vars map[string]any, out any) {
	t.Helper()
	r := p.gqlDo(t, token, query, vars)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("GraphQL request failed: %d %s\nquery: %s", r.Status, r.Body, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("decoding %s: %v", r.Data, err)
		}
	}
}

// apiKey is a created API key.
type apiKey struct {
	ID, Secret string
}

// createKey creates an API key of tenant with the admin key.
func (p *proc) createKey(t *testing.T, tenant string) apiKey {
	t.Helper()
	var out struct {
		CreateApiKey struct {
			Key struct {
				ID     string `json:"id"`
				Tenant string `json:"tenant"`
			} `json:"key"`
			Secret string `json:"secret"`
		} `json:"createApiKey"`
	}
	p.gqlOK(t, adminKey, `mutation($t: String!) { createApiKey(tenant: $t, name: "e2e") { key { id tenant } secret } }`,
		map[string]any{"t": tenant}, &out)
	k := out.CreateApiKey
	if k.Key.Tenant != tenant || k.Secret == "" || k.Key.ID == "" {
		t.Fatalf("createApiKey(%s) = %+v", tenant, k)
	}
	return apiKey{ID: k.Key.ID, Secret: k.Secret}
}

// pingPongInput is the pingPong workflow as a GraphQL WorkflowInput.
func pingPongInput(id string) map[string]any {
	return map[string]any{
		"id":     id,
		"name":   "Ping pong",
		"states": []string{"ping", "pong"},
		"activities": []map[string]any{
			{"id": "hit", "fromStates": []string{"ping"}, "toState": "pong"},
			{"id": "return", "fromStates": []string{"pong"}, "toState": "ping"},
		},
	}
}

// createPingPong creates a ping-pong workflow with resources ids, as token's
// tenant, and returns the position of each resource's creation.
func (p *proc) createPingPong(t *testing.T, token, workflowID string, ids ...string) map[string]int {
	t.Helper()
	p.gqlOK(t, token, `mutation($in: WorkflowInput!) { createWorkflow(input: $in) { id } }`,
		map[string]any{"in": pingPongInput(workflowID)}, nil)
	created := map[string]int{}
	for _, id := range ids {
		var out struct {
			ExecuteWorkflow struct {
				ID      string `json:"id"`
				State   string `json:"state"`
				History []struct {
					Position int `json:"position"`
				} `json:"history"`
			} `json:"executeWorkflow"`
		}
		p.gqlOK(t, token, `mutation($w: ID!, $r: ID!) { executeWorkflow(workflowId: $w, resourceId: $r, input: {n: 0}) { id state history { position } } }`,
			map[string]any{"w": workflowID, "r": id}, &out)
		r := out.ExecuteWorkflow
		if r.ID != id || r.State != "ping" || len(r.History) != 1 {
			t.Fatalf("executeWorkflow(%s) = %+v", id, r)
		}
		created[id] = r.History[0].Position
	}
	return created
}

// fired is an acknowledged executeActivity.
type fired struct {
	Resource string `json:"resourceId"`
	Activity string `json:"activity"`
	From     string `json:"fromState"`
	To       string `json:"toState"`
	Revision int    `json:"revision"`
	Position int    `json:"position"`
}

const fireQuery = `mutation($r: ID!, $a: ID!) { executeActivity(resourceId: $r, activityId: $a, data: {by: "e2e"}) { resourceId activity fromState toState revision position } }`

// fireErr runs the next activity of a ping-pong resource in state state.
// Safe in any goroutine.
func (p *proc) fireErr(token, resourceID, state string) (fired, error) {
	act := "hit"
	if state == "pong" {
		act = "return"
	}
	r, err := p.post(token, fireQuery, map[string]any{"r": resourceID, "a": act})
	if err != nil {
		return fired{}, err
	}
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		return fired{}, fmt.Errorf("executeActivity(%s, %s): %d %s", resourceID, act, r.Status, r.Body)
	}
	var out struct {
		ExecuteActivity fired `json:"executeActivity"`
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		return fired{}, err
	}
	return out.ExecuteActivity, nil
}

// fire is fireErr that fails the test on error.
func (p *proc) fire(t *testing.T, token, resourceID, state string) fired {
	t.Helper()
	f, err := p.fireErr(token, resourceID, state)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// wsURL is the WebSocket URL of the GraphQL endpoint.
func (p *proc) wsURL() string { return "ws" + strings.TrimPrefix(p.base, "http") + "/graphql" }

const nodeDir = "node"

var npmOnce sync.Once

// requireNode checks node and npm and installs the pinned clients of
// test/node once (npm ci from the lockfile). Their absence is a failure,
// not a skip: the acceptance tests need the official npm clients.
func requireNode(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found on PATH: the GraphQL end-to-end tests need Node.js >= 20 and npm (e.g. apt-get install nodejs npm)", tool)
		}
	}
	var failure string
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", ".package-lock.json")); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = nodeDir
		if out, err := cmd.CombinedOutput(); err != nil {
			failure = fmt.Sprintf("npm ci in test/%s: %v\n%s", nodeDir, err, out)
		}
	})
	if failure != "" {
		t.Fatal(failure)
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", ".package-lock.json")); err != nil {
		t.Fatalf("npm clients not installed in test/%s (an earlier npm ci failed?)", nodeDir)
	}
}

// nodeLine is one JSON line printed by node/subscribe.mjs.
type nodeLine struct {
	Next *struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	} `json:"next"`
	Complete bool       `json:"complete"`
	Done     bool       `json:"done"`
	Error    []gqlError `json:"error"`
	Closed   *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
		Status int    `json:"status"`
		Body   string `json:"body"`
	} `json:"closed"`
	raw string
}

// nodeClient is a running node/subscribe.mjs.
type nodeClient struct {
	name   string
	lines  chan nodeLine
	exited chan error // the result of Wait, once stdout is drained
	stderr *bytes.Buffer
	cancel context.CancelFunc
}

// subscribeOpts are the arguments of node/subscribe.mjs.
type subscribeOpts struct {
	Transport string // ws, legacy or sse
	URL       string
	Token     string
	Query     string
	Variables map[string]any
	Count     int // results to receive before unsubscribing; 0: until the end
}

// runNode starts node/subscribe.mjs; its lines arrive on c.lines as it
// prints them. The process is killed at the latest after 30 s or when the
// test ends.
func runNode(t *testing.T, o subscribeOpts) *nodeClient {
	t.Helper()
	vars, err := json.Marshal(o.Variables)
	if err != nil {
		t.Fatal(err)
	}
	if o.Variables == nil {
		vars = []byte("{}")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, "node", "subscribe.mjs",
		"--transport", o.Transport, "--url", o.URL, "--token", o.Token,
		"--query", o.Query, "--variables", string(vars), "--count", fmt.Sprint(o.Count))
	cmd.Dir = nodeDir
	cmd.WaitDelay = 5 * time.Second
	c := &nodeClient{name: o.Transport, lines: make(chan nodeLine, 4096), exited: make(chan error, 1), stderr: &bytes.Buffer{}, cancel: cancel}
	cmd.Stderr = c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	// Owned: ends when the process exits (at the latest when ctx ends).
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			l := nodeLine{raw: sc.Text()}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l = nodeLine{raw: "unparsable: " + sc.Text()}
			}
			c.lines <- l
		}
		close(c.lines)
		c.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		for range c.lines {
		}
	})
	return c
}

// next returns the next line the script prints; the script ending first
// fails the test with its stderr.
func (c *nodeClient) next(t *testing.T) nodeLine {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			err := <-c.exited
			c.exited <- err
			t.Fatalf("node %s ended early (%v); stderr:\n%s", c.name, err, c.stderr)
		}
		return l
	case <-time.After(20 * time.Second):
		t.Fatalf("node %s: no output for 20s; stderr:\n%s", c.name, c.stderr)
	}
	return nodeLine{}
}

// wait waits for the script to exit 0 with no more output.
func (c *nodeClient) wait(t *testing.T) {
	t.Helper()
	var extra []string
	for l := range c.lines {
		extra = append(extra, l.raw)
	}
	err := <-c.exited
	c.exited <- err
	if err != nil {
		t.Fatalf("node %s: %v\nstderr:\n%s", c.name, err, c.stderr)
	}
	if len(extra) > 0 {
		t.Fatalf("node %s printed more than expected:\n%s", c.name, strings.Join(extra, "\n"))
	}
}
