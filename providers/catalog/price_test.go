package catalog

import (
	"math"
	"strings"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func f64(v float64) *float64 { return &v }

// near compares costs to well below a millionth of a cent.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestCost(t *testing.T) {
	gpt4o, _ := Default().Price("openai", "gpt-4o")                 // 2.5 / 10, cache read 1.25
	o3, _ := Default().Price("openai", "o3")                        // 2 / 8, cache read 0.5, no reasoning price
	deep, _ := Default().Price("perplexity", "sonar-deep-research") // 2 / 8, reasoning 3
	sonnet := Price{Input: 3, Output: 15, CacheRead: 0.3, CacheWrite: 3.75, Known: FieldInput | FieldOutput | FieldCacheRead | FieldCacheWrite}
	tests := []struct {
		name   string
		price  Price
		usage  llm.Usage
		want   float64
		priced bool
	}{
		{"gpt-4o plain", gpt4o, llm.Usage{Input: 1000, Output: 500}, (1000*2.5 + 500*10) / 1e6, true},
		{"gpt-4o with cached tokens", gpt4o, llm.Usage{Input: 1000, CacheRead: 2000, Output: 500}, 0.01, true},
		{"gpt-4o cache write at the input price", gpt4o, llm.Usage{CacheWrite: 1000}, 1000 * 2.5 / 1e6, true},
		{"o3 reasoning at the output price", o3, llm.Usage{Input: 100, Output: 200, Reasoning: 1000}, (100*2 + 200*8 + 1000*8) / 1e6, true},
		{"reasoning price", deep, llm.Usage{Input: 1000, Output: 1000, Reasoning: 2000}, 0.016, true},
		{"anthropic cache read and write", sonnet, llm.Usage{Input: 10, CacheRead: 100000, CacheWrite: 2000, Output: 300}, (10*3 + 100000*0.3 + 2000*3.75 + 300*15) / 1e6, true},
		{"nothing used", gpt4o, llm.Usage{}, 0, true},
		{"unknown model", Price{}, llm.Usage{Input: 1}, 0, false},
		{"unknown model, no tokens", Price{}, llm.Usage{}, 0, false},
		{"output price unknown", Price{Input: 1, Known: FieldInput}, llm.Usage{Input: 10, Output: 1}, 0, false},
		{"reasoning with no output price", Price{Input: 1, Known: FieldInput}, llm.Usage{Reasoning: 1}, 0, false},
		{"cache read with no input price", Price{Output: 1, Known: FieldOutput}, llm.Usage{CacheRead: 1}, 0, false},
		{"free self-hosted", Price{Known: FieldInput | FieldOutput}, llm.Usage{Input: 10, Output: 10, Reasoning: 5, CacheRead: 3}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, priced := tt.price.Cost(tt.usage)
			if priced != tt.priced || !near(got, tt.want) {
				t.Errorf("Cost = %.12f, %v; want %.12f, %v", got, priced, tt.want, tt.priced)
			}
		})
	}
}

func TestTable(t *testing.T) {
	tbl, err := NewTable(nil,
		Override{Deployment: "local", Input: f64(0), Output: f64(0)},
		Override{Deployment: "azure-eu", Model: "gpt-4o", Output: f64(12)},
		Override{Deployment: "azure-eu", CacheWrite: f64(3)},
	)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Catalog() != Default() {
		t.Error("nil catalogue is not the default")
	}
	all := FieldInput | FieldOutput | FieldCacheRead
	tests := []struct {
		name                        string
		deployment, provider, model string
		want                        Price
		ok                          bool
	}{
		{"catalogue", "openai", "openai", "gpt-4o", Price{Input: 2.5, Output: 10, CacheRead: 1.25, Known: all}, true},
		{"deployment-wide free", "local", "vllm", "llama3", Price{Known: FieldInput | FieldOutput}, true},
		{"model override over deployment-wide over catalogue", "azure-eu", "openai", "gpt-4o",
			Price{Input: 2.5, Output: 12, CacheRead: 1.25, CacheWrite: 3, Known: all | FieldCacheWrite}, true},
		{"deployment-wide only", "azure-eu", "openai", "gpt-4o-mini",
			Price{Input: 0.15, Output: 0.6, CacheRead: 0.075, CacheWrite: 3, Known: all | FieldCacheWrite}, true},
		{"unpriced", "vllm", "vllm", "llama3", Price{}, false},
		{"unknown provider", "x", "nope", "gpt-4o", Price{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tbl.Lookup(tt.deployment, tt.provider, tt.model)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Lookup = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNewTableErrors(t *testing.T) {
	_, err := NewTable(Default(),
		Override{Model: "m", Input: f64(1)},
		Override{Deployment: "a", Input: f64(-1)},
		Override{Deployment: "b", Output: f64(math.Inf(1))},
		Override{Deployment: "c", Model: "m", Input: f64(1)},
		Override{Deployment: "c", Model: "m", Output: f64(1)},
	)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"override 0: no deployment", `"a"`, `"b"`, `"c" model "m" given twice`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
