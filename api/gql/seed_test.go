package gql_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/api/gql"
)

// TestSeedExamples runs the seed README's GraphQL examples verbatim.
func TestSeedExamples(t *testing.T) {
	e := newEnv(t, gql.Limits{})

	t.Run("Document Approval", func(t *testing.T) {
		data := e.ok(t, "", readFile(t, "testdata/document_approval.graphql"), nil)
		if got := dig(data, "createWorkflow", "name"); got != "Document Approval" {
			t.Fatalf("name = %v", got)
		}
		states := dig(data, "createWorkflow", "states").([]any)
		if len(states) != 5 || states[0] != "submitted" {
			t.Fatalf("states = %v", states)
		}
		id := dig(data, "createWorkflow", "id").(string)
		wf := e.ok(t, "", `query($id: ID!) { workflow(id: $id) { initialState activities { id conditions agentConfig { llmProvider model } } } }`, map[string]any{"id": id})
		if got := dig(wf, "workflow", "activities", 1, "conditions", 0, "value"); got != 8.0 {
			t.Fatalf("condition value = %v (%T)", got, got)
		}
		if got := dig(wf, "workflow", "activities", 0, "agentConfig", "model"); got != "gpt-4" {
			t.Fatalf("model = %v", got)
		}
	})

	t.Run("Smart Content Routing", func(t *testing.T) {
		data := e.ok(t, "", readFile(t, "testdata/smart_content_routing.graphql"), nil)
		if got := dig(data, "createRule", "status"); got != "active" {
			t.Fatalf("status = %v", got)
		}
		if got := dig(data, "createRule", "name"); got != "Smart Content Routing" {
			t.Fatalf("name = %v", got)
		}
		id := dig(data, "createRule", "id").(string)
		ev := e.ok(t, "", `query($id: ID!, $data: JSON!) { evaluateRule(id: $id, data: $data) { matched actions { type config } trace { path field operator expected actual found result } } }`,
			map[string]any{"id": id, "data": map[string]any{"sentiment_score": 0.2, "complexity_score": 0.8, "customer_tier": "premium", "urgency": "high"}})
		if dig(ev, "evaluateRule", "matched") != true {
			t.Fatalf("not matched: %v", ev)
		}
		if got := dig(ev, "evaluateRule", "actions", 0, "type"); got != "route_to_human" {
			t.Fatalf("action = %v", got)
		}
		if got := dig(ev, "evaluateRule", "actions", 1, "config", "channel"); got != "slack" {
			t.Fatalf("config = %v", got)
		}
		rule := e.ok(t, "", `query($id: ID!) { rule(id: $id) { id status version definition } rules { id } }`, map[string]any{"id": id})
		if got := dig(rule, "rule", "definition", "conditions", 1, "conditions", 1, "value", 1); got != "critical" {
			t.Fatalf("stored list value = %v", got)
		}
	})

	t.Run("Document Processing", func(t *testing.T) {
		seed := readFile(t, "testdata/document_processing.graphql")
		r := e.gql(t, "", seed, nil)
		if r.Status != http.StatusOK || len(r.Errors) == 0 || r.Data["createWorkflow"] != nil {
			t.Fatalf("want a validation error, got %d %+v %v", r.Status, r.Errors, r.Data)
		}
		if r.code(0) != "VALIDATION" || !strings.Contains(r.Errors[0].Message, "createWorkflow") || !strings.Contains(r.Errors[0].Message, "selection") {
			t.Fatalf("error = %+v", r.Errors[0])
		}
		// The same text with a selection set runs; the first state is initial.
		fixed := strings.TrimSpace(seed)
		fixed = strings.TrimSuffix(fixed, "}") + "{ id initialState terminalStates }\n}"
		data := e.ok(t, "", fixed, nil)
		if got := dig(data, "createWorkflow", "initialState"); got != "received" {
			t.Fatalf("initialState = %v", got)
		}
	})
}
