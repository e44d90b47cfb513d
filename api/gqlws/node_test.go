package gqlws_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/api/gqlsse"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws/gqlwstest"
)

const nodeDir = "testdata/node"

// TestNodeClients drives both transports with the official npm clients:
// graphql-ws (current protocol), subscriptions-transport-ws (legacy) and
// graphql-sse. It needs node and npm (Node >= 20) and fails without them.
func TestNodeClients(t *testing.T) {
	node, npm := requireNode(t)
	gqlwstest.CheckLeaks(t)

	schema, _ := gqlwstest.NewSchema()
	executor := gqlws.FromSchema(schema)
	sse := gqlsse.NewHandler(executor, gqlsse.Options{})
	ws := gqlws.NewHandler(executor, gqlws.Options{Next: sse})
	mux := http.NewServeMux()
	mux.Handle("/graphql", ws)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ws.Shutdown(ctx)
		_ = sse.Shutdown(ctx)
		srv.Close()
	})
	httpURL := srv.URL + "/graphql"
	wsURL := "ws" + strings.TrimPrefix(httpURL, "http")

	npmInstall(t, npm)

	invalid := `{"op":"invalid","error":["Cannot query field \"nope\" on type \"Query\"."]}`
	tests := []struct {
		script, url string
		invalid     string
	}{
		{"transport-ws.mjs", wsURL, invalid},
		{"legacy.mjs", wsURL, invalid},
		// graphql-sse reports pre-execution errors as a next event.
		{"sse.mjs", httpURL, `{"op":"invalid","next":{"errors":[{"message":"Cannot query field \"nope\" on type \"Query\".","locations":[{"line":1,"column":3}]}]}}
{"op":"invalid","complete":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, tt.script, tt.url)
			cmd.Dir = nodeDir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", tt.script, err, out, stderr.String())
			}
			want := strings.Join([]string{
				`{"op":"ticks","next":{"data":{"ticks":1}}}`,
				`{"op":"ticks","next":{"data":{"ticks":2}}}`,
				`{"op":"ticks","next":{"data":{"ticks":3}}}`,
				`{"op":"ticks","complete":true}`,
				`{"op":"hello","next":{"data":{"hello":"world"}}}`,
				`{"op":"hello","complete":true}`,
				tt.invalid,
			}, "\n")
			if got := strings.TrimSpace(string(out)); got != want {
				t.Fatalf("node %s output:\n%s\nwant:\n%s\nstderr:\n%s", tt.script, got, want, stderr.String())
			}
		})
	}
}

// requireNode finds node and npm; their absence is a failure, not a skip:
// the issue requires the official clients to pass.
func requireNode(t *testing.T) (node, npm string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found on PATH: TestNodeClients needs Node.js >= 20 and npm (e.g. apt-get install nodejs npm)")
	}
	npm, err = exec.LookPath("npm")
	if err != nil {
		t.Fatal("npm not found on PATH: TestNodeClients needs Node.js >= 20 and npm (e.g. apt-get install nodejs npm)")
	}
	return node, npm
}

// npmInstall installs the pinned clients once (npm ci from the lockfile).
func npmInstall(t *testing.T, npm string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", ".package-lock.json")); err == nil {
		return
	}
	args := []string{"ci", "--no-audit", "--no-fund", "--loglevel=error"}
	if _, err := os.Stat(filepath.Join(nodeDir, "package-lock.json")); err != nil {
		args[0] = "install"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, args...)
	cmd.Dir = nodeDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm %s in %s: %v\n%s", args[0], nodeDir, err, out)
	}
}
