package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// The deployments every LLM test server has, all pointing at one in-process
// provider simulator. The catalogue providers (anthropic, google, openai,
// amazon-bedrock) are priced from providers/catalog/models-dev.json;
// "custom" is not a catalogue provider, so its model is unpriced.
const (
	claudeModel   = "claude-sonnet-4-5" // deployment claude, Anthropic format
	geminiModel   = "gemini-2.0-flash"  // deployment gemini, Gemini format
	gptModel      = "gpt-4o"            // deployment oai, OpenAI format
	embedModel    = "text-embedding-3-small"
	bedrockModel  = "claude-haiku-4-5" // deployment bedrock, mapped to bedrockUp
	bedrockUp     = "anthropic.claude-haiku-4-5-20251001-v1:0"
	customModel   = "house-model-1" // deployment custom: unpriced
	resilientName = "resilient"     // virtual: claude, then oai
)

// llmConfig is the configuration of the LLM test servers; %[1]s is the
// simulator's URL and %[2]s what a test appends (auth, more deployments).
const llmConfig = `
[server]
log_level = "debug"

[llm]
from_env = false
request_timeout_seconds = 30

[llm.routing]
max_attempts = 2
retry_base_delay = "1ms"
retry_max_delay = "20ms"
breaker_failures = 1000

[llm.providers.claude]
format = "anthropic"
provider = "anthropic"
base_url = "%[1]s"
api_key = "sim-anthropic-key"
models = ["claude-sonnet-4-5"]

[llm.providers.gemini]
format = "gemini"
provider = "google"
base_url = "%[1]s/v1beta"
api_key = "sim-gemini-key"
models = ["gemini-2.0-flash"]

[llm.providers.oai]
format = "openai"
provider = "openai"
base_url = "%[1]s/v1"
api_key = "sim-openai-key"
models = ["gpt-4o", "text-embedding-3-small"]

[llm.providers.bedrock]
format = "bedrock"
provider = "amazon-bedrock"
base_url = "%[1]s"
api_key = "sim-bedrock-bearer"
region = "us-east-1"
models = ["claude-haiku-4-5"]
model_map = { "claude-haiku-4-5" = "anthropic.claude-haiku-4-5-20251001-v1:0" }

[llm.providers.custom]
format = "openai"
base_url = "%[1]s/v1"
api_key = "sim-custom-key"
models = ["house-model-1"]

[llm.virtual_models.resilient]
strategy = "fallback"
models = ["claude/claude-sonnet-4-5", "oai/gpt-4o"]
%[2]s
`

// llmServer is a real circuit-breaker process whose LLM router routes to an
// in-process provider simulator.
type llmServer struct {
	*proc
	sim     *sim.Server
	simURL  string
	logFile string
}

// startLLM starts a simulator and a server configured with llmConfig plus
// extra (TOML appended to the file). The server's environment holds no
// provider key: only PATH, HOME, TMPDIR and the Go race settings pass.
func startLLM(t *testing.T, extra string) *llmServer {
	t.Helper()
	s := sim.New(sim.Config{})
	hs := httptest.NewServer(s) // 127.0.0.1
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "circuit-breaker.toml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, llmConfig, hs.URL, extra), 0o600); err != nil {
		t.Fatal(err)
	}
	ls := &llmServer{sim: s, simURL: hs.URL, logFile: filepath.Join(dir, "server.log")}
	ls.proc = startConfigured(t, cfgPath, filepath.Join(dir, "data"), ls.logFile)
	return ls
}

