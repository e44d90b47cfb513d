package workflow

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

// triage returns a valid definition with automatic activities:
// new → classified (agent) → billing | general, and a human review
// out of general that times out to escalated.
func triage() Definition {
	return Definition{
		Name:   "Triage",
		States: []string{"new", "classified", "billing", "general", "reviewed", "escalated"},
		Activities: []Activity{
			{ID: "classify", FromStates: []string{"new"}, ToState: "classified",
				AgentConfig: &AgentConfig{AgentID: "classifier", Auto: true}},
			{ID: "route_billing", FromStates: []string{"classified"}, ToState: "billing", Auto: true,
				Conditions: []rules.Condition{{Field: "classify.category", Operator: "equals", Value: "billing"}}},
			{ID: "route_general", FromStates: []string{"classified"}, ToState: "general", Auto: true},
			{ID: "review", FromStates: []string{"general"}, ToState: "reviewed",
				WaitForHuman: &HumanWait{Prompt: "Is this right?", TimeoutSeconds: 60, TimeoutActivity: "escalate"}},
			{ID: "escalate", FromStates: []string{"general"}, ToState: "escalated"},
		},
	}
}

func TestValidateAutomationErrors(t *testing.T) {
	long := strings.Repeat("x", MaxIDLength+1)
	tests := []struct {
		name   string
		mutate func(d *Definition)
		want   string
	}{
		{"wait with agent", func(d *Definition) { d.Activities[3].AgentConfig = &AgentConfig{AgentID: "a"} },
			`activities[3].waitForHuman: cannot be combined with agentConfig (an agent asks a human through its escalate_to_human tool)`},
		{"negative wait timeout", func(d *Definition) { d.Activities[3].WaitForHuman.TimeoutSeconds = -1 },
			`activities[3].waitForHuman.timeoutSeconds: must be ≥ 0`},
		{"wait timeout too long", func(d *Definition) { d.Activities[3].WaitForHuman.TimeoutSeconds = MaxWaitSeconds + 1 },
			`activities[3].waitForHuman.timeoutSeconds: must be at most 31622400 (366 days)`},
		{"timeout activity without timeout", func(d *Definition) { d.Activities[3].WaitForHuman.TimeoutSeconds = 0 },
			`activities[3].waitForHuman.timeoutSeconds: must be > 0 with a timeoutActivity`},
		{"timeout without timeout activity", func(d *Definition) { d.Activities[3].WaitForHuman.TimeoutActivity = "" },
			`activities[3].waitForHuman.timeoutActivity: required with a timeout`},
		{"timeout activity unknown", func(d *Definition) { d.Activities[3].WaitForHuman.TimeoutActivity = "nope" },
			`activities[3].waitForHuman.timeoutActivity: unknown activity "nope"`},
		{"timeout activity is itself", func(d *Definition) { d.Activities[3].WaitForHuman.TimeoutActivity = "review" },
			`activities[3].waitForHuman.timeoutActivity: must name another activity`},
		{"timeout activity from elsewhere", func(d *Definition) { d.Activities[3].WaitForHuman.TimeoutActivity = "route_general" },
			`activities[3].waitForHuman.timeoutActivity: activity "route_general" cannot fire from state "general"`},
		{"prompt too long", func(d *Definition) { d.Activities[3].WaitForHuman.Prompt = strings.Repeat("p", MaxPromptLength+1) },
			`activities[3].waitForHuman.prompt: must be at most 10000 characters`},
		{"output key with a dot", func(d *Definition) { d.Activities[0].AgentConfig.OutputKey = "a.b" },
			`activities[0].agentConfig.outputKey: must not contain "."`},
		{"output key too long", func(d *Definition) { d.Activities[0].AgentConfig.OutputKey = long },
			`activities[0].agentConfig.outputKey: must be at most 128 characters`},
		{"transition without agent", func(d *Definition) {
			d.AgentTransitions = []AgentTransition{{From: "billing", To: "reviewed"}}
		}, `agentTransitions[0].agentId: required`},
		{"transition without states", func(d *Definition) {
			d.AgentTransitions = []AgentTransition{{AgentID: "a"}}
		}, `agentTransitions[0].from: required; agentTransitions[0].to: required`},
		{"transition to unknown state", func(d *Definition) {
			d.AgentTransitions = []AgentTransition{{From: "billing", To: "x", AgentID: "a"}}
		}, `agentTransitions[0].to: unknown state "x"`},
		{"transition from unknown state", func(d *Definition) {
			d.AgentTransitions = []AgentTransition{{From: "billing", To: "reviewed", AgentID: "a"}, {From: "y", To: "reviewed", AgentID: "a"}}
		}, `agentTransitions[1].from: unknown state "y"`},
		{"transition id clashes", func(d *Definition) {
			d.AgentTransitions = []AgentTransition{{ID: "review", From: "billing", To: "reviewed", AgentID: "a"}}
		}, `agentTransitions[0].id: duplicate activity id "review"`},
		{"transition agent id too long", func(d *Definition) {
			d.AgentTransitions = []AgentTransition{{From: "billing", To: "reviewed", AgentID: long}}
		}, `agentTransitions[0].agentId: must be at most 128 characters`},
		{"transition output key", func(d *Definition) {
			d.AgentTransitions = []AgentTransition{{From: "billing", To: "reviewed", AgentID: "a", OutputKey: "x.y"}}
		}, `agentTransitions[0].outputKey: must not contain "."`},
		{"transition out of a terminal state", func(d *Definition) {
			d.TerminalStates = []string{"escalated", "reviewed"}
			d.AgentTransitions = []AgentTransition{{From: "escalated", To: "reviewed", AgentID: "a"}}
		}, `agentTransitions[0].from: terminal state "escalated" cannot have outgoing activities`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := triage()
			tt.mutate(&d)
			err := Validate(&d)
			if err == nil {
				t.Fatalf("Validate succeeded, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("errors.As(%T, *ValidationError) failed", err)
			}
		})
	}
}

