package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestExpandVars(t *testing.T) {
	lookup := env(map[string]string{"HOST": "h:1", "EMPTY": "", "TOKEN": "s3cret"})
	tests := []struct {
		name, in, want, err string
	}{
		{"no variable", "http://x/y", "http://x/y", ""},
		{"set", "http://${HOST}/t", "http://h:1/t", ""},
		{"two", "${HOST}${HOST}", "h:1h:1", ""},
		{"default unused", "${HOST:-d}", "h:1", ""},
		{"default for unset", "${NOPE:-http://127.0.0.1:4011}/t", "http://127.0.0.1:4011/t", ""},
		{"default for empty", "${EMPTY:-d}", "d", ""},
		{"empty without default", "x${EMPTY}y", "xy", ""},
		{"dollar kept", "$HOST and $5", "$HOST and $5", ""},
		{"header", "Bearer ${TOKEN}", "Bearer s3cret", ""},
		{"unset", "${NOPE}/t", "", "${NOPE} is not set"},
		{"unterminated", "http://${HOST", "", "unterminated"},
		{"bad name", "${1X}", "", "bad variable name"},
		{"empty name", "${:-x}", "", "bad variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expandVars(tt.in, lookup)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("expandVars(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("expandVars(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzExpandVars(f *testing.F) {
	for _, s := range []string{"${A}", "${A:-b}", "${", "$}", "x${A:-${B}}y", "${A}${B:-}"} {
		f.Add(s)
	}
	lookup := env(map[string]string{"A": "a"})
	f.Fuzz(func(t *testing.T, s string) {
		out, err := expandVars(s, lookup)
		if err == nil && !strings.Contains(s, "${") && out != s {
			t.Fatalf("expandVars(%q) = %q without a variable", s, out)
		}
	})
}

func TestParseDoc(t *testing.T) {
	lookup := env(map[string]string{"TOOLS": "http://tools:1"})
	type want struct {
		workflowOnly bool
		agents       []string // ids
		tools        []string // the first agent's tool URLs
		workflow     bool
		err          []string // substrings of the error
	}
	tests := []struct {
		name string
		in   string
		want want
	}{
		{"workflow", "name: W\nstates: [a]\n", want{workflowOnly: true}},
		{"not YAML is left to the server", "{{{", want{workflowOnly: true}},
		{"a list is left to the server", "- a\n- b\n", want{workflowOnly: true}},
		{"agents and workflow", `
agents:
  - name: Research Agent
    model: gpt-4o
    tools:
      - {name: search, http: {url: "${TOOLS}/search"}}
      - {name: escalate_to_human}
  - {id: w, name: Writer, model: claude-sonnet-4-5}
workflow: {name: W, states: [a]}
`, want{agents: []string{"research-agent", "w"}, tools: []string{"http://tools:1/search", ""}, workflow: true}},
		{"agents only", "agents: [{name: A, model: m}]\n", want{agents: []string{"a"}}},
		{"one agent", "kind: agent\nid: solo\nname: Solo\nmodel: m\n", want{agents: []string{"solo"}}},
		{"every problem at once", `
agents:
  - {name: A, temperature: 3, tools: [{name: t, http: {url: "${NOPE}/t"}}]}
  - {name: B, model: m, bogus: 1}
  - {name: A, model: m}
`, want{err: []string{
			"agents[0].tools[0].http.url: ${NOPE} is not set",
			"agents[0].model: is required", "agents[0].temperature: must be between 0 and 2",
			`agents[1]: agent definition: json: unknown field "bogus"`,
			`agents[2].id: "a" is used by another agent of the file`}}},
		{"unknown key", "agents: []\nworkflows: {}\n", want{err: []string{"only the keys agents (a list of agent definitions) and workflow", `unknown field "workflows"`}}},
		{"one bad agent", "kind: Agent\nname: X\n", want{err: []string{"agent.model: is required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseDoc([]byte(tt.in), lookup)
			if len(tt.want.err) > 0 {
				for _, s := range tt.want.err {
					if err == nil || !strings.Contains(err.Error(), s) {
						t.Errorf("error %v; want it to contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got want
			got.workflowOnly, got.workflow = d.workflowOnly, d.workflow != nil
			for i, a := range d.agents {
				got.agents = append(got.agents, a.ID)
				for _, tl := range a.Tools {
					if i == 0 {
						u := ""
						if tl.HTTP != nil {
							u = tl.HTTP.URL
						}
						got.tools = append(got.tools, u)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseDoc(f *testing.F) {
	for _, s := range []string{"agents: [{name: A, model: m}]\nworkflow: {name: W}\n", "kind: agent\nname: x\n",
		"name: W\nstates: [a]\n", "agents: {}\n", "kind: 1\n", "agents: [null]\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDoc([]byte(s), env(nil))
		if err == nil && !d.workflowOnly {
			for _, a := range d.agents {
				if a.ID == "" || a.Model == "" {
					t.Fatalf("parseDoc(%q) accepted agent %+v", s, a)
				}
			}
		}
	})
}

// TestApplyAgents applies an example of agents and a workflow to a server
// run in process: created, then unchanged, then rejected with every
// problem named.
func TestApplyAgents(t *testing.T) {
	t.Setenv("CIRCUIT_BREAKER_CONFIG", "")
	t.Setenv("NATS_URL", "")
	t.Setenv("EXAMPLE_TOOLS_URL", "http://127.0.0.1:9")
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() {
		_, _, _ = runCmd(ctx, "serve", "--port", "0", "--data-dir", filepath.Join(dir, "data"), "--addr-file", addrFile)
	})
	var base string
	for deadline := time.Now().Add(20 * time.Second); ; {
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

	example := filepath.Join("..", "..", "examples", "order-processing.yaml")
	created := "agent fraud-detector version 1 created\nagent inventory-manager version 1 created\nworkflow order-processing version 1 created\n"
	if c, out, e := runCmd(ctx, "apply", "-f", example, "--server", base); c != 0 || out != created {
		t.Fatalf("apply: %d %q %q", c, out, e)
	}
	unchanged := strings.ReplaceAll(created, "created", "unchanged")
	if c, out, e := runCmd(ctx, "apply", "-f", example, "--server", base); c != 0 || out != unchanged {
		t.Fatalf("apply again: %d %q %q", c, out, e)
	}
	var got struct {
		Agent struct {
			Tools []struct{ URL string } `json:"tools"`
		} `json:"agent"`
	}
	if err := graphql(ctx, &clientFlags{}, base, `{ agent(id: "fraud-detector") { tools { url } } }`, nil, &got); err != nil ||
		len(got.Agent.Tools) != 2 || got.Agent.Tools[0].URL != "http://127.0.0.1:9/payment_history" {
		t.Fatalf("agent's tools = %+v, %v; want the URLs expanded", got, err)
	}

	one := filepath.Join(dir, "one.yaml")
	_ = os.WriteFile(one, []byte("kind: agent\nid: fraud-detector\nname: Fraud Detector\nmodel: gpt-4o-mini\n"), 0o644)
	if c, out, e := runCmd(ctx, "apply", "-f", one, "--server", base); c != 0 || out != "agent fraud-detector version 2 updated\n" {
		t.Fatalf("apply one agent: %d %q %q", c, out, e)
	}
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("agents:\n  - {name: A, model: m, maxSteps: 0, tools: [{name: t, kind: http}]}\n"), 0o644)
	if c, out, e := runCmd(ctx, "apply", "-f", bad, "--server", base); c != 1 || out != "" ||
		!strings.Contains(e, "invalid agents:\n  agents[0].tools[0].http: is required for kind http") {
		t.Fatalf("apply bad: %d %q %q", c, out, e)
	}
	rejected := filepath.Join(dir, "rejected.yaml")
	_ = os.WriteFile(rejected, []byte("agents: [{name: A, model: m}]\nworkflow: {name: W, states: [a], activities: [{id: go, fromStates: [a], toState: zz}]}\n"), 0o644)
	if c, out, e := runCmd(ctx, "apply", "-f", rejected, "--server", base); c != 1 || out != "agent a version 1 created\n" ||
		!strings.Contains(e, "(workflow) rejected: VALIDATION") || !strings.Contains(e, "\n  activities[0].toState: ") {
		t.Fatalf("apply rejected workflow: %d %q %q", c, out, e)
	}
}