// cleanEnv is the environment of a server under test: nothing that could
// hold a provider key or another configuration.
func cleanEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GORACE", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// startConfigured runs "serve --port 0 --config cfgPath" with a clean
// environment, its output in logFile, and waits until it is ready.
func startConfigured(t *testing.T, cfgPath, dataDir, logFile string) *proc {
	t.Helper()
	addrFile := filepath.Join(filepath.Dir(logFile), "addr")
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	// The log file, not a buffer, takes the output: it can be read while
	// the process writes it. p.log stays empty.
	p := &proc{log: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary(t), "serve", "--port", "0", "--config", cfgPath, "--data-dir", dataDir, "--addr-file", addrFile)
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.Env = cleanEnv()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }() // owned: ends with the process
	t.Cleanup(func() { p.kill() })
	logText := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil {
			p.base = "http://" + strings.TrimSpace(string(b))
			if res, err := http.Get(p.base + "/ready"); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return p
				}
			}
		}
		select {
		case <-p.done:
			t.Fatalf("server exited early:\n%s", logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready:\n%s", logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverLog is what the server printed so far.
func (s *llmServer) serverLog() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

// simRequests returns the simulator's requests for model (every request
// when model is empty).
func (s *llmServer) simRequests(model string) []sim.Request {
	var out []sim.Request
	for _, r := range s.sim.Requests() {
		if model == "" || r.Model == model {
			out = append(out, r)
		}
	}
	return out
}

// httpResult is an HTTP answer read whole.
type httpResult struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends body (JSON-encoded unless it is []byte) to path with headers
// (name, value pairs) and reads the whole answer.
func (s *llmServer) do(t *testing.T, method, path string, body any, headers ...string) httpResult {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\nserver log:\n%s", method, path, err, s.serverLog())
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return httpResult{Status: res.StatusCode, Header: res.Header, Body: b}
}

// chatBody is an OpenAI chat completion request with one user message.
func chatBody(model, prompt string, extra map[string]any) map[string]any {
	b := map[string]any{"model": model, "messages": []map[string]any{{"role": "user", "content": prompt}}}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// sseEvent is one server-sent event's data.
type sseEvent struct {
	Data string
}

// sseStream is a streamed HTTP answer read event by event.
type sseStream struct {
	Status int
	Header http.Header
	events chan sseEvent
	errc   chan error
	cancel context.CancelFunc
}

// stream POSTs body to path and returns the answer's events as they come.
// Cancel ends the request (the client going away).
func (s *llmServer) stream(t *testing.T, path string, body any, headers ...string) *sseStream {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(b))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("POST %s: %v\nserver log:\n%s", path, err, s.serverLog())
	}
	st := &sseStream{Status: res.StatusCode, Header: res.Header, events: make(chan sseEvent, 1024), errc: make(chan error, 1), cancel: cancel}
	// Owned: ends when the body ends or the request is cancelled.
	go func() {
		defer res.Body.Close()
		defer close(st.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if data != nil {
					st.events <- sseEvent{Data: strings.Join(data, "\n")}
					data = nil
				}
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			}
		}
		st.errc <- sc.Err()
	}()
	t.Cleanup(func() {
		cancel()
		for range st.events {
		}
	})
	return st
}

// next returns the next event; ok is false at the end of the stream.
func (st *sseStream) next(t *testing.T) (ev sseEvent, ok bool) {
	t.Helper()
	select {
	case ev, ok = <-st.events:
		return ev, ok
	case <-time.After(30 * time.Second):
		t.Fatal("no server-sent event for 30s")
	}
	return sseEvent{}, false
}

// all reads every remaining event.
func (st *sseStream) all(t *testing.T) []sseEvent {
	t.Helper()
	var out []sseEvent
	for {
		ev, ok := st.next(t)
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

// chunk is an OpenAI chat.completion.chunk, or a mid-stream error.
type chunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Error *struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	} `json:"error"`
}

// llmNodeResult is what an llm-*.mjs script prints: the scenario's result,
// or the error the SDK threw.
type llmNodeResult struct {
	Result json.RawMessage `json:"result"`
	Error  *sdkError       `json:"error"`
	raw    string
}

// sdkError is an error thrown by an official SDK.
type sdkError struct {
	Class   string          `json:"class"`
	Status  int             `json:"status"`
	Message string          `json:"message"`
	Body    json.RawMessage `json:"body"`
	Stack   string          `json:"stack"`
	// Attempts is how many requests the SDK sent (llm-anthropic.mjs).
	Attempts int `json:"attempts"`
}

var llmNPMOnce sync.Once

