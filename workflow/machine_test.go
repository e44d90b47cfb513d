package workflow

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

func compileTestdata(t *testing.T, name string) *Machine {
	t.Helper()
	d, err := Parse(readTestdata(t, name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// leaf returns the trace entry for field, failing if there is not one.
func leaf(t *testing.T, trace []rules.TraceEntry, field string) rules.TraceEntry {
	t.Helper()
	for _, e := range trace {
		if e.Field == field {
			return e
		}
	}
	t.Fatalf("no trace entry for %q in %+v", field, trace)
	return rules.TraceEntry{}
}

func TestFireDocumentApproval(t *testing.T) {
	m := compileTestdata(t, "document_approval.json")

	tests := []struct {
		name     string
		state    string
		activity string
		data     map[string]any
		want     Decision // when wantErr is empty
		wantErr  string
		// check inspects the error or decision further.
		check func(t *testing.T, d Decision, err error)
	}{
		{
			name: "start review", state: "submitted", activity: "start_review", data: map[string]any{},
			want: Decision{From: "submitted", To: "under_review", ActivityID: "start_review"},
		},
		{
			name: "approve when score passes", state: "under_review", activity: "approve_document",
			data: map[string]any{"score": 9.5},
			want: Decision{From: "under_review", To: "approved", ActivityID: "approve_document"},
			check: func(t *testing.T, d Decision, _ error) {
				e := leaf(t, d.Trace, "score")
				if !e.Result || !e.Found || e.Actual != 9.5 || e.Operator != "greater_than" {
					t.Errorf("score trace = %+v, want a passing greater_than seeing 9.5", e)
				}
			},
		},
		{
			name: "conditions fail", state: "under_review", activity: "approve_document",
			data:    map[string]any{"score": 5},
			wantErr: `activity "approve_document": conditions not met: score (greater_than 8, got 5)`,
			check: func(t *testing.T, _ Decision, err error) {
				var cf *ConditionsFailedError
				if !errors.As(err, &cf) {
					t.Fatalf("error %T is not a *ConditionsFailedError", err)
				}
				if cf.Activity != "approve_document" {
					t.Errorf("Activity = %q", cf.Activity)
				}
				if e := leaf(t, cf.Trace, "score"); e.Result || !e.Found {
					t.Errorf("score trace = %+v, want a failing entry that found the field", e)
				}
			},
		},
		{
			name: "conditions fail on missing field", state: "under_review", activity: "approve_document",
			data:    nil,
			wantErr: `activity "approve_document": conditions not met: score (greater_than 8, not found)`,
		},
		{
			name: "wrong state", state: "submitted", activity: "approve_document",
			wantErr: `activity "approve_document" cannot fire from state "submitted" (allowed from: under_review)`,
			check: func(t *testing.T, _ Decision, err error) {
				var ws *WrongStateError
				if !errors.As(err, &ws) {
					t.Fatalf("error %T is not a *WrongStateError", err)
				}
				want := &WrongStateError{Activity: "approve_document", State: "submitted", FromStates: []string{"under_review"}}
				if diff := cmp.Diff(want, ws); diff != "" {
					t.Errorf("WrongStateError (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "terminal", state: "approved", activity: "approve_document",
			wantErr: `terminal state "approved": no activity can fire`,
			check:   wantIs(ErrTerminal),
		},
		{
			name: "unknown activity", state: "submitted", activity: "publish",
			wantErr: `unknown activity "publish"`,
			check:   wantIs(ErrUnknownActivity),
		},
		{
			name: "unknown state", state: "draft", activity: "start_review",
			wantErr: `unknown state "draft"`,
			check:   wantIs(ErrUnknownState),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := m.Fire(tt.state, tt.activity, tt.data)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Fire error\n got: %v\nwant: %s", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, d, cmp.FilterPath(func(p cmp.Path) bool {
					return p.Last().String() == ".Trace"
				}, cmp.Ignore())); diff != "" {
					t.Errorf("Decision (-want +got):\n%s", diff)
				}
			}
			if tt.check != nil {
				tt.check(t, d, err)
			}
		})
	}
}

func wantIs(target error) func(*testing.T, Decision, error) {
	return func(t *testing.T, _ Decision, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = false", err, target)
		}
	}
}

