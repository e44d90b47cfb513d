package catalog

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefault(t *testing.T) {
	c := Default()
	if c != Default() {
		t.Fatal("Default parsed twice")
	}
	if c.Commit == "" || !strings.Contains(c.Source, "models.dev") {
		t.Errorf("commit %q source %q", c.Commit, c.Source)
	}
	if !strings.Contains(License, "MIT License") {
		t.Error("licence text missing")
	}
	ps := c.Providers()
	if len(ps) < 150 {
		t.Fatalf("%d providers, want the 147 of the data and the built-in servers", len(ps))
	}
	var models int
	for i, p := range ps {
		if i > 0 && ps[i-1].ID >= p.ID {
			t.Fatalf("providers not sorted: %q before %q", ps[i-1].ID, p.ID)
		}
		models += len(p.Models)
	}
	if models < 5000 {
		t.Errorf("%d models, want 5,000+", models)
	}
}

func TestProviders(t *testing.T) {
	c := Default()
	tests := []struct {
		id, format, baseURL string
		selfHosted          bool
	}{
		{id: "openai", format: "openai", baseURL: "https://api.openai.com/v1"},
		{id: "anthropic", format: "anthropic", baseURL: "https://api.anthropic.com"},
		{id: "google", format: "gemini", baseURL: "https://generativelanguage.googleapis.com/v1beta"},
		{id: "groq", format: "openai", baseURL: "https://api.groq.com/openai/v1"},
		{id: "togetherai", format: "openai", baseURL: "https://api.together.xyz/v1"},
		{id: "mistral", format: "openai", baseURL: "https://api.mistral.ai/v1"},
		{id: "xai", format: "openai", baseURL: "https://api.x.ai/v1"},
		{id: "cerebras", format: "openai", baseURL: "https://api.cerebras.ai/v1"},
		{id: "deepinfra", format: "openai", baseURL: "https://api.deepinfra.com/v1/openai"},
		{id: "perplexity", format: "openai", baseURL: "https://api.perplexity.ai"},
		{id: "cohere", format: "cohere", baseURL: "https://api.cohere.com"},
		{id: "fireworks-ai", format: "openai", baseURL: "https://api.fireworks.ai/inference/v1"},
		{id: "openrouter", format: "openai", baseURL: "https://openrouter.ai/api/v1"},
		{id: "vercel", format: "openai", baseURL: "https://ai-gateway.vercel.sh/v1"},
		{id: "amazon-bedrock", format: "bedrock"},
		{id: "azure", format: "azure", baseURL: "https://${AZURE_RESOURCE_NAME}.openai.azure.com/openai"},
		{id: "minimax", format: "anthropic", baseURL: "https://api.minimax.io/anthropic"},
		{id: "bailing", format: "openai", baseURL: "https://api.tbox.cn/api/llm/v1"},
		{id: "google-vertex"},
		{id: "github-copilot", baseURL: "https://api.githubcopilot.com"},
		{id: "gitlab"},
		{id: "ollama", format: "ollama", baseURL: "http://localhost:11434", selfHosted: true},
		{id: "vllm", format: "openai", baseURL: "http://localhost:8000/v1", selfHosted: true},
		{id: "lmstudio", format: "openai", baseURL: "http://127.0.0.1:1234/v1", selfHosted: true},
		{id: "tgi", format: "openai", baseURL: "http://localhost:8080/v1", selfHosted: true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			p, ok := c.Provider(tt.id)
			if !ok {
				t.Fatal("not in the catalogue")
			}
			if p.Format != tt.format || p.BaseURL != tt.baseURL || p.SelfHosted != tt.selfHosted {
				t.Errorf("format %q base %q self-hosted %v, want %q %q %v", p.Format, p.BaseURL, p.SelfHosted, tt.format, tt.baseURL, tt.selfHosted)
			}
			if got, want := p.Supported(), tt.format != ""; got != want {
				t.Errorf("Supported() = %v", got)
			}
		})
	}
}

// TestEverySupportedProvider looks up every provider with a known format:
// its base URL is usable and its models answer lookups.
func TestEverySupportedProvider(t *testing.T) {
	c := Default()
	formats := map[string]bool{"openai": true, "anthropic": true, "gemini": true, "bedrock": true, "cohere": true, "azure": true, "ollama": true}
	env := func(name string) string {
		if strings.HasSuffix(name, "_URL") {
			return "https://gateway.example"
		}
		return "x" + strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	}
	var n int
	for _, p := range c.Providers() {
		if p.Format == "" {
			continue
		}
		n++
		t.Run(p.ID, func(t *testing.T) {
			if !formats[p.Format] {
				t.Fatalf("format %q", p.Format)
			}
			if !p.Supported() {
				t.Fatalf("format %q but no base URL", p.Format)
			}
			if p.Format != "bedrock" {
				raw, ok := p.ResolveBaseURL(env)
				if !ok {
					t.Fatalf("base URL %q does not resolve", p.BaseURL)
				}
				u, err := url.Parse(raw)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.HasSuffix(raw, "/") {
					t.Fatalf("base URL %q (%v)", raw, err)
				}
			}
			for id, m := range p.Models {
				got, ok := c.Model(p.ID, id)
				if !ok || got != m || m.ID != id {
					t.Fatalf("Model(%q, %q) = %v, %v", p.ID, id, got, ok)
				}
				if pr, ok := c.Price(p.ID, id); ok != (m.Price.Known != 0) || pr != m.Price {
					t.Fatalf("Price(%q, %q) = %v, %v; model has %v", p.ID, id, pr, ok, m.Price)
				}
			}
		})
	}
	if n < 130 {
		t.Errorf("%d supported providers", n)
	}
}

