package workflow

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

// review returns a fresh valid definition for the validation tests:
// draft → review → approved | rejected.
func review() Definition {
	return Definition{
		Name:   "Review",
		States: []string{"draft", "review", "approved", "rejected"},
		Activities: []Activity{
			{ID: "submit", FromStates: []string{"draft"}, ToState: "review"},
			{
				ID: "approve", FromStates: []string{"review"}, ToState: "approved",
				Conditions: []rules.Condition{{Field: "score", Operator: "greater_than", Value: 8}},
			},
			{ID: "reject", FromStates: []string{"review"}, ToState: "rejected"},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// rulesMsg is the rules package's message for conds, so the tests check
// the workflow prefix without depending on the rules wording.
func rulesMsg(t *testing.T, conds []rules.Condition) string {
	t.Helper()
	_, err := rules.CompileConditions(conds)
	var es rules.Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("rules.CompileConditions = %v, want one error", err)
	}
	return es[0].Msg
}

func TestValidateErrors(t *testing.T) {
	long := strings.Repeat("x", MaxIDLength+1)
	badOp := []rules.Condition{{Field: "score", Operator: "greater_than", Value: 8}, {Field: "score", Operator: "bigger", Value: 1}}
	tests := []struct {
		name   string
		mutate func(d *Definition)
		want   string
	}{
		{"name required", func(d *Definition) { d.Name = "" }, `name: required`},
		{"id too long", func(d *Definition) { d.ID = long }, `id: must be at most 128 characters`},
		{"negative version", func(d *Definition) { d.Version = -1 }, `version: must be ≥ 0`},
		{"no states", func(d *Definition) { d.States, d.Activities = nil, nil }, `states: at least one state required`},
		{"too many states", func(d *Definition) {
			d.States, d.Activities = nil, nil
			for i := range MaxStates + 1 {
				d.States = append(d.States, fmt.Sprint("s", i))
			}
		}, `states: at most 1000 states allowed, got 1001`},
		{"empty state", func(d *Definition) { d.States[1] = "" },
			`states[1]: must not be empty; activities[0].toState: unknown state "review"; ` +
				`activities[1].fromStates[0]: unknown state "review"; activities[2].fromStates[0]: unknown state "review"`},
		{"duplicate state", func(d *Definition) { d.States = append(d.States, "approved") }, `states[4]: duplicate state "approved"`},
		{"state too long", func(d *Definition) { d.States = append(d.States, long) }, `states[4]: must be at most 128 characters`},
		{"unknown initial state", func(d *Definition) { d.InitialState = "nope" }, `initialState: unknown state "nope"`},
		{"unknown terminal state", func(d *Definition) { d.TerminalStates = []string{"approved", "x"} }, `terminalStates[1]: unknown state "x"`},
		{"empty terminal state", func(d *Definition) { d.TerminalStates = []string{""} }, `terminalStates[0]: must not be empty`},
		{"duplicate terminal state", func(d *Definition) { d.TerminalStates = []string{"approved", "approved"} }, `terminalStates[1]: duplicate state "approved"`},
		{"terminal state with outgoing activities", func(d *Definition) { d.TerminalStates = []string{"approved", "review"} },
			`activities[1].fromStates[0]: terminal state "review" cannot have outgoing activities; ` +
				`activities[2].fromStates[0]: terminal state "review" cannot have outgoing activities`},
		{"too many activities", func(d *Definition) {
			for i := len(d.Activities); i <= MaxActivities; i++ {
				d.Activities = append(d.Activities, Activity{ID: fmt.Sprint("a", i), FromStates: []string{"draft"}, ToState: "review"})
			}
		}, `activities: at most 1000 activities allowed, got 1001`},
		{"activity id required", func(d *Definition) { d.Activities[0].ID = "" }, `activities[0].id: required`},
		{"activity id too long", func(d *Definition) { d.Activities[0].ID = long }, `activities[0].id: must be at most 128 characters`},
		{"duplicate activity id", func(d *Definition) { d.Activities[2].ID = "approve" }, `activities[2].id: duplicate activity id "approve"`},
		{"no from states", func(d *Definition) { d.Activities[1].FromStates = nil }, `activities[1].fromStates: at least one state required`},
		{"empty from state", func(d *Definition) { d.Activities[1].FromStates = []string{""} }, `activities[1].fromStates[0]: must not be empty`},
		{"unknown from state", func(d *Definition) { d.Activities[1].FromStates = []string{"x"} }, `activities[1].fromStates[0]: unknown state "x"`},
		{"duplicate from state", func(d *Definition) { d.Activities[1].FromStates = []string{"review", "review"} }, `activities[1].fromStates[1]: duplicate state "review"`},
		{"to state required", func(d *Definition) { d.Activities[1].ToState = "" }, `activities[1].toState: required`},
		{"unknown to state", func(d *Definition) { d.Activities[1].ToState = "x" }, `activities[1].toState: unknown state "x"`},
		{"bad condition", func(d *Definition) { d.Activities[0].Conditions = badOp },
			`activities[0].conditions[1].operator: ` + rulesMsg(t, []rules.Condition{badOp[1]})},
		{"agent without model", func(d *Definition) { d.Activities[0].AgentConfig = &AgentConfig{LLMProvider: "openai"} },
			`activities[0].agentConfig: model or agentId required`},
		{"agent id too long", func(d *Definition) { d.Activities[0].AgentConfig = &AgentConfig{AgentID: long} },
			`activities[0].agentConfig.agentId: must be at most 128 characters`},
		{"temperature out of range", func(d *Definition) { d.Activities[0].AgentConfig = &AgentConfig{Model: "m", Temperature: ptr(2.5)} },
			`activities[0].agentConfig.temperature: must be between 0 and 2`},
		{"temperature NaN", func(d *Definition) {
			d.Activities[0].AgentConfig = &AgentConfig{Model: "m", Temperature: ptr(math.NaN())}
		},
			`activities[0].agentConfig.temperature: must be between 0 and 2`},
		{"max tokens", func(d *Definition) { d.Activities[0].AgentConfig = &AgentConfig{Model: "m", MaxTokens: ptr(0)} },
			`activities[0].agentConfig.maxTokens: must be ≥ 1`},
		{"retry max attempts", func(d *Definition) { d.Activities[0].Retry = &RetryPolicy{} }, `activities[0].retry.maxAttempts: must be ≥ 1`},
		{"retry negative backoff", func(d *Definition) { d.Activities[0].Retry = &RetryPolicy{MaxAttempts: 2, BackoffSeconds: -1} },
			`activities[0].retry.backoffSeconds: must be ≥ 0`},
		{"retry NaN max backoff", func(d *Definition) {
			d.Activities[0].Retry = &RetryPolicy{MaxAttempts: 2, MaxBackoffSeconds: math.NaN()}
		},
			`activities[0].retry.maxBackoffSeconds: must be ≥ 0`},
		{"retry infinite backoff", func(d *Definition) { d.Activities[0].Retry = &RetryPolicy{MaxAttempts: 2, BackoffSeconds: math.Inf(1)} },
			`activities[0].retry.backoffSeconds: must be finite`},
		{"retry max backoff below backoff", func(d *Definition) {
			d.Activities[0].Retry = &RetryPolicy{MaxAttempts: 2, BackoffSeconds: 5, MaxBackoffSeconds: 1}
		}, `activities[0].retry.maxBackoffSeconds: must be ≥ backoffSeconds`},
		{"negative timeout", func(d *Definition) { d.Activities[0].TimeoutSeconds = -1 }, `activities[0].timeoutSeconds: must be ≥ 0`},
		{"unreachable state", func(d *Definition) {
			d.InitialState = "review"
		}, `states[0]: state "draft" is unreachable from initial state "review"`},
		{"unreachable island", func(d *Definition) {
			d.States = append(d.States, "archived", "purged")
			d.Activities = append(d.Activities,
				Activity{ID: "purge", FromStates: []string{"archived"}, ToState: "purged"},
				Activity{ID: "restore", FromStates: []string{"purged"}, ToState: "archived"})
		}, `states[4]: state "archived" is unreachable from initial state "draft"; ` +
			`states[5]: state "purged" is unreachable from initial state "draft"`},
		{"many problems at once", func(d *Definition) {
			d.Name = ""
			d.States = append(d.States, "review")
			d.Activities[2].ToState = "x"
			d.Activities[1].TimeoutSeconds = -5
		}, `name: required; states[4]: duplicate state "review"; activities[1].timeoutSeconds: must be ≥ 0; ` +
			`activities[2].toState: unknown state "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := review()
			tt.mutate(&d)
			err := Validate(&d)
			if err == nil {
				t.Fatalf("Validate succeeded, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("errors.As(%T, *ValidationError) failed", err)
			}
			if _, err := Compile(d); err == nil || err.Error() != tt.want {
				t.Errorf("Compile error = %v, want the same as Validate", err)
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	if err := Validate(nil); err == nil || err.Error() != "definition is nil" {
		t.Errorf("Validate(nil) = %v, want definition is nil", err)
	}
}

func TestValidateNormalises(t *testing.T) {
	tests := []struct {
		name         string
		mutate       func(d *Definition)
		wantInitial  string
		wantTerminal []string
	}{
		{"defaults", func(*Definition) {}, "draft", []string{"approved", "rejected"}},
		{"explicit initial", func(d *Definition) {
			d.States = []string{"approved", "draft", "review", "rejected"}
			d.InitialState = "draft"
		}, "draft", []string{"approved", "rejected"}},
		{"explicit terminal kept", func(d *Definition) { d.TerminalStates = []string{"rejected"} }, "draft", []string{"rejected"}},
		{"unmentioned states are terminal", func(d *Definition) { d.States = append(d.States, "archived") },
			"draft", []string{"approved", "rejected", "archived"}},
		{"cycle without terminal", func(d *Definition) {
			d.States = []string{"a", "b"}
			d.Activities = []Activity{
				{ID: "ab", FromStates: []string{"a"}, ToState: "b"},
				{ID: "ba", FromStates: []string{"b"}, ToState: "a"},
			}
		}, "a", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := review()
			tt.mutate(&d)
			if err := Validate(&d); err != nil {
				t.Fatal(err)
			}
			if d.InitialState != tt.wantInitial {
				t.Errorf("InitialState = %q, want %q", d.InitialState, tt.wantInitial)
			}
			if diff := cmp.Diff(tt.wantTerminal, d.TerminalStates); diff != "" {
				t.Errorf("TerminalStates (-want +got):\n%s", diff)
			}
			// Normalising is idempotent.
			again := d.Clone()
			if err := Validate(&again); err != nil {
				t.Fatalf("second Validate: %v", err)
			}
			if diff := cmp.Diff(d, again); diff != "" {
				t.Errorf("second Validate changed the definition (-first +second):\n%s", diff)
			}
		})
	}
}

func TestValidateSeedExamples(t *testing.T) {
	tests := []struct {
		file         string
		wantInitial  string
		wantTerminal []string
	}{
		{"document_approval.json", "submitted", []string{"approved", "rejected", "published"}},
		{"document_approval.yaml", "submitted", []string{"approved", "rejected", "published"}},
		{"document_processing.json", "received", []string{"loading", "completed"}},
		{"content_pipeline.yaml", "topic_received", []string{"reviewing", "published"}},
		{"support_triage.json", "new", []string{"billing", "reviewed", "escalated"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d, err := Parse(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(&d); err != nil {
				t.Fatal(err)
			}
			if d.InitialState != tt.wantInitial {
				t.Errorf("InitialState = %q, want %q", d.InitialState, tt.wantInitial)
			}
			if diff := cmp.Diff(tt.wantTerminal, d.TerminalStates); diff != "" {
				t.Errorf("TerminalStates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextVersion(t *testing.T) {
	first := NextVersion(nil, Definition{ID: "wf", Name: "a", Version: 7})
	if first.ID != "wf" || first.Version != 1 {
		t.Errorf("NextVersion(nil) = id %q version %d, want wf 1", first.ID, first.Version)
	}
	second := NextVersion(&first, Definition{ID: "other", Name: "b"})
	if second.ID != "wf" || second.Version != 2 || second.Name != "b" {
		t.Errorf("NextVersion(first) = %+v, want id wf version 2 name b", second)
	}
}
