package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// restart starts the server again on the same configuration and data
// directory, after it died; its output goes to a new log file.
func (s *llmServer) restart(t *testing.T, name string) {
	t.Helper()
	dir := filepath.Dir(s.logFile)
	runDir := filepath.Join(dir, name) // a fresh addr file
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.logFile = filepath.Join(runDir, "server.log")
	s.proc = startConfigured(t, filepath.Join(dir, "circuit-breaker.toml"), filepath.Join(dir, "data"), s.logFile)
}

// TestAgentRunSurvivesCrash is the crash test of issue 5: the server is
// SIGKILLed in the middle of a multi-step run, after the model's first
// answer (a tool call) is journaled and while the HTTP tool is running.
// Restarted on the same data, the run continues from its journal: it
// calls the tool (whose result was never journaled) and then the model
// for the second step. The simulator's request log shows that the model
// was asked exactly once per journaled step — the first step was not sent
// again — and the run completes with the answer, its cost summed over
// exactly those calls.
func TestAgentRunSurvivesCrash(t *testing.T) {
	s := startLLM(t, "")
	const who = "crash"
	tool := newToolServer(t, true)
	agentID := s.createAgent(t, who, weatherAgent("Crash Reporter", tool.URL))
	const answer = "After the crash: 21 degrees and clear in Paris."
	weatherScript(s, answer)
	run := s.executeAgent(t, who, agentID, "What is the weather in Paris?")

	// Between the model call and its tool call's result: the answer is
	// journaled, the tool is running.
	tool.waitEntered(t)
	log := s.waitRunLog(t, who, run.ID, "AgentModelCalled")
	if n := countTypes(log); n["AgentModelCalled"] != 1 || n["AgentToolCalled"] != 0 {
		t.Fatalf("before the kill the run stream holds %v", n)
	}
	if got := len(s.simRequests(gptModel)); got != 1 {
		t.Fatalf("%d model requests before the kill, want 1", got)
	}
	// The router journals its LlmCallCompleted off the response path: let
	// it land, so that the ledger can be compared after the restart.
	s.waitCalls(t, who, callStream(who), modelCalls(t, log)[0].CallID)
	s.kill()
	// The tool sees its caller go away before it is let to answer.
	waitFor(t, "the tool call cut short by the kill", func() bool { return len(tool.received()) == 1 })
	tool.release()

	s.restart(t, "after-crash")
	final := s.waitRun(t, who, run.ID, "completed", "failed", "cancelled")
	if final.Status != "completed" || final.Output != answer || final.Steps != 2 {
		t.Fatalf("after the restart the run is %+v\nserver log:\n%s", final, s.serverLog())
	}

	log = s.runLog(t, who, run.ID)
	n := countTypes(log)
	if n["AgentRunStarted"] != 1 || n["AgentModelCalled"] != 2 || n["AgentToolCalled"] != 1 || n["AgentRunCompleted"] != 1 {
		t.Fatalf("run stream holds %v", n)
	}
	calls := modelCalls(t, log)
	for i, c := range calls {
		if c.Step != i+1 {
			t.Fatalf("AgentModelCalled %d is step %d", i, c.Step)
		}
	}
	// One upstream request per journaled model step: the first step's
	// request was not sent again after the restart, and the second one
	// carried the tool's result rebuilt from the journal.
	reqs := s.simRequests(gptModel)
	if len(reqs) != len(calls) {
		t.Fatalf("the simulator received %d model requests for %d journaled model steps", len(reqs), len(calls))
	}
	if b := string(reqs[1].Body); !strings.Contains(b, "call_weather_1") || !strings.Contains(b, "temperatureC") {
		t.Fatalf("the second model request lacks the tool result: %s", b)
	}
	// The tool ran twice: cut short by the kill (its result never
	// journaled), then again after the restart.
	got := tool.received()
	if len(got) != 2 || !got[0].Aborted || got[1].Aborted {
		t.Fatalf("tool calls = %+v", got)
	}
	// The run's cost is that of its two calls, and each is in the ledger.
	ledger := s.waitCalls(t, who, callStream(who), calls[0].CallID, calls[1].CallID)
	var sum float64
	for _, c := range calls {
		sum += ledger[c.CallID].CostUSD
	}
	if final.CostUsd == nil || !sameUSD(*final.CostUsd, sum) {
		t.Fatalf("run cost %v, ledger sum %v", final.CostUsd, sum)
	}
	s.stop(t)
}
