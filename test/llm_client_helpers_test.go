package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

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
