package gql

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/agent"
)

func sp(s string) *string { return &s }

func TestAgentInputDefinition(t *testing.T) {
	temp := 0.3
	id := graphql.ID("reporter")
	n := func(v int32) *int32 { return &v }
	cases := []struct {
		name  string
		in    agentInput
		want  agent.Definition
		probs []string // problem paths, in order
	}{
		{
			name: "every field",
			in: agentInput{ID: &id, Name: "Reporter", Description: sp("d"), Role: sp("writer"), Type: sp("conversational"),
				LlmProvider: sp("oai"), Model: sp("gpt-4o"), SystemPrompt: sp("Be brief."), Temperature: &temp,
				MaxTokens: n(256), MaxSteps: n(4), TimeoutSeconds: n(60),
				OutputSchema: &JSON{V: map[string]any{"type": "object"}},
				Tools: &[]agentToolInput{
					{Name: "get_weather", Type: sp("HTTP"), URL: sp("https://tools.test/w"), Method: sp("post"),
						Headers: &JSON{V: map[string]any{"Authorization": "Bearer x"}}, TimeoutSeconds: n(5),
						Parameters: &JSON{V: map[string]any{"type": "object"}}},
					{Name: "escalate_to_human", Description: sp("Ask a human")},
				}},
			want: agent.Definition{ID: "reporter", Name: "Reporter", Description: "d", Role: "writer", Type: "conversational",
				Provider: "oai", Model: "gpt-4o", SystemPrompt: "Be brief.", Temperature: &temp, MaxTokens: 256, MaxSteps: 4, TimeoutSeconds: 60,
				OutputSchema: json.RawMessage(`{"type":"object"}`),
				Tools: []agent.Tool{
					{Name: "get_weather", Kind: "http", Parameters: json.RawMessage(`{"type":"object"}`),
						HTTP: &agent.HTTPTool{URL: "https://tools.test/w", Method: "post", Headers: map[string]string{"Authorization": "Bearer x"}, TimeoutSeconds: 5}},
					{Name: "escalate_to_human", Description: "Ask a human"},
				}},
		},
		{
			name: "provider is llmProvider's alias",
			in:   agentInput{Name: "a", Provider: sp("claude"), Model: sp("m")},
			want: agent.Definition{Name: "a", Provider: "claude", Model: "m"},
		},
		{
			name: "the same provider twice",
			in:   agentInput{Name: "a", Provider: sp("claude"), LlmProvider: sp("claude"), Model: sp("m")},
			want: agent.Definition{Name: "a", Provider: "claude", Model: "m"},
		},
		{
			name: "shape problems, all at once",
			in: agentInput{Name: "a", Provider: sp("claude"), LlmProvider: sp("oai"), OutputSchema: &JSON{V: "not a schema"},
				Tools: &[]agentToolInput{{Name: "t", URL: sp("https://x.test"), Parameters: &JSON{V: []any{}},
					Headers: &JSON{V: map[string]any{"B": 1.0, "A": true}}}, {Name: "u", Headers: &JSON{V: "x"}}}},
			probs: []string{"input.provider", "input.outputSchema", "input.tools[0].parameters", "input.tools[0].headers.A",
				"input.tools[0].headers.B", "input.tools[1].headers"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.in.definition()
			if c.probs != nil {
				e, ok := err.(*Error)
				if !ok || e.Code != "VALIDATION" {
					t.Fatalf("err = %v, want a VALIDATION *Error", err)
				}
				var paths []string
				for _, p := range e.Problems {
					paths = append(paths, p.Path)
				}
				if diff := cmp.Diff(c.probs, paths); diff != "" {
					t.Fatalf("problem paths (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Fatalf("definition (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAgentPath(t *testing.T) {
	withLP := &agentInput{LlmProvider: sp("oai")}
	withP := &agentInput{Provider: sp("oai")}
	cases := []struct {
		name string
		in   *agentInput
		path string
		want string
	}{
		{"top-level field", withP, "model", "input.model"},
		{"provider given as provider", withP, "provider", "input.provider"},
		{"provider given as llmProvider", withLP, "provider", "input.llmProvider"},
		{"tool kind is the input's type", withP, "tools[2].kind", "input.tools[2].type"},
		{"missing http block is the url", withP, "tools[0].http", "input.tools[0].url"},
		{"http fields are flat", withP, "tools[1].http.method", "input.tools[1].method"},
		{"tool name", withP, "tools[3].name", "input.tools[3].name"},
		{"the whole input", withP, "", "input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := agentPath(c.in, c.path); got != c.want {
				t.Fatalf("agentPath(%q) = %q, want %q", c.path, got, c.want)
			}
		})
	}
}

// FuzzAgentInput checks that no input makes definition, validation or the
// path mapping panic, and that every problem path names an input field.
func FuzzAgentInput(f *testing.F) {
	f.Add([]byte(`{"name":"a","model":"gpt-4o","tools":[{"name":"t","url":"http://x","headers":{"A":"b"}}]}`))
	f.Add([]byte(`{"name":"","llmProvider":"a","provider":"b","maxSteps":-1,"tools":[{"name":"","type":"http"}]}`))
	f.Add([]byte(`{"name":"x","tools":[{"name":"escalate_to_human","type":"builtin","url":"ftp://"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw struct {
			agentInput
			OutputSchema any `json:"outputSchema"`
			Tools        *[]struct {
				agentToolInput
				Parameters any `json:"parameters"`
				Headers    any `json:"headers"`
			} `json:"tools"`
		}
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		in := raw.agentInput
		in.OutputSchema = &JSON{V: raw.OutputSchema}
		if raw.Tools != nil {
			tools := []agentToolInput{}
			for _, tl := range *raw.Tools {
				ti := tl.agentToolInput
				ti.Parameters, ti.Headers = &JSON{V: tl.Parameters}, &JSON{V: tl.Headers}
				tools = append(tools, ti)
			}
			in.Tools = &tools
		}
		d, err := in.definition()
		if err != nil {
			return
		}
		var ve *agent.ValidationError
		if verr := agent.Validate(agent.Normalize(d)); verr != nil {
			ve = verr.(*agent.ValidationError)
			for _, p := range ve.Problems {
				if got := agentPath(&in, p.Path); !strings.HasPrefix(got, "input") {
					t.Fatalf("path %q became %q", p.Path, got)
				}
			}
		}
	})
}
