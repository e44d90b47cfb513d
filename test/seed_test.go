package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// seedExample reads a GraphQL example copied verbatim from the seed's
// README (../shared/seed/README.md) into api/gql/testdata, shared with
// the schema's own tests.
func seedExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "api", "gql", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSeedGraphQLExamples runs the seed README's GraphQL examples verbatim
// over POST /graphql against the real server (auth off, the loopback
// default), then reads back what they created.
func TestSeedGraphQLExamples(t *testing.T) {
	p := start(t, t.TempDir())

	t.Run("Document Approval", func(t *testing.T) {
		var out struct {
			CreateWorkflow struct {
				ID     string   `json:"id"`
				Name   string   `json:"name"`
				States []string `json:"states"`
			} `json:"createWorkflow"`
		}
		p.gqlOK(t, "", seedExample(t, "document_approval.graphql"), nil, &out)
		wf := out.CreateWorkflow
		if wf.ID == "" || wf.Name != "Document Approval" ||
			!slices.Equal(wf.States, []string{"submitted", "under_review", "approved", "rejected", "published"}) {
			t.Fatalf("createWorkflow = %+v", wf)
		}
		var got struct {
			Workflow struct {
				InitialState string `json:"initialState"`
				Activities   []struct {
					ID         string `json:"id"`
					Conditions []struct {
						Field    string  `json:"field"`
						Operator string  `json:"operator"`
						Value    float64 `json:"value"`
					} `json:"conditions"`
					AgentConfig *struct {
						LLMProvider  string `json:"llmProvider"`
						Model        string `json:"model"`
						SystemPrompt string `json:"systemPrompt"`
					} `json:"agentConfig"`
				} `json:"activities"`
			} `json:"workflow"`
		}
		p.gqlOK(t, "", `query($id: ID!) { workflow(id: $id) { initialState activities { id conditions agentConfig { llmProvider model systemPrompt } } } }`,
			map[string]any{"id": wf.ID}, &got)
		w := got.Workflow
		if w.InitialState != "submitted" || len(w.Activities) != 2 {
			t.Fatalf("workflow = %+v", w)
		}
		if ac := w.Activities[0].AgentConfig; w.Activities[0].ID != "start_review" || ac == nil ||
			ac.LLMProvider != "openai" || ac.Model != "gpt-4" || ac.SystemPrompt != "Review document for compliance and quality" {
			t.Fatalf("start_review = %+v", w.Activities[0])
		}
		if c := w.Activities[1].Conditions; w.Activities[1].ID != "approve_document" || len(c) != 1 ||
			c[0].Field != "score" || c[0].Operator != "greater_than" || c[0].Value != 8 {
			t.Fatalf("approve_document = %+v", w.Activities[1])
		}
	})

	t.Run("Smart Content Routing", func(t *testing.T) {
		var out struct {
			CreateRule struct {
				ID     string `json:"id"`
				Name   string `json:"name"`
				Status string `json:"status"`
			} `json:"createRule"`
		}
		p.gqlOK(t, "", seedExample(t, "smart_content_routing.graphql"), nil, &out)
		r := out.CreateRule
		if r.ID == "" || r.Name != "Smart Content Routing" || r.Status != "active" {
			t.Fatalf("createRule = %+v", r)
		}
		// The data of the seed's "Dynamic Rule Evaluation" example.
		var ev struct {
			EvaluateRule struct {
				Matched bool `json:"matched"`
				Actions []struct {
					Type   string         `json:"type"`
					Config map[string]any `json:"config"`
				} `json:"actions"`
			} `json:"evaluateRule"`
		}
		p.gqlOK(t, "", `query($id: ID!, $data: JSON!) { evaluateRule(id: $id, data: $data) { matched actions { type config } } }`,
			map[string]any{"id": r.ID, "data": map[string]any{
				"sentiment_score": 0.2, "complexity_score": 0.8, "customer_tier": "premium", "urgency": "high"}}, &ev)
		e := ev.EvaluateRule
		if !e.Matched || len(e.Actions) != 2 || e.Actions[0].Type != "route_to_human" ||
			e.Actions[0].Config["queue"] != "expert_review" || e.Actions[1].Config["channel"] != "slack" {
			t.Fatalf("evaluateRule = %+v", e)
		}
	})

	t.Run("Document Processing", func(t *testing.T) {
		seed := seedExample(t, "document_processing.graphql")
		r := p.gqlDo(t, "", seed, nil)
		if r.Status != http.StatusOK || len(r.Errors) != 1 || r.hasData() {
			t.Fatalf("want one validation error and no data, got %d %s", r.Status, r.Body)
		}
		if e := r.Errors[0]; e.code() != "VALIDATION" || !strings.Contains(e.Message, "createWorkflow") || !strings.Contains(e.Message, "selection") {
			t.Fatalf("error is not a clear validation error: %+v", e)
		}
		// The server is unaffected and nothing was created.
		var list struct {
			Workflows []struct {
				Name string `json:"name"`
			} `json:"workflows"`
		}
		p.gqlOK(t, "", `{ workflows { name } }`, nil, &list)
		for _, w := range list.Workflows {
			if w.Name == "Document Processing" {
				t.Fatal("the rejected example created a workflow")
			}
		}

		// The same text with a selection set runs; the first state is the
		// initial one.
		fixed := strings.TrimSuffix(strings.TrimSpace(seed), "}") + "{ id }\n}"
		var out struct {
			CreateWorkflow struct {
				ID string `json:"id"`
			} `json:"createWorkflow"`
		}
		p.gqlOK(t, "", fixed, nil, &out)
		var got struct {
			Workflow struct {
				Name         string   `json:"name"`
				InitialState string   `json:"initialState"`
				States       []string `json:"states"`
			} `json:"workflow"`
		}
		p.gqlOK(t, "", `query($id: ID!) { workflow(id: $id) { name initialState states } }`, map[string]any{"id": out.CreateWorkflow.ID}, &got)
		if w := got.Workflow; w.Name != "Document Processing" || w.InitialState != "received" || len(w.States) != 5 {
			t.Fatalf("workflow = %+v", w)
		}
	})
}
