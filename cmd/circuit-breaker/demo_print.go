package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/examples"
)

// timeline prints a demo's events as they happen, one line each, and the
// summary at the end.
type timeline struct {
	out    io.Writer
	sc     examples.Scenario
	t0     time.Time
	labels map[string]string // run id → label (its agent, or its activity)
	agents map[string]string // run id → agent id
	runs   map[string]*runTotals
	order  []string
	ledger struct {
		calls  int
		cost   float64
		priced bool
	}
}

// runTotals are a run's figures, from its events.
type runTotals struct {
	status, model string
	steps, tools  int
	tokens        events.LlmTokens
	cost          float64
	priced        bool
}

func newTimeline(out io.Writer, sc examples.Scenario) *timeline {
	t := &timeline{out: out, sc: sc, labels: map[string]string{}, agents: map[string]string{}, runs: map[string]*runTotals{}}
	t.ledger.priced = true
	return t
}

// print prints one event (examples.Play's report function).
func (t *timeline) print(e events.Envelope) {
	if t.t0.IsZero() {
		t.t0 = e.Time
	}
	who, what := t.describe(e)
	if what == "" {
		return
	}
	fmt.Fprintf(t.out, "  %8s  %-24s %-20s %s\n", fmt.Sprintf("+%.3fs", e.Time.Sub(t.t0).Seconds()), who, e.Type, what)
}

// describe returns the event's source column and its details; no details
// means the event is not printed.
func (t *timeline) describe(e events.Envelope) (string, string) {
	switch e.Type {
	case events.TypeResourceCreated:
		var d events.ResourceCreated
		_ = e.Decode(&d)
		return "resource", fmt.Sprintf("in %s, data %s", d.State, clip(compact(d.Data), 90))
	case events.TypeStateChanged:
		var d events.StateChanged
		_ = e.Decode(&d)
		s := fmt.Sprintf("%s: %s -> %s", d.Activity, d.From, d.To)
		if len(d.Input) > 0 {
			s += "  with " + clip(compact(d.Input), 80)
		}
		return "resource", s
	case events.TypeResourceAgentStarted:
		var d events.ResourceAgentStarted
		_ = e.Decode(&d)
		agentID := d.AgentID
		if agentID == "" {
			agentID = "inline agent"
		}
		return "resource", fmt.Sprintf("%s runs %s (run %s)", d.Activity, agentID, d.RunID)
	case events.TypeResourceParked:
		var d events.ResourceParked
		_ = e.Decode(&d)
		s := fmt.Sprintf("%s waits for a human: %q", d.Activity, clip(d.Prompt, 100))
		if !d.Deadline.IsZero() {
			s += fmt.Sprintf(" (else %s at %s)", d.TimeoutActivity, d.Deadline.Local().Format(time.TimeOnly))
		}
		return "resource", s
	case events.TypeResourceResumed:
		var d events.ResourceResumed
		_ = e.Decode(&d)
		if d.TimedOut {
			return "resource", "the wait timed out"
		}
		return "resource", "the human answered " + clip(compact(d.Answer), 90)
	case events.TypeResourceActivityFailed:
		var d events.ResourceActivityFailed
		_ = e.Decode(&d)
		return "resource", fmt.Sprintf("%s failed (%s): %s", d.Activity, d.Kind, d.Error)
	case events.TypeLlmCallCompleted:
		var d events.LlmCallCompleted
		_ = e.Decode(&d)
		t.ledger.calls++
		t.ledger.cost += d.CostUSD
		t.ledger.priced = t.ledger.priced && d.Priced
		return "", "" // summed in the summary
	}
	return t.describeRun(e)
}

