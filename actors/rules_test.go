package actors_test

import (
	"context"
	"errors"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/rules"
)

func TestRules(t *testing.T) {
	ctx := context.Background()
	store := natsjstest.Open(t, "")
	rs := actors.NewRules(store)
	spec := actors.RuleSpec{ID: "big", Name: "Big orders", Type: "simple", Definition: rules.Definition{
		Conditions: []rules.Condition{{Field: "total", Operator: "greater_than", Value: 100.0}},
		Actions:    []rules.Action{{Type: "flag"}},
	}}
	r, err := rs.Create(ctx, acme, spec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 1 || r.Status != actors.RuleActive || r.Tenant != "acme" || r.CreatedAt.IsZero() {
		t.Fatalf("created = %+v", r)
	}
	if _, err := rs.Create(ctx, acme, spec); !errors.Is(err, actors.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}

	// Bad definitions are rejected with paths, and nothing is stored.
	bad := actors.RuleSpec{ID: "bad", Definition: rules.Definition{Conditions: []rules.Condition{{Field: "a", Operator: "matches", Value: "("}}}}
	_, err = rs.Create(ctx, acme, bad)
	var es rules.Errors
	if !errors.As(err, &es) || len(es) != 2 || es[0].Path != "name" || es[1].Path != "definition.conditions[0].value" {
		t.Fatalf("bad rule: %v", err)
	}
	if evs, _ := store.ReadStream(ctx, events.RuleStream("acme", "bad"), 0, 0); len(evs) != 0 {
		t.Fatalf("bad rule stored %d events", len(evs))
	}

	// Another tenant sees nothing.
	other := actors.Caller{Tenant: "other"}
	for name, err := range map[string]error{
		"get":    func() error { _, err := rs.Get(ctx, other, "big"); return err }(),
		"update": func() error { _, err := rs.Update(ctx, other, "big", spec); return err }(),
		"delete": func() error { _, err := rs.Delete(ctx, other, "big"); return err }(),
	} {
		if !errors.Is(err, actors.ErrNotFound) {
			t.Errorf("%s as other tenant: %v", name, err)
		}
	}

	spec.Definition.Conditions[0].Value = 10.0
	r, err = rs.Update(ctx, acme, "big", spec)
	if err != nil || r.Version != 2 {
		t.Fatalf("update: %+v %v", r, err)
	}
	_, compiled, err := rs.Compiled(ctx, acme, "big")
	if err != nil {
		t.Fatal(err)
	}
	if !compiled.Evaluate(map[string]any{"total": 50}).Matched {
		t.Fatal("v2 not in effect")
	}
	// A fresh Rules (another node, a restart) reads the same rule.
	if r2, err := actors.NewRules(store).Get(ctx, acme, "big"); err != nil || r2.Version != 2 || r2.Definition.Conditions[0].Value != 10.0 {
		t.Fatalf("reloaded: %+v %v", r2, err)
	}

	if _, err := rs.Delete(ctx, acme, "big"); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Get(ctx, acme, "big"); !errors.Is(err, actors.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	if _, err := rs.Update(ctx, acme, "big", spec); !errors.Is(err, actors.ErrNotFound) {
		t.Fatalf("update deleted: %v", err)
	}
	if _, err := rs.Get(ctx, acme, "no/such id"); !errors.Is(err, actors.ErrNotFound) {
		t.Fatalf("bad id: %v", err)
	}
}
