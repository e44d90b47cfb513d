package projections_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

func ruleEvent(t *testing.T, pos uint64, tenant, typ string, data any) events.Envelope {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return events.Envelope{Stream: "rule-x", Type: typ, Version: 1, Position: pos, Revision: pos, Tenant: tenant, Time: time.Unix(int64(pos), 0).UTC(), Data: b}
}

// TestRuleViews: given rule events, expect the rule read model, which
// survives a checkpoint round trip.
func TestRuleViews(t *testing.T) {
	v := projections.NewViews()
	def := json.RawMessage(`{"conditions":[{"field":"a","operator":"exists"}]}`)
	for _, e := range []events.Envelope{
		ruleEvent(t, 1, "acme", events.TypeRuleCreated, events.RuleDefined{RuleID: "x", Name: "X", Type: "simple", Definition: def}),
		ruleEvent(t, 2, "acme", events.TypeRuleUpdated, events.RuleDefined{RuleID: "x", Name: "X2", Definition: def}),
		ruleEvent(t, 3, "acme", events.TypeRuleCreated, events.RuleDefined{RuleID: "y", Name: "Y", Definition: def}),
		ruleEvent(t, 4, "other", events.TypeRuleCreated, events.RuleDefined{RuleID: "z", Name: "Z", Definition: def}),
		ruleEvent(t, 5, "acme", events.TypeRuleDeleted, events.RuleDeleted{RuleID: "y"}),
	} {
		if err := v.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	check := func(v *projections.Views) {
		t.Helper()
		r, ok := v.Rule("acme", "x")
		if !ok || r.Name != "X2" || r.Version != 2 || r.Status != "active" || r.CreatedAt.Unix() != 1 || r.UpdatedAt.Unix() != 2 {
			t.Fatalf("x = %+v %v", r, ok)
		}
		if _, ok := v.Rule("acme", "y"); ok {
			t.Fatal("deleted rule y still listed")
		}
		if _, ok := v.Rule("acme", "z"); ok {
			t.Fatal("other tenant's rule visible")
		}
		if l := v.Rules("acme"); len(l) != 1 || l[0].ID != "x" {
			t.Fatalf("rules = %+v", l)
		}
	}
	check(v)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	restored := projections.NewViews()
	if err := json.Unmarshal(b, restored); err != nil {
		t.Fatal(err)
	}
	check(restored)
}

func TestVirtualModelViews(t *testing.T) {
	v := projections.NewViews()
	def := func(name, body string) events.VirtualModelDefined {
		return events.VirtualModelDefined{Name: name, Definition: json.RawMessage(body)}
	}
	apply := func(pos uint64, tenant, typ string, rev uint64, data any) {
		t.Helper()
		b, _ := json.Marshal(data)
		if err := v.Apply(events.Envelope{Position: pos, Tenant: tenant, Type: typ, Revision: rev, Data: b}); err != nil {
			t.Fatal(err)
		}
	}
	apply(1, "acme", events.TypeVirtualModelDefined, 1, def("smart", `{"strategy":"fallback"}`))
	apply(2, "globex", events.TypeVirtualModelDefined, 1, def("smart", `{"strategy":"cheapest"}`))
	apply(3, "acme", events.TypeVirtualModelDefined, 2, def("smart", `{"strategy":"fastest"}`))
	apply(4, "acme", events.TypeVirtualModelDefined, 1, def("cheap", `{}`))
	if m, ok := v.VirtualModel("acme", "smart"); !ok || m.Version != 2 || string(m.Definition) != `{"strategy":"fastest"}` {
		t.Fatalf("acme smart = %+v %v", m, ok)
	}
	if m, _ := v.VirtualModel("globex", "smart"); string(m.Definition) != `{"strategy":"cheapest"}` {
		t.Fatalf("globex sees %s", m.Definition)
	}
	apply(5, "acme", events.TypeVirtualModelDeleted, 3, events.VirtualModelDeleted{Name: "smart"})
	names := []string{}
	for _, m := range v.VirtualModels("acme") {
		names = append(names, m.Name)
	}
	if !slices.Equal(names, []string{"cheap"}) {
		t.Fatalf("acme models = %v", names)
	}
	// The checkpoint keeps them.
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	w := projections.NewViews()
	if err := json.Unmarshal(b, w); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.VirtualModel("globex", "smart"); !ok {
		t.Fatal("checkpoint lost a virtual model")
	}
}