func TestAgentTransitionsExpand(t *testing.T) {
	// The seed's Content Creation Pipeline.
	def, err := Parse([]byte(`
name: Content Creation Pipeline
states: [topic_received, researching, writing, reviewing, published]
agentTransitions:
  - {from: topic_received, to: researching, agentId: research-agent}
  - {from: researching, to: writing, agentId: writing-agent, outputKey: draft}
  - {id: review, from: writing, to: reviewing, agentId: review-agent}
`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(def)
	if err != nil {
		t.Fatal(err)
	}
	got := m.Definition()
	want := []Activity{
		{ID: "topic_received_to_researching", FromStates: []string{"topic_received"}, ToState: "researching",
			AgentConfig: &AgentConfig{AgentID: "research-agent", Auto: true}},
		{ID: "researching_to_writing", FromStates: []string{"researching"}, ToState: "writing",
			AgentConfig: &AgentConfig{AgentID: "writing-agent", Auto: true, OutputKey: "draft"}},
		{ID: "review", FromStates: []string{"writing"}, ToState: "reviewing",
			AgentConfig: &AgentConfig{AgentID: "review-agent", Auto: true}},
	}
	if diff := cmp.Diff(want, got.Activities); diff != "" {
		t.Errorf("activities (-want +got):\n%s", diff)
	}
	if got.AgentTransitions != nil {
		t.Errorf("AgentTransitions = %v, want nil once expanded", got.AgentTransitions)
	}
	if diff := cmp.Diff([]string{"reviewing", "published"}, got.TerminalStates); diff != "" {
		t.Errorf("terminal states (-want +got):\n%s", diff)
	}
	// The normalised definition round-trips through JSON and validates
	// again to itself.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(&again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("second normalisation (-first +second):\n%s", diff)
	}
	for state, act := range map[string]string{"topic_received": "topic_received_to_researching", "researching": "researching_to_writing", "writing": "review"} {
		d, ok := m.NextAuto(state, nil)
		if !ok || d.ActivityID != act {
			t.Errorf("NextAuto(%q) = %+v, %v; want %s", state, d, ok, act)
		}
	}
	if got := (m.Definition().Activities[1]).OutputKey(); got != "draft" {
		t.Errorf("OutputKey = %q, want draft", got)
	}
}

func TestNextAuto(t *testing.T) {
	m, err := Compile(triage())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		state  string
		data   map[string]any
		want   string // "" means none
		wantOK bool
	}{
		{"agent activity", "new", nil, "classify", true},
		{"rule picks billing", "classified", map[string]any{"classify": map[string]any{"category": "billing"}}, "route_billing", true},
		{"catch-all otherwise", "classified", map[string]any{"classify": map[string]any{"category": "other"}}, "route_general", true},
		{"catch-all without data", "classified", nil, "route_general", true},
		{"no automatic activity", "general", nil, "", false},
		{"terminal state", "billing", nil, "", false},
		{"unknown state", "nowhere", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := m.NextAuto(tt.state, tt.data)
			if ok != tt.wantOK || d.ActivityID != tt.want {
				t.Fatalf("NextAuto = %+v, %v; want %q, %v", d, ok, tt.want, tt.wantOK)
			}
			if ok && (d.From != tt.state || d.To == "") {
				t.Errorf("decision %+v", d)
			}
		})
	}
	av := m.Available("classified", nil)
	if len(av) != 2 || !av[0].Auto || av[0].Enabled || !av[1].Auto || !av[1].Enabled {
		t.Errorf("Available(classified) = %+v", av)
	}
	review, _ := m.Activity("review")
	if review.Automatic() || review.WaitForHuman.Timeout().Seconds() != 60 || review.OutputKey() != "review" {
		t.Errorf("review = %+v", review)
	}
}

