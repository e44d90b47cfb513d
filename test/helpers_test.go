package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds ./cmd/circuit-breaker once per test run (with -race when
// the tests run with it, so the build cache is shared).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cb-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "circuit-breaker")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./cmd/circuit-breaker")...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a running server.
type proc struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:NNNNN
	log  *bytes.Buffer
	done chan struct{}
}

// start runs "serve --port 0" on dataDir and waits until it is ready.
func start(t *testing.T, dataDir string) *proc {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	p := &proc{log: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary(t), "serve", "--port", "0", "--data-dir", dataDir, "--addr-file", addrFile)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.Env = append(os.Environ(), "CIRCUIT_BREAKER_CONFIG=", "NATS_URL=")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }() // owned: ends with the process
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(15 * time.Second)
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
			t.Fatalf("server exited early:\n%s", p.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready:\n%s", p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill SIGKILLs the server and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop SIGTERMs the server and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not stop:\n%s", p.log)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("server exited %d:\n%s", code, p.log)
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// call sends a JSON request and decodes the answer into out (if not nil).
func (p *proc) call(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		return 0, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode/100 != 2 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return res.StatusCode, json.Unmarshal(b, out)
	}
	return res.StatusCode, nil
}

// must is call that fails the test on any error.
func (p *proc) must(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	if _, err := p.call(method, path, body, out); err != nil {
		t.Fatal(err)
	}
}

// pingPong is a workflow with a two-state cycle, so activities can fire
// forever.
var pingPong = map[string]any{
	"id":     "ping-pong",
	"name":   "Ping pong",
	"states": []string{"ping", "pong"},
	"activities": []map[string]any{
		{"id": "hit", "fromStates": []string{"ping"}, "toState": "pong"},
		{"id": "return", "fromStates": []string{"pong"}, "toState": "ping"},
	},
}
