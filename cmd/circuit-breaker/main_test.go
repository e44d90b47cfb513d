package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// runCmd runs the command line in process and returns its exit code and
// output.
func runCmd(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	err := run(ctx, args, &out, &errb)
	code = exitCode(err, &errb)
	return code, out.String(), errb.String()
}

func TestCommandLine(t *testing.T) {
	t.Setenv("CIRCUIT_BREAKER_CONFIG", "")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[server]\nport = 70000\nlog_level = \"loud\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"version", []string{"version"}, 0, "circuit-breaker dev", ""},
		{"help", []string{"help"}, 0, "Commands:", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"serve help", []string{"serve", "-h"}, 0, "", "-addr-file file"},
		{"bad flag", []string{"serve", "--nope"}, 2, "", "flag provided but not defined"},
		{"bad port", []string{"serve", "--port", "70000"}, 2, "", "--port must be between 0 and 65535"},
		{"every config error", []string{"serve", "--config", bad}, 2, "", "server.port: must be between 1 and 65535, got 70000\n  " + bad + ":3: server.log_level"},
		{"missing named config", []string{"serve", "--config", filepath.Join(dir, "none.toml")}, 2, "", "no such file"},
		{"public bind refused", []string{"serve", "--host", "0.0.0.0", "--data-dir", dir}, 2, "", "allow_insecure_public_bind"},
		{"events without tail", []string{"events"}, 2, "", "events tail"},
		{"apply without file", []string{"apply"}, 2, "", "-f FILE is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(context.Background(), tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
		})
	}
}

// TestServeApplyTail runs the server in process on port 0, applies the
// example workflow twice (create, then new version), shows validation
// problems, tails the log, and shuts down when ctx is cancelled.
func TestServeApplyTail(t *testing.T) {
	t.Setenv("CIRCUIT_BREAKER_CONFIG", "")
	t.Setenv("NATS_URL", "")
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var code int
	var serveErr string
	wg.Go(func() {
		code, _, serveErr = runCmd(ctx, "serve", "--port", "0", "--data-dir", filepath.Join(dir, "data"), "--addr-file", addrFile)
	})
	defer func() {
		cancel()
		wg.Wait()
		if code != 0 || !strings.Contains(serveErr, "msg=listening addr=127.0.0.1:") || !strings.Contains(serveErr, "msg=stopped") {
			t.Errorf("serve exited %d:\n%s", code, serveErr)
		}
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); ; {
		if b, err := os.ReadFile(addrFile); err == nil {
			base = "http://" + strings.TrimSpace(string(b))
			if res, err := http.Get(base + "/ready"); err == nil && res.StatusCode == 200 {
				res.Body.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready")
		}
		time.Sleep(20 * time.Millisecond)
	}

	example := filepath.Join("..", "..", "examples", "document-approval.yaml")
	if c, out, e := runCmd(ctx, "apply", "-f", example, "--server", base); c != 0 || out != "workflow document-approval version 1 created\n" {
		t.Fatalf("apply: %d %q %q", c, out, e)
	}
	if c, out, e := runCmd(ctx, "apply", "-f", example, "--server", base); c != 0 || out != "workflow document-approval version 1 unchanged\n" {
		t.Fatalf("apply again: %d %q %q", c, out, e)
	}
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(dir, "changed.yaml")
	_ = os.WriteFile(changed, append(src, "description: second take\n"...), 0o644)
	if c, out, e := runCmd(ctx, "apply", "-f", changed, "--server", base); c != 0 || out != "workflow document-approval version 2 updated\n" {
		t.Fatalf("apply changed: %d %q %q", c, out, e)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"name":"x","states":["a"],"activities":[{"id":"go","fromStates":["a"],"toState":"zz"}]}`), 0o644)
	if c, _, e := runCmd(ctx, "apply", "-f", bad, "--server", base); c != 1 || !strings.Contains(e, "VALIDATION") || !strings.Contains(e, "\n  activities[0].toState: ") {
		t.Fatalf("apply bad: %d %q", c, e)
	}
	c, out, e := runCmd(ctx, "events", "tail", "--server", base)
	if c != 0 || !strings.HasPrefix(out, "1 workflow-default:document-approval@1 WorkflowDefined {") || strings.Count(out, "\n") != 2 {
		t.Fatalf("tail: %d %q %q", c, out, e)
	}
	c, out, _ = runCmd(ctx, "events", "tail", "--server", base, "--from", "2", "--stream", "workflow-document-approval")
	if c != 0 || !strings.HasPrefix(out, "2 workflow-default:document-approval@2 ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("tail from 2: %d %q", c, out)
	}
}
