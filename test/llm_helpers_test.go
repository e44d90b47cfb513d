package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