// requireLLMClients is requireNode plus the official LLM SDKs: a
// node_modules installed before they were added to the lockfile gets
// `npm ci` again.
func requireLLMClients(t *testing.T) {
	t.Helper()
	requireNode(t)
	var failure string
	llmNPMOnce.Do(func() {
		installed := true
		for _, p := range []string{"openai", "@anthropic-ai/sdk"} {
			if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", p, "package.json")); err != nil {
				installed = false
			}
		}
		if installed {
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
}

// runSDK runs test/node/<script> with args (JSON on stdin) and returns what
// it printed. The script must exit 0 within a minute.
func (s *llmServer) runSDK(t *testing.T, script string, args map[string]any) llmNodeResult {
	t.Helper()
	in, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = nodeDir
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = cleanEnv() // no OPENAI_API_KEY, OPENAI_BASE_URL, … of the caller
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s %s: %v\nstdout:\n%s\nstderr:\n%s\nserver log:\n%s", script, in, err, stdout.String(), stderr.String(), s.serverLog())
	}
	var r llmNodeResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("node %s: unparsable output %q: %v\nstderr:\n%s", script, stdout.String(), err, stderr.String())
	}
	r.raw = stdout.String()
	return r
}

// ok decodes a successful result into out, failing the test on an SDK
// error.
func (r llmNodeResult) ok(t *testing.T, out any) {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("SDK threw %s (%d): %s\n%s", r.Error.Class, r.Error.Status, r.Error.Message, r.Error.Stack)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		t.Fatalf("decoding %s: %v", r.Result, err)
	}
}

// thrown returns the SDK's error, failing the test if the call succeeded.
func (r llmNodeResult) thrown(t *testing.T) *sdkError {
	t.Helper()
	if r.Error == nil {
		t.Fatalf("want the SDK to throw, got %s", r.raw)
	}
	return r.Error
}

// llmCall is the data of an LlmCallCompleted event, as documented in
// events/catalog_llm.go (decoded independently of the product's type).
type llmCall struct {
	CallID         string `json:"callId"`
	Tenant         string `json:"tenant"`
	KeyID          string `json:"keyId"`
	User           string `json:"user"`
	Project        string `json:"project"`
	RequestedModel string `json:"requestedModel"`
	Provider       string `json:"provider"`
	Deployment     string `json:"deployment"`
	Model          string `json:"model"`
	Route          []struct {
		Deployment string `json:"deployment"`
		Model      string `json:"model"`
		Outcome    string `json:"outcome"`
		ErrorKind  string `json:"errorKind"`
		Status     int    `json:"status"`
	} `json:"route"`
	Stream bool `json:"stream"`
	Tokens struct {
		Input      int `json:"input"`
		CacheRead  int `json:"cacheRead"`
		CacheWrite int `json:"cacheWrite"`
		Output     int `json:"output"`
		Reasoning  int `json:"reasoning"`
	} `json:"tokens"`
	Estimated bool    `json:"tokensEstimated"`
	CostUSD   float64 `json:"costUsd"`
	Priced    bool    `json:"priced"`
	Outcome   string  `json:"outcome"`
	ErrorKind string  `json:"errorKind"`
	Error     string  `json:"error"`
}