// describeRun describes the events of an agent run.
func (t *timeline) describeRun(e events.Envelope) (string, string) {
	var id struct {
		RunID string `json:"runId"`
	}
	_ = e.Decode(&id)
	r := t.runs[id.RunID]
	if r == nil {
		r = &runTotals{status: "running", priced: true}
		t.runs[id.RunID] = r
		t.order = append(t.order, id.RunID)
	}
	who := func() string { return t.labels[id.RunID] }
	switch e.Type {
	case events.TypeAgentRunStarted:
		var d events.AgentRunStarted
		_ = e.Decode(&d)
		label, agentName := d.AgentID, fmt.Sprintf("%s v%d", d.AgentID, d.AgentVersion)
		if d.AgentID == "" {
			label, agentName = d.Activity, d.Activity+" (inline)"
		}
		t.labels[d.RunID], t.agents[d.RunID] = label, agentName
		var def struct {
			Model    string `json:"model"`
			Provider string `json:"provider"`
			Tools    []struct {
				Name string `json:"name"`
			} `json:"tools"`
		}
		_ = json.Unmarshal(d.Definition, &def)
		r.model = def.Model
		if def.Provider != "" {
			r.model = def.Provider + "/" + def.Model
		}
		tools := make([]string, len(def.Tools))
		for i, tl := range def.Tools {
			tools[i] = tl.Name
		}
		s := fmt.Sprintf("run %s for %s: model %s, at most %d steps", d.RunID, d.Activity, r.model, d.MaxSteps)
		if len(tools) > 0 {
			s += ", tools " + strings.Join(tools, ", ")
		}
		return who(), s
	case events.TypeAgentModelCalled:
		var d events.AgentModelCalled
		_ = e.Decode(&d)
		r.steps = max(r.steps, d.Step)
		r.tokens = addTokens(r.tokens, d.Usage)
		r.cost += d.CostUSD
		r.priced = r.priced && d.Priced
		var parts []string
		for _, p := range d.Parts {
			switch p.Kind {
			case events.AgentPartToolCall:
				parts = append(parts, "calls "+p.Name+" "+clip(p.Arguments, 70))
			case events.AgentPartText:
				parts = append(parts, "says "+clip(fmt.Sprintf("%q", p.Text), 80))
			}
		}
		return who(), fmt.Sprintf("step %d: %s via %s, %d+%d tokens, %s: %s", d.Step, d.Model, d.Deployment,
			d.Usage.Input, d.Usage.Output, usd(d.CostUSD, d.Priced), strings.Join(parts, "; "))
	case events.TypeAgentToolCalled:
		var d events.AgentToolCalled
		_ = e.Decode(&d)
		r.tools++
		verb := "returned"
		if d.IsError {
			verb = "FAILED"
		}
		return who(), fmt.Sprintf("step %d: %s %s %s", d.Step, d.Name, verb, clip(d.Result, 90))
	case events.TypeAgentRunWaiting:
		var d events.AgentRunWaiting
		_ = e.Decode(&d)
		r.status = "waiting"
		return who(), fmt.Sprintf("step %d: escalate_to_human asks %q", d.Step, clip(d.Question, 100))
	case events.TypeAgentRunAnswered:
		var d events.AgentRunAnswered
		_ = e.Decode(&d)
		r.status = "running"
		return who(), "the human answered " + clip(fmt.Sprintf("%q", d.Answer), 90)
	case events.TypeAgentRunCompleted:
		var d events.AgentRunCompleted
		_ = e.Decode(&d)
		r.status = "completed"
		out := d.Output
		if len(d.OutputJSON) > 0 {
			out = string(d.OutputJSON)
		}
		return who(), fmt.Sprintf("%s, %s: %s", plural(d.Steps, "step"), usd(d.CostUSD, d.Priced), clip(out, 80))
	case events.TypeAgentRunFailed:
		var d events.AgentRunFailed
		_ = e.Decode(&d)
		r.status = "failed"
		return who(), fmt.Sprintf("%s: %s", d.Kind, d.Error)
	case events.TypeAgentRunCancelled:
		r.status = "cancelled"
		return who(), "cancelled"
	}
	return who(), clip(string(e.Data), 100)
}

// summary prints the resource's end and its runs' figures.
func (t *timeline) summary(res examples.Result) {
	fmt.Fprintf(t.out, "\nresource %s: %s\n", t.sc.ResourceID, res.State)
	keys := make([]string, 0, len(res.Data))
	for k := range res.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(t.out, "  %-18s %s\n", k, clip(compact(res.Data[k]), 100))
	}
	fmt.Fprintf(t.out, "\nagent runs:\n")
	var total float64
	var tokens events.LlmTokens
	priced, steps := true, 0
	for _, id := range t.order {
		r := t.runs[id]
		fmt.Fprintf(t.out, "  %-28s %-10s %-18s %s, %s, %d+%d tokens, %s\n",
			t.agents[id], r.status, r.model, plural(r.steps, "model call"), plural(r.tools, "tool call"),
			r.tokens.Input, r.tokens.Output, usd(r.cost, r.priced))
		total += r.cost
		priced = priced && r.priced
		steps += r.steps
		tokens = addTokens(tokens, r.tokens)
	}
	fmt.Fprintf(t.out, "  total: %s, %s, %d tokens, %s\n", plural(len(t.order), "run"), plural(steps, "model call"),
		tokens.Input+tokens.Output, usd(total, priced))
	agree := "agrees with"
	if fmt.Sprintf("%.9f", total) != fmt.Sprintf("%.9f", t.ledger.cost) || t.ledger.calls != steps {
		agree = "DIFFERS from"
	}
	fmt.Fprintf(t.out, "  the LLM call ledger (%s, %s) %s the runs' events\n\n",
		plural(t.ledger.calls, "LlmCallCompleted event"), usd(t.ledger.cost, t.ledger.priced), agree)
}

// plural is "1 step", "2 steps".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func addTokens(a, b events.LlmTokens) events.LlmTokens {
	a.Input += b.Input
	a.Output += b.Output
	a.CacheRead += b.CacheRead
	a.CacheWrite += b.CacheWrite
	a.Reasoning += b.Reasoning
	return a
}

// usd formats a cost; an unpriced one is not a false $0.
func usd(v float64, priced bool) string {
	if !priced {
		return "unpriced"
	}
	return fmt.Sprintf("$%.6f", v)
}

// compact is v as one line of JSON.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// clip shortens s to n runes on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