func TestModel(t *testing.T) {
	m, ok := Default().Model("openai", "gpt-4o")
	if !ok {
		t.Fatal("openai/gpt-4o missing")
	}
	want := &Model{ID: "gpt-4o", Name: "GPT-4o", Context: 128000, Output: 16384, ToolCall: true,
		InputModalities: []string{"text", "image", "pdf"}, OutputModalities: []string{"text"},
		Price: Price{Input: 2.5, Output: 10, CacheRead: 1.25, Known: FieldInput | FieldOutput | FieldCacheRead}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("gpt-4o (-want +got):\n%s", diff)
	}
	if _, ok := Default().Model("openai", "no-such-model"); ok {
		t.Error("unknown model found")
	}
	if _, ok := Default().Model("no-such-provider", "gpt-4o"); ok {
		t.Error("unknown provider found")
	}
	if ids := Default().Providers()[0].ModelIDs(); len(ids) == 0 {
		t.Error("no model ids")
	}
}

func TestParse(t *testing.T) {
	data := `{"commit":"c","price_unit":"USD per 1M tokens","source":"test","providers":{
	  "p":{"name":"P","env":["P_KEY"],"npm":"@ai-sdk/openai-compatible","api":"https://p.example/v1/","doc":"d","models":{
	    "a":{"name":"A","cost":{"input":1,"output":2,"cached_input":0.5,"cached_write":1.5,"tiers":[{"input":9}],"input_audio":3},"limit":{"context":10,"output":5},"reasoning":true,"tool_call":null},
	    "b":{"name":"B","cost":{"input":1,"output":2,"cache_input":0.25,"reasoning":4,"request":5,"image":1}},
	    "c":{"name":"C","cost":null},
	    "d":{"name":"D","cost":{"input":-1,"output":2}},
	    "e":null
	  }},
	  "q":{"name":"Q","env":[],"npm":"some-other-sdk","doc":"d","models":{}}
	}}`
	c, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Provider("p")
	if p.BaseURL != "https://p.example/v1" || p.Format != "openai" {
		t.Errorf("p: base %q format %q", p.BaseURL, p.Format)
	}
	if q, _ := c.Provider("q"); q.Supported() {
		t.Error("q: unknown npm package is supported")
	}
	tests := []struct {
		model string
		want  Price
		ok    bool
	}{
		{"a", Price{Input: 1, Output: 2, CacheRead: 0.5, CacheWrite: 1.5, Known: FieldInput | FieldOutput | FieldCacheRead | FieldCacheWrite}, true},
		{"b", Price{Input: 1, Output: 2, CacheRead: 0.25, Reasoning: 4, Known: FieldInput | FieldOutput | FieldCacheRead | FieldReasoning}, true},
		{"c", Price{}, false},
		{"d", Price{Output: 2, Known: FieldOutput}, true},
		{"e", Price{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			got, ok := c.Price("p", tt.model)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Price = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
	if m, _ := c.Model("p", "a"); !m.Reasoning || m.ToolCall || m.Context != 10 || m.Output != 5 {
		t.Errorf("a: %+v", m)
	}
	if _, ok := c.Provider("ollama"); !ok {
		t.Error("built-in ollama missing")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"not json", `{`, "unexpected end"},
		{"no providers", `{"commit":"c"}`, "no providers"},
		{"other unit", `{"price_unit":"EUR per token","providers":{}}`, "price_unit"},
		{"string price", `{"providers":{"p":{"models":{"m":{"cost":{"input":"1"}}}}}}`, "input"},
		{"null provider", `{"providers":{"p":null}}`, `"p" is null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"providers":{"p":{"npm":"@ai-sdk/anthropic","api":"https://x/v1","env":["K"],"models":{"m":{"cost":{"input":1,"cached_write":2},"limit":{"context":1}}}}}}`))
	f.Add([]byte(`{"price_unit":"USD per 1M tokens","providers":{"azure":{"npm":"@ai-sdk/azure","env":["A","B"],"models":{}}}}`))
	f.Add([]byte(`{"providers":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		for _, p := range c.Providers() {
			if strings.HasSuffix(p.BaseURL, "/") {
				t.Fatalf("%s: base URL %q ends in a slash", p.ID, p.BaseURL)
			}
			p.ResolveBaseURL(func(string) string { return "v" })
			p.envConfig(func(string) string { return "v" })
			for id, m := range p.Models {
				if pr, ok := c.Price(p.ID, id); ok {
					if pr.Input < 0 || pr.Output < 0 || pr.CacheRead < 0 || pr.CacheWrite < 0 || pr.Reasoning < 0 {
						t.Fatalf("%s/%s: negative price %+v", p.ID, id, pr)
					}
				}
				_ = m
			}
		}
	})
}
