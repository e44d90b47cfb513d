package gql_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/api/gql"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	_ "github.com/circuit-breaker/circuit-breaker/providers/all"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// llmEnv is a schema whose LLM router has two deployments of the
// simulator: "openai" (gpt-4o) and "anthropic" (claude-sonnet-4-5).
func llmEnv(t *testing.T) (*env, *sim.Server) {
	t.Helper()
	s := sim.New(sim.Config{})
	up := httptest.NewServer(s)
	t.Cleanup(up.Close)
	dep := func(name, format, base, model string) router.Deployment {
		c, err := providers.New(providers.Config{Name: name, Format: format, BaseURL: base, APIKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		return router.Deployment{Name: name, Provider: name, Client: c, Models: []string{model}}
	}
	var views *viewsRef = &viewsRef{}
	r, err := router.New(router.Config{Tenants: views, Deployments: []router.Deployment{
		dep("openai", "openai", up.URL+"/v1", "gpt-4o"),
		dep("anthropic", "anthropic", up.URL, "claude-sonnet-4-5"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, gql.Deps{LLM: r})
	views.e = e
	return e, s
}

// viewsRef resolves tenants' virtual models once the env exists.
type viewsRef struct{ e *env }

func (v *viewsRef) VirtualModel(tenant, name string) (router.VirtualModel, int, bool) {
	if v.e == nil {
		return router.VirtualModel{}, 0, false
	}
	return gql.TenantModels{Views: v.e.views}.VirtualModel(tenant, name)
}

func TestLlmChatCompletion(t *testing.T) {
	e, s := llmEnv(t)
	s.Script("claude-sonnet-4-5", sim.Step{Text: "Hello from Claude", Usage: &llm.Usage{Input: 100, Output: 20}})
	r := e.gql(t, "acme", `mutation($in: LlmChatInput!) { llmChatCompletion(input: $in) {
		id model provider deployment content stopReason costUsd addedMs
		usage { inputTokens outputTokens totalTokens } route { deployment outcome } } }`,
		map[string]any{"in": map[string]any{"model": "claude-sonnet-4-5", "maxTokens": 50,
			"messages": []any{map[string]any{"role": "system", "content": "be brief"}, map[string]any{"role": "user", "content": "hi"}}}})
	if len(r.Errors) > 0 {
		t.Fatalf("errors %+v", r.Errors)
	}
	c := r.Data["llmChatCompletion"].(map[string]any)
	if c["content"] != "Hello from Claude" || c["deployment"] != "anthropic" || c["stopReason"] != "end" {
		t.Fatalf("completion %v", c)
	}
	if u := c["usage"].(map[string]any); u["totalTokens"].(float64) != 120 {
		t.Fatalf("usage %v", u)
	}
	if cost, want := c["costUsd"].(float64), (100*3.0+20*15.0)/1e6; cost < want-1e-12 || cost > want+1e-12 {
		t.Fatalf("cost %v, want %v", cost, want)
	}
}

func TestLlmChatCompletionErrors(t *testing.T) {
	e, _ := llmEnv(t)
	cases := []struct {
		name string
		in   map[string]any
		code string
		msg  string
	}{
		{"unknown model", map[string]any{"model": "nope", "messages": []any{map[string]any{"role": "user", "content": "x"}}}, "NOT_FOUND", `"nope"`},
		{"bad role", map[string]any{"model": "gpt-4o", "messages": []any{map[string]any{"role": "robot", "content": "x"}}}, "VALIDATION", "input.messages[0].role"},
		{"no messages", map[string]any{"model": "gpt-4o", "messages": []any{}}, "VALIDATION", "input.messages"},
		{"tool without id", map[string]any{"model": "gpt-4o", "messages": []any{map[string]any{"role": "tool", "content": "x"}}}, "VALIDATION", "toolCallId"},
		{"cost threshold too low", map[string]any{"model": "gpt-4o", "costThreshold": 1e-9, "messages": []any{map[string]any{"role": "user", "content": "x"}}}, "FORBIDDEN", "threshold"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.gql(t, "acme", `mutation($in: LlmChatInput!) { llmChatCompletion(input: $in) { content } }`, map[string]any{"in": c.in})
			if r.code(0) != c.code || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Fatalf("errors %+v, want %s mentioning %q", r.Errors, c.code, c.msg)
			}
		})
	}
}

func TestLlmStream(t *testing.T) {
	e, s := llmEnv(t)
	s.Script("gpt-4o", sim.Step{Text: "a b c d"})
	ctx, cancel := context.WithTimeout(withTenant(context.Background(), "acme"), 30*time.Second)
	defer cancel()
	q := `subscription($in: LlmChatInput!) { llmStream(input: $in) { type text callId costUsd provider } }`
	vars := map[string]any{"in": map[string]any{"model": "gpt-4o", "messages": []any{map[string]any{"role": "user", "content": "x"}}}}
	ch, err := e.schema.Subscribe(ctx, q, "", vars)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	var text strings.Builder
	var done map[string]any
	for resp := range ch {
		if len(resp.Errors) > 0 {
			t.Fatalf("errors %v", resp.Errors)
		}
		var d struct{ LlmStream map[string]any }
		if err := jsonUnmarshal(resp.Data, &d); err != nil {
			t.Fatal(err)
		}
		types = append(types, d.LlmStream["type"].(string))
		if s, ok := d.LlmStream["text"].(string); ok {
			text.WriteString(s)
		}
		if d.LlmStream["type"] == "DONE" {
			done = d.LlmStream
			break
		}
	}
	if text.String() != "a b c d" || types[0] != "START" || done == nil || done["callId"] == nil || done["provider"] != "openai" {
		t.Fatalf("types %v text %q done %v", types, text.String(), done)
	}
	// Two identical streams are two calls, never one shared execution.
	s.Script("gpt-4o", sim.Step{Text: "first"}, sim.Step{Text: "second"})
	got := map[string]bool{}
	for range 2 {
		ch, err := e.schema.Subscribe(ctx, q, "", vars)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		for resp := range ch {
			var d struct{ LlmStream map[string]any }
			_ = jsonUnmarshal(resp.Data, &d)
			if s, ok := d.LlmStream["text"].(string); ok {
				sb.WriteString(s)
			}
		}
		got[sb.String()] = true
	}
	if !got["first"] || !got["second"] {
		t.Fatalf("identical streams got %v", got)
	}
}

func TestVirtualModelsArePerTenant(t *testing.T) {
	e, _ := llmEnv(t)
	create := `mutation($in: VirtualModelInput!) { createVirtualModel(input: $in) { name strategy version targets { model } } }`
	r := e.gql(t, "acme", create, map[string]any{"in": map[string]any{"name": "smart", "strategy": "fallback",
		"targets": []any{map[string]any{"model": "anthropic/claude-sonnet-4-5"}, map[string]any{"model": "gpt-4o"}}}})
	if len(r.Errors) > 0 {
		t.Fatalf("errors %+v", r.Errors)
	}
	if v := r.Data["createVirtualModel"].(map[string]any); v["version"].(float64) != 1 || v["strategy"] != "fallback" {
		t.Fatalf("created %v", v)
	}
	bad := e.gql(t, "acme", create, map[string]any{"in": map[string]any{"name": "x", "strategy": "random", "targets": []any{map[string]any{"model": "nowhere"}}}})
	if bad.code(0) != "VALIDATION" {
		t.Fatalf("bad virtual model: %+v", bad.Errors)
	}
	chat := `mutation { llmChatCompletion(input: {model: "smart", messages: [{role: "user", content: "x"}]}) { deployment } }`
	if r := e.gql(t, "acme", chat, nil); len(r.Errors) > 0 || r.Data["llmChatCompletion"].(map[string]any)["deployment"] != "anthropic" {
		t.Fatalf("acme's smart: %+v %v", r.Errors, r.Data)
	}
	if r := e.gql(t, "globex", chat, nil); r.code(0) != "NOT_FOUND" {
		t.Fatalf("globex used acme's model: %+v %v", r.Errors, r.Data)
	}
	if r := e.gql(t, "globex", `{ virtualModels { name } }`, nil); len(r.Data["virtualModels"].([]any)) != 0 {
		t.Fatalf("globex sees %v", r.Data)
	}
	if r := e.gql(t, "acme", `mutation { deleteVirtualModel(name: "smart") }`, nil); r.Data["deleteVirtualModel"] != true {
		t.Fatalf("delete %+v", r)
	}
	if r := e.gql(t, "acme", chat, nil); r.code(0) != "NOT_FOUND" {
		t.Fatalf("deleted model still routes: %+v", r.Data)
	}
}

func withTenant(ctx context.Context, tenant string) context.Context {
	return auth.WithPrincipal(ctx, auth.Principal{Tenant: tenant, Subject: "test", Method: auth.MethodAPIKey})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