func TestCloneCopiesWait(t *testing.T) {
	d := triage()
	d.AgentTransitions = []AgentTransition{{From: "billing", To: "reviewed", AgentID: "a"}}
	c := d.Clone()
	c.Activities[3].WaitForHuman.Prompt = "changed"
	c.AgentTransitions[0].AgentID = "b"
	if d.Activities[3].WaitForHuman.Prompt != "Is this right?" || d.AgentTransitions[0].AgentID != "a" {
		t.Error("Clone shares WaitForHuman or AgentTransitions")
	}
}

func TestOutputValue(t *testing.T) {
	tests := []struct {
		name string
		text string
		js   string
		want any
	}{
		{"structured output wins", `ignored`, `{"category":"billing"}`, map[string]any{"category": "billing"}},
		{"JSON object text", " {\"category\": \"billing\"}\n", ``, map[string]any{"category": "billing"}},
		{"JSON array text", `[1, "a"]`, ``, []any{1.0, "a"}},
		{"plain text", `The answer is 42.`, ``, `The answer is 42.`},
		{"number text stays text", `42`, ``, `42`},
		{"broken JSON stays text", `{"a":`, ``, `{"a":`},
		{"trailing data stays text", `{"a":1} and more`, ``, `{"a":1} and more`},
		{"bad structured output ignored", `plain`, `{`, `plain`},
		{"empty", ``, ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OutputValue(tt.text, json.RawMessage(tt.js))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("OutputValue (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzOutputValue(f *testing.F) {
	for _, s := range []string{``, `text`, `{"a":1}`, `[1,2]`, `{"a":`, ` {} x`, `null`} {
		f.Add(s, []byte(s))
	}
	f.Fuzz(func(t *testing.T, text string, js []byte) {
		v := OutputValue(text, js)
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("OutputValue(%q, %q) = %#v, not JSON: %v", text, js, v, err)
		}
	})
}
