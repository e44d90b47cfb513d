package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/examples"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// exampleData are values each example's resource ends with, by dotted
// path into its data: what the agents produced and the rules routed on.
var exampleData = map[string]map[string]any{
	"content-creation": {"review.approved": true, "review.score": 9.0, "editor_signoff.decision": "publish",
		"draft": "Eight Arms, Many Minds\n\nTwo thirds of an octopus's neurons sit in its arms, which can explore, " +
			"taste and grip on their own. Octopuses solve mazes, open jars and change colour and texture in milliseconds."},
	"document-processor": {"analysis.category": "invoice", "analysis.amount": 1284.5, "analysis.currency": "EUR"},
	"content-moderation": {"scan.toxicity_score": 0.6, "human_review.decision": "approve", "human_review.ticket": "REV-1744"},
	"order-processing": {"fraud.risk_score": 0.12, "high_value_review.approved": true, "inventory.all_reserved": true,
		"inventory.reservation_id": "RSV-ORDER-123", "tracking_number": "1Z999AA10123456784"},
	"document-approval": {"score": 9.0},
}

// TestExamples applies every file of examples/ to the real binary with
// `circuit-breaker apply -f` (whose LLM deployments point at the provider
// simulator and whose agents' tools at the example tool server), plays its
// scenario — scripted model replies, human answers, activities fired by
// hand — to the end, and checks where the resource ends, what its data
// holds, that every scripted reply was used and no other model call was
// made, that every tool call succeeded and that the runs' cost is the
// ledger's. So the examples of the README cannot rot.
func TestExamples(t *testing.T) {
	if len(exampleData) != len(examples.All()) {
		t.Fatalf("exampleData covers %d examples, there are %d", len(exampleData), len(examples.All()))
	}
	for _, ex := range examples.All() {
		t.Run(ex.Name, func(t *testing.T) {
			s := sim.New(sim.Config{})
			hs := httptest.NewServer(s)
			t.Cleanup(hs.Close)
			tools := httptest.NewServer(examples.Tools())
			t.Cleanup(tools.Close)
			dir := t.TempDir()
			cfg := filepath.Join(dir, "circuit-breaker.toml")
			if err := os.WriteFile(cfg, []byte(examples.ServerConfig(hs.URL, "debug")), 0o600); err != nil {
				t.Fatal(err)
			}
			logFile := filepath.Join(dir, "server.log")
			p := startConfigured(t, cfg, filepath.Join(dir, "data"), logFile)
			serverLog := func() string { b, _ := os.ReadFile(logFile); return string(b) }

			file := filepath.Join("..", "examples", ex.File())
			out := applyExample(t, p.base, tools.URL, file)
			if n := strings.Count(out, " created\n"); n < 1 || strings.Count(out, "\n") != n {
				t.Fatalf("apply printed %q; want one created line per definition", out)
			}
			if again := applyExample(t, p.base, tools.URL, file); again != strings.ReplaceAll(out, " created\n", " unchanged\n") {
				t.Fatalf("apply again printed %q; want every definition unchanged", again)
			}

			sc := ex.Scenario
			sc.Script(s)
			ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
			defer cancel()
			res, err := examples.Play(ctx, examples.Client{Base: p.base}, ex.WorkflowID, sc, nil)
			if err != nil {
				t.Fatalf("play: %v\nserver log:\n%s", err, serverLog())
			}
			if res.State != sc.End() {
				t.Fatalf("resource in %q, want %q", res.State, sc.End())
			}
			for path, want := range exampleData[ex.Name] {
				if got := at(res.Data, path); !cmp.Equal(got, want) {
					t.Errorf("data.%s = %#v, want %#v", path, got, want)
				}
			}
			checkModelCalls(t, s, sc)
			checkRuns(t, res)
		})
	}
}

// applyExample runs `circuit-breaker apply -f file` against base with
// the example tools at toolsURL, and returns what it printed.
func applyExample(t *testing.T, base, toolsURL, file string) string {
	t.Helper()
	cmd := exec.Command(binary(t), "apply", "-f", file, "--server", base)
	cmd.Env = append(cleanEnv(), examples.ToolsURLVar+"="+toolsURL)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("apply -f %s: %v\n%s%s", file, err, out, stderr.String())
	}
	return string(out)
}

// checkModelCalls checks that the simulator answered exactly the scripted
// replies: each model as many times as it was scripted, nothing generated.
func checkModelCalls(t *testing.T, s *sim.Server, sc examples.Scenario) {
	t.Helper()
	want, got := map[string]int{}, map[string]int{}
	for _, r := range sc.Replies {
		want[r.Model]++
	}
	for _, r := range s.Requests() {
		got[r.Model]++
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("model calls by model (-scripted +made):\n%s", diff)
	}
}

// checkRuns checks the runs' events: every run completed, every tool call
// succeeded, and the runs' cost is the sum of their LlmCallCompleted
// events, one per model call.
func checkRuns(t *testing.T, res examples.Result) {
	t.Helper()
	var completed, modelCalls, ledgerCalls int
	var runCost, modelCost, ledgerCost float64
	for _, e := range res.Events {
		switch e.Type {
		case events.TypeAgentRunCompleted:
			var d events.AgentRunCompleted
			mustDecode(t, e, &d)
			completed++
			runCost += d.CostUSD
			if !d.Priced {
				t.Errorf("run %s is unpriced", d.RunID)
			}
		case events.TypeAgentModelCalled:
			var d events.AgentModelCalled
			mustDecode(t, e, &d)
			modelCalls++
			modelCost += d.CostUSD
		case events.TypeAgentToolCalled:
			var d events.AgentToolCalled
			mustDecode(t, e, &d)
			if d.IsError {
				t.Errorf("tool %s failed: %s", d.Name, d.Result)
			}
		case events.TypeLlmCallCompleted:
			var d events.LlmCallCompleted
			mustDecode(t, e, &d)
			ledgerCalls++
			ledgerCost += d.CostUSD
		}
	}
	if completed != len(res.Runs) || completed == 0 {
		t.Errorf("%d of %d runs completed", completed, len(res.Runs))
	}
	if ledgerCalls != modelCalls {
		t.Errorf("%d LlmCallCompleted events for %d model calls", ledgerCalls, modelCalls)
	}
	if math.Abs(runCost-modelCost) > 1e-12 || math.Abs(runCost-ledgerCost) > 1e-12 || runCost <= 0 {
		t.Errorf("cost: runs %v, model calls %v, ledger %v", runCost, modelCost, ledgerCost)
	}
}

func mustDecode(t *testing.T, e events.Envelope, v any) {
	t.Helper()
	if err := e.Decode(v); err != nil {
		t.Fatalf("%s: %v", e.Type, err)
	}
}

// at reads a dotted path of JSON data.
func at(data map[string]any, path string) any {
	var v any = data
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestDemoCommand runs `circuit-breaker demo` as `make demo` does: it must
// start its own simulator and server, play the default example and stop
// everything, with no network and no keys.
func TestDemoCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "demo")
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	ex, err := examples.Lookup(examples.DefaultExample)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"agent research-agent version 1 created\n",
		"AgentToolCalled", "ResourceParked", "ResourceResumed", "revise: reviewing -> revising",
		fmt.Sprintf("resource %s is %s\n", ex.Scenario.ResourceID, ex.Scenario.End()),
		"agrees with the runs' events", "stopping the server",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	list, err := exec.Command(binary(t), "demo", "--list").Output()
	if err != nil || strings.Count(string(list), "\n") != len(examples.All()) {
		t.Errorf("demo --list: %v\n%s", err, list)
	}
}