// loggedEvent is an event of the GraphQL events query.
type loggedEvent struct {
	Position int             `json:"position"`
	Stream   string          `json:"stream"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
}

// gqlAs runs a GraphQL request as tenant (the X-Tenant header; the server
// has authentication off) or with token (when it starts with "cb_" or is
// the admin key), and decodes its data into out. It fails the test on any
// error.
func (s *llmServer) gqlAs(t *testing.T, tenant, query string, vars map[string]any, out any) gqlResp {
	t.Helper()
	r := s.do(t, http.MethodPost, "/graphql", map[string]any{"query": query, "variables": vars}, credHeaders(tenant)...)
	var g gqlResp
	g.Status, g.Body = r.Status, r.Body
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &g); err != nil {
			t.Fatalf("GraphQL answer %s: %v", r.Body, err)
		}
	}
	if out != nil {
		if g.Status != http.StatusOK || len(g.Errors) > 0 {
			t.Fatalf("GraphQL request failed: %d %s\nquery: %s", g.Status, g.Body, query)
		}
		if err := json.Unmarshal(g.Data, out); err != nil {
			t.Fatalf("decoding %s: %v", g.Data, err)
		}
	}
	return g
}

// credHeaders are the headers that make a request act for who: an API key
// or the admin key as a bearer token, else a tenant name in X-Tenant
// (authentication off).
func credHeaders(who string) []string {
	switch {
	case who == "":
		return nil
	case strings.HasPrefix(who, "cb_") || who == adminKey:
		return []string{"Authorization", "Bearer " + who}
	default:
		return []string{"X-Tenant", who}
	}
}

// llmCalls returns the LlmCallCompleted events of stream that who sees in
// the audit log (the GraphQL events query, position 1 onwards), keyed by
// call id.
func (s *llmServer) llmCalls(t *testing.T, who, stream string) map[string]llmCall {
	t.Helper()
	var out struct {
		Events []loggedEvent `json:"events"`
	}
	s.gqlAs(t, who, `{ events(from: 1, limit: 1000) { position stream type data } }`, nil, &out)
	calls := map[string]llmCall{}
	for _, e := range out.Events {
		if e.Stream != stream || e.Type != "LlmCallCompleted" {
			continue
		}
		var c llmCall
		if err := json.Unmarshal(e.Data, &c); err != nil {
			t.Fatalf("event %d data %s: %v", e.Position, e.Data, err)
		}
		if _, dup := calls[c.CallID]; dup {
			t.Fatalf("call %s recorded twice", c.CallID)
		}
		calls[c.CallID] = c
	}
	return calls
}

// waitCalls polls who's audit log until stream holds every call of ids
// (the journal appends off the response path) and returns them. It fails
// after 20 s.
func (s *llmServer) waitCalls(t *testing.T, who, stream string, ids ...string) map[string]llmCall {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		calls := s.llmCalls(t, who, stream)
		missing := 0
		for _, id := range ids {
			if _, ok := calls[id]; !ok {
				missing++
			}
		}
		if missing == 0 {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d calls %v not in %s after 20s; have %d:\n%+v\nserver log:\n%s", missing, len(ids), ids, stream, len(calls), calls, s.serverLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// catalogPrice is a model's price in USD per 1M tokens, read from the
// catalogue file the binary embeds.
type catalogPrice struct {
	Input      float64  `json:"input"`
	Output     float64  `json:"output"`
	CacheRead  *float64 `json:"cache_read"`
	CacheWrite *float64 `json:"cache_write"`
	Reasoning  *float64 `json:"reasoning"`
}

var (
	catalogOnce sync.Once
	catalogData struct {
		PriceUnit string `json:"price_unit"`
		Providers map[string]struct {
			Models map[string]struct {
				Cost *catalogPrice `json:"cost"`
			} `json:"models"`
		} `json:"providers"`
	}
	catalogErr error
)

// priceOf reads provider's model price from providers/catalog/models-dev.json.
func priceOf(t *testing.T, provider, model string) catalogPrice {
	t.Helper()
	catalogOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("..", "providers", "catalog", "models-dev.json"))
		if err != nil {
			catalogErr = err
			return
		}
		catalogErr = json.Unmarshal(b, &catalogData)
	})
	if catalogErr != nil {
		t.Fatal(catalogErr)
	}
	if catalogData.PriceUnit != "USD per 1M tokens" {
		t.Fatalf("catalogue price unit %q", catalogData.PriceUnit)
	}
	m, ok := catalogData.Providers[provider].Models[model]
	if !ok || m.Cost == nil {
		t.Fatalf("catalogue has no price for %s/%s", provider, model)
	}
	return *m.Cost
}

// cost is what tokens cost at p, in USD.
func (p catalogPrice) cost(t *testing.T, input, cacheRead, cacheWrite, output int) float64 {
	t.Helper()
	usd := float64(input)*p.Input + float64(output)*p.Output
	if cacheRead > 0 {
		if p.CacheRead == nil {
			t.Fatal("no cache_read price")
		}
		usd += float64(cacheRead) * *p.CacheRead
	}
	if cacheWrite > 0 {
		if p.CacheWrite == nil {
			t.Fatal("no cache_write price")
		}
		usd += float64(cacheWrite) * *p.CacheWrite
	}
	return usd / 1e6
}

// reasoningCost is what reasoning tokens cost at p: the reasoning price,
// else the output price (reasoning is output).
func (p catalogPrice) reasoningCost(tokens int) float64 {
	if p.Reasoning != nil {
		return float64(tokens) * *p.Reasoning / 1e6
	}
	return float64(tokens) * p.Output / 1e6
}

// sameUSD reports whether two costs agree to float noise.
func sameUSD(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12+1e-9*math.Max(math.Abs(a), math.Abs(b))
}