func TestFireDocumentProcessing(t *testing.T) {
	m := compileTestdata(t, "document_processing.json")
	if got := m.InitialState(); got != "received" {
		t.Fatalf("InitialState = %q, want received", got)
	}
	state := m.InitialState()
	for _, id := range []string{"start_extract", "start_transform", "start_load"} {
		d, err := m.Fire(state, id, map[string]any{})
		if err != nil {
			t.Fatalf("Fire(%q, %q): %v", state, id, err)
		}
		if d.From != state || d.ActivityID != id || d.Trace != nil {
			t.Errorf("Fire(%q, %q) = %+v", state, id, d)
		}
		state = d.To
	}
	if state != "loading" || !m.IsTerminal("loading") || !m.IsTerminal("completed") || m.IsTerminal("received") {
		t.Errorf("final state %q; IsTerminal(loading, completed, received) = %v, %v, %v",
			state, m.IsTerminal("loading"), m.IsTerminal("completed"), m.IsTerminal("received"))
	}
	if _, err := m.Fire("loading", "start_load", nil); !errors.Is(err, ErrTerminal) {
		t.Errorf("Fire from terminal = %v, want ErrTerminal", err)
	}
}

func TestWrongStateErrorListsAllFromStates(t *testing.T) {
	d := review()
	d.States = append(d.States, "escalated")
	d.Activities = append(d.Activities, Activity{ID: "escalate", FromStates: []string{"draft", "review"}, ToState: "escalated"})
	m, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Fire("escalated", "escalate", nil)
	want := `terminal state "escalated": no activity can fire`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	_, err = m.Fire("draft", "approve", nil)
	want = `activity "approve" cannot fire from state "draft" (allowed from: review)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	d.States = append(d.States, "parked")
	d.Activities = append(d.Activities, Activity{ID: "park", FromStates: []string{"draft", "review"}, ToState: "parked"},
		Activity{ID: "unpark", FromStates: []string{"parked"}, ToState: "draft"})
	m, err = Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Fire("parked", "park", nil)
	want = `activity "park" cannot fire from state "parked" (allowed from: draft, review)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestAvailable(t *testing.T) {
	d := review()
	d.Activities[2].AgentConfig = &AgentConfig{Model: "m", Auto: true}
	m, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	got := m.Available("review", map[string]any{"score": 3})
	if len(got) != 2 {
		t.Fatalf("Available = %+v, want 2 activities", got)
	}
	if a := got[0]; a.ID != "approve" || a.ToState != "approved" || a.Enabled || a.Auto || leaf(t, a.Trace, "score").Result {
		t.Errorf("Available[0] = %+v, want approve, disabled, with a failing trace", a)
	}
	if a := got[1]; a.ID != "reject" || a.ToState != "rejected" || !a.Enabled || !a.Auto || a.Trace != nil {
		t.Errorf("Available[1] = %+v, want reject, enabled, auto, no trace", a)
	}
	if got := m.Available("review", map[string]any{"score": 9}); !got[0].Enabled {
		t.Errorf("approve with score 9 not enabled: %+v", got[0])
	}
	for _, s := range []string{"approved", "nope"} {
		if got := m.Available(s, nil); got != nil {
			t.Errorf("Available(%q) = %+v, want nil", s, got)
		}
	}
}

func TestMachineIsImmutable(t *testing.T) {
	d, err := Parse(readTestdata(t, "document_processing.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	if d.InitialState != "" || d.TerminalStates != nil {
		t.Errorf("Compile normalised the caller's definition: %+v", d)
	}
	d.Activities[0].ToState = "completed"

	a, ok := m.Activity("start_extract")
	if !ok || a.ToState != "extracting" {
		t.Fatalf("Activity = %+v, %v; want toState extracting", a, ok)
	}
	a.FromStates[0] = "mutated"
	def := m.Definition()
	def.States[0] = "mutated"
	if got, _ := m.Activity("start_extract"); got.FromStates[0] != "received" {
		t.Errorf("Activity copy aliases the machine: %+v", got)
	}
	if got := m.Definition(); got.States[0] != "received" || got.InitialState != "received" {
		t.Errorf("Definition copy aliases the machine: %+v", got)
	}
	if _, ok := m.Activity("nope"); ok {
		t.Error("Activity(nope) found")
	}
}

func TestFireConcurrent(t *testing.T) {
	m := compileTestdata(t, "document_approval.json")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			data := map[string]any{"score": float64(i + 4)}
			for range 200 {
				_, err := m.Fire("under_review", "approve_document", data)
				if (err == nil) != (i+4 > 8) {
					t.Errorf("score %d: err = %v", i+4, err)
					return
				}
				m.Available("under_review", data)
			}
		})
	}
	wg.Wait()
}
