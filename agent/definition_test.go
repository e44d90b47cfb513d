package agent_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/agent"
)

func ptr[T any](v T) *T { return &v }

func valid() agent.Definition {
	return agent.Normalize(agent.Definition{
		Name: "Support Classifier", Model: "gpt-4o", SystemPrompt: "Classify.",
		Tools: []agent.Tool{
			{Name: "lookup", HTTP: &agent.HTTPTool{URL: "http://127.0.0.1:1/lookup"},
				Parameters: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}}}`)},
			{Name: agent.ToolEscalateToHuman},
		},
		OutputSchema: json.RawMessage(`{"type":"object","required":["category"]}`),
	})
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(d *agent.Definition)
		paths []string // the problems' paths, in order; none for a valid definition
	}{
		{"valid", func(*agent.Definition) {}, nil},
		{"no name, no model", func(d *agent.Definition) { d.Name, d.Model = " ", "" }, []string{"name", "model"}},
		{"bad id", func(d *agent.Definition) { d.ID = "a:b" }, []string{"id"}},
		{"provider with slash", func(d *agent.Definition) { d.Provider = "a/b" }, []string{"provider"}},
		{"temperature", func(d *agent.Definition) { d.Temperature = ptr(2.5) }, []string{"temperature"}},
		{"limits", func(d *agent.Definition) { d.MaxSteps, d.TimeoutSeconds, d.MaxTokens = -1, -1, -1 },
			[]string{"maxTokens", "maxSteps", "timeoutSeconds"}},
		{"schema not JSON", func(d *agent.Definition) { d.OutputSchema = json.RawMessage(`{`) }, []string{"outputSchema"}},
		{"schema wrong type", func(d *agent.Definition) { d.OutputSchema = json.RawMessage(`{"type":"nope"}`) }, []string{"outputSchema"}},
		{"schema external ref", func(d *agent.Definition) {
			d.OutputSchema = json.RawMessage(`{"$ref":"file:///etc/passwd"}`)
		}, []string{"outputSchema"}},
		{"tool without name", func(d *agent.Definition) { d.Tools[0].Name = "" }, []string{"tools[0].name"}},
		{"duplicate tool", func(d *agent.Definition) { d.Tools[1] = d.Tools[0] }, []string{"tools[1].name"}},
		{"unknown builtin", func(d *agent.Definition) { d.Tools[1].Name = "nope" }, []string{"tools[1].name"}},
		{"http without endpoint", func(d *agent.Definition) { d.Tools[0].HTTP = nil }, []string{"tools[0].http"}},
		{"http bad url and method", func(d *agent.Definition) {
			d.Tools[0].HTTP = &agent.HTTPTool{URL: "ftp://x", Method: "GET"}
		}, []string{"tools[0].http.url", "tools[0].http.method"}},
		{"http header injection", func(d *agent.Definition) {
			d.Tools[0].HTTP.Headers = map[string]string{"X-A": "a\r\nb"}
		}, []string{"tools[0].http.headers"}},
		{"bad parameters", func(d *agent.Definition) { d.Tools[0].Parameters = json.RawMessage(`[1]`) }, []string{"tools[0].parameters"}},
		{"unknown kind", func(d *agent.Definition) { d.Tools[0].Kind = "shell" }, []string{"tools[0].kind"}},
		{"reserved kind", func(d *agent.Definition) { d.Tools[0].Kind, d.Tools[0].HTTP = agent.KindMCP, nil }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := valid()
			d.Tools = append([]agent.Tool(nil), d.Tools...)
			h := *d.Tools[0].HTTP
			d.Tools[0].HTTP = &h
			c.edit(&d)
			err := agent.Validate(d)
			var got []string
			var ve *agent.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					got = append(got, p.Path)
				}
			} else if err != nil {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			if diff := cmp.Diff(c.paths, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	d, err := agent.Parse([]byte(`{"name":" Writer ","model":"claude","provider":"anthropic",
		"tools":[{"name":"get_agent_output"},{"name":"search","http":{"url":"https://x.example/s"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := agent.Definition{Name: "Writer", Model: "claude", Provider: "anthropic",
		MaxSteps: agent.DefaultMaxSteps, TimeoutSeconds: agent.DefaultTimeoutSeconds,
		Tools: []agent.Tool{{Name: "get_agent_output", Kind: agent.KindBuiltin},
			{Name: "search", Kind: agent.KindHTTP, HTTP: &agent.HTTPTool{URL: "https://x.example/s", Method: "POST"}}}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	if err := agent.Validate(d); err != nil {
		t.Error(err)
	}
	if got := d.RouterModel(); got != "anthropic/claude" {
		t.Errorf("RouterModel = %q", got)
	}
	for _, bad := range []string{`{"name":"x","nope":1}`, `{"name":"x"} {}`, `[]`, ``} {
		if _, err := agent.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestRouterModel(t *testing.T) {
	cases := []struct{ provider, model, want string }{
		{"", "gpt-4o", "gpt-4o"},
		{"openai", "gpt-4o", "openai/gpt-4o"},
		{"openai", "openai/gpt-4o", "openai/gpt-4o"},
		{"", "smart", "smart"},
	}
	for _, c := range cases {
		if got := (agent.Definition{Provider: c.provider, Model: c.model}).RouterModel(); got != c.want {
			t.Errorf("RouterModel(%q, %q) = %q, want %q", c.provider, c.model, got, c.want)
		}
	}
}

func TestSlug(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Support Classifier", "support-classifier"},
		{"  Research -- Agent!! ", "research-agent"},
		{"Ünïcode", "n-code"},
		{"!!!", "agent"},
		{strings.Repeat("ab ", 40), strings.TrimRight(strings.Repeat("ab-", 22)[:64], "-")},
	}
	for _, c := range cases {
		got := agent.Slug(c.in)
		if got != c.want {
			t.Errorf("Slug(%q) = %q, want %q", c.in, got, c.want)
		}
		if !agent.ValidID(got) {
			t.Errorf("Slug(%q) = %q is not a valid id", c.in, got)
		}
	}
}

func TestSame(t *testing.T) {
	a := valid()
	b := valid()
	b.Version, b.CreatedAt = 7, b.CreatedAt.AddDate(1, 0, 0)
	b.OutputSchema = json.RawMessage(`{ "type" : "object", "required": ["category"] }`)
	if !agent.Same(a, b) {
		t.Error("definitions differing in version, time and schema spacing are not the same")
	}
	b.SystemPrompt = "Other."
	if agent.Same(a, b) {
		t.Error("different prompts are the same")
	}
}

func TestSchemaValidate(t *testing.T) {
	s, err := agent.CompileSchema(json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, text, want string
		ok               bool
	}{
		{"plain", `{"n": 1}`, `{"n":1}`, true},
		{"fenced", "```json\n{\"n\": 2}\n```", `{"n":2}`, true},
		{"missing", `{}`, "", false},
		{"wrong type", `{"n":"x"}`, "", false},
		{"not json", `n is 1`, "", false},
		{"trailing", `{"n":1} x`, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Validate(c.text)
			if (err == nil) != c.ok {
				t.Fatalf("Validate(%q) error %v, want ok=%v", c.text, err, c.ok)
			}
			if string(got) != c.want {
				t.Errorf("Validate(%q) = %s, want %s", c.text, got, c.want)
			}
		})
	}
}

func FuzzParseValidate(f *testing.F) {
	f.Add([]byte(`{"name":"a","model":"m"}`))
	f.Add([]byte(`{"name":"a","model":"m","outputSchema":{"type":"object"},"tools":[{"name":"t","http":{"url":"http://x/"}}]}`))
	f.Add([]byte(`{"name":"a","model":"m","tools":[{"name":"escalate_to_human"},{"name":"x","kind":"mcp"}],"temperature":1}`))
	f.Add([]byte(`{"outputSchema":{"$ref":"#/definitions/a","definitions":{"a":{"$ref":"#/definitions/a"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := agent.Parse(data)
		if err != nil {
			return
		}
		err = agent.Validate(d)
		var ve *agent.ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("Validate error %T is not a *ValidationError", err)
		}
		if err != nil {
			return
		}
		// A valid definition survives a round trip unchanged.
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := agent.Parse(b)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !agent.Same(d, d2) {
			t.Fatalf("round trip changed the definition:\n%s", cmp.Diff(d, d2))
		}
		_ = d.RouterModel()
	})
}
