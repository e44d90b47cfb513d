package router

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/google/go-cmp/cmp"
)

// planOf lists the candidates the router would try, as "deployment/model".
func planOf(t *testing.T, r *Router, req *llm.Request) []string {
	t.Helper()
	cs, err := r.plan(r.tab.Load(), "", req)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.dep.Name + "/" + c.upstream
	}
	return out
}

// pricedSetup has an OpenAI deployment (catalogue prices), a local one
// with no prices, and virtual models over them.
func pricedSetup(t *testing.T) *setup {
	return newSetup(t, Config{
		Deployments: []Deployment{
			{Name: "openai", Provider: "openai", Models: []string{"gpt-4o", "gpt-4o-mini", "o3"}},
			{Name: "local", Models: []string{"llama"}},
		},
		Virtual: []VirtualModel{
			{Name: "smart", Targets: []Target{{Model: "gpt-4o"}, {Model: "local/llama"}, {Model: "gpt-4o-mini"}}},
			{Name: "cheap", Strategy: StrategyCheapest, Targets: []Target{{Model: "o3"}, {Model: "llama"}, {Model: "gpt-4o"}, {Model: "gpt-4o-mini"}}},
		},
	})
}

func withRoute(req *llm.Request, o llm.RouteOptions) *llm.Request {
	req.Route = &o
	return req
}

func TestCostRouting(t *testing.T) {
	s := pricedSetup(t)
	// 8 bytes of prompt: 2 tokens; 1,000 output tokens. gpt-4o ≈ $0.010005,
	// gpt-4o-mini ≈ $0.0006003, o3 ≈ $0.008004, llama unpriced.
	req := func(model string, o llm.RouteOptions) *llm.Request {
		r := withRoute(userRequest(model, "12345678"), o)
		r.MaxTokens = 1000
		return r
	}
	tests := []struct {
		name string
		req  *llm.Request
		want []string
	}{
		{"virtual fallback order", req("smart", llm.RouteOptions{}), []string{"openai/gpt-4o", "local/llama", "openai/gpt-4o-mini"}},
		{"cost optimisation: unpriced last", req("smart", llm.RouteOptions{CostOptimization: true}), []string{"openai/gpt-4o-mini", "openai/gpt-4o", "local/llama"}},
		{"threshold drops the expensive and the unpriced", req("smart", llm.RouteOptions{CostThreshold: 0.005}), []string{"openai/gpt-4o-mini"}},
		{"threshold keeps everything priced under it", req("smart", llm.RouteOptions{CostThreshold: 0.02}), []string{"openai/gpt-4o", "openai/gpt-4o-mini"}},
		{"cheapest strategy", req("cheap", llm.RouteOptions{}), []string{"openai/gpt-4o-mini", "openai/o3", "openai/gpt-4o", "local/llama"}},
		{"fallback models appended without repeats", req("gpt-4o", llm.RouteOptions{FallbackModels: []string{"local/llama", "gpt-4o", "smart"}}),
			[]string{"openai/gpt-4o", "local/llama", "openai/gpt-4o-mini"}},
		{"fallback models then cost", req("gpt-4o", llm.RouteOptions{FallbackModels: []string{"o3"}, CostOptimization: true}),
			[]string{"openai/o3", "openai/gpt-4o"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, planOf(t, s.r, tt.req)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCostThresholdPicksTheCheaperModel routes a real call.
func TestCostThresholdPicksTheCheaperModel(t *testing.T) {
	s := pricedSetup(t)
	r := withRoute(userRequest("smart", "12345678"), llm.RouteOptions{CostThreshold: 0.005})
	r.MaxTokens = 1000
	_, call, err := s.r.Chat(context.Background(), r, Caller{})
	if err != nil {
		t.Fatal(err)
	}
	if call.Model != "gpt-4o-mini" || len(call.Route) != 1 {
		t.Errorf("model %q route %v", call.Model, routeOf(call))
	}
	if diff := cmp.Diff([]string{"gpt-4o-mini"}, s.fakes["openai"].models); diff != "" {
		t.Errorf("upstream models (-want +got):\n%s", diff)
	}
}

func TestCostThresholdPolicyError(t *testing.T) {
	s := pricedSetup(t)
	tests := []struct {
		name, model string
		want        []string
	}{
		{"cheapest named", "smart", []string{"cost threshold of $0.0001", "cheapest estimate is $0.000600", "openai/gpt-4o-mini"}},
		{"nothing priced", "llama", []string{"cost threshold of $0.0001", "no candidate has a known price"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := withRoute(userRequest(tt.model, "12345678"), llm.RouteOptions{CostThreshold: 0.0001})
			r.MaxTokens = 1000
			_, call, err := s.r.Chat(context.Background(), r, Caller{})
			e := llm.AsError(err)
			if e.Kind != llm.KindPolicy || e.Status != 403 {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(e.Message, w) {
					t.Errorf("message %q does not mention %q", e.Message, w)
				}
			}
			if call.Fault != "policy" || len(s.fakes["openai"].models) != 0 {
				t.Errorf("fault %q, upstream called %v", call.Fault, s.fakes["openai"].models)
			}
		})
	}
}

func TestCostEstimateUsesTheOutputLimit(t *testing.T) {
	s := pricedSetup(t)
	// No MaxTokens: gpt-4o-mini's output limit (16,384) capped at 4,096.
	cs, err := s.r.plan(s.r.tab.Load(), "", withRoute(userRequest("gpt-4o-mini", "12345678"), llm.RouteOptions{CostThreshold: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if want := (2*0.15 + 4096*0.6) / 1e6; len(cs) != 1 || math.Abs(cs[0].cost-want) > 1e-12 {
		t.Errorf("estimate %v, want %v", cs[0].cost, want)
	}
}

// teach makes n calls pinned to a deployment, each taking took.
func teach(t *testing.T, s *setup, model string, took time.Duration, n int) {
	t.Helper()
	dep := model[:strings.IndexByte(model, '/')]
	s.fakes[dep].script(step{took: took})
	for range n {
		if _, _, err := s.r.Chat(context.Background(), userRequest(model, "x"), Caller{}); err != nil {
			t.Fatal(err)
		}
	}
	s.fakes[dep].script(step{})
}

func TestLatencyRouting(t *testing.T) {
	s := newSetup(t, Config{
		Deployments: []Deployment{{Name: "slow"}, {Name: "fast"}, {Name: "new"}},
		Virtual:     []VirtualModel{{Name: "quick", Strategy: StrategyFastest, Targets: []Target{{Model: "slow/m"}, {Model: "fast/m"}}}},
	})
	// Before learning, config order.
	if diff := cmp.Diff([]string{"slow/m", "fast/m", "new/m"}, planOf(t, s.r, withRoute(userRequest("m", "x"), llm.RouteOptions{LatencyTarget: 1000}))); diff != "" {
		t.Errorf("unlearned plan (-want +got):\n%s", diff)
	}
	teach(t, s, "slow/m", 3*time.Second, 5)
	teach(t, s, "fast/m", 200*time.Millisecond, 5)
	tests := []struct {
		name string
		req  *llm.Request
		want []string
	}{
		{"no options: config order", userRequest("m", "x"), []string{"slow/m", "fast/m", "new/m"}},
		{"latency target avoids the slow deployment", withRoute(userRequest("m", "x"), llm.RouteOptions{LatencyTarget: 1000}), []string{"fast/m", "new/m", "slow/m"}},
		{"latency priority: unmeasured first, optimistically", withRoute(userRequest("m", "x"), llm.RouteOptions{LatencyPriority: true}), []string{"new/m", "fast/m", "slow/m"}},
		{"fastest strategy", userRequest("quick", "x"), []string{"fast/m", "slow/m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, planOf(t, s.r, tt.req)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
	// And a real call goes to the fast deployment.
	_, call, err := s.r.Chat(context.Background(), withRoute(userRequest("m", "x"), llm.RouteOptions{LatencyTarget: 1000}), Caller{})
	if err != nil || call.Deployment != "fast" {
		t.Errorf("deployment %q err %v", call.Deployment, err)
	}
	var slow LatencyInfo
	for _, d := range s.r.Deployments() {
		if d.Name == "slow" {
			slow = d.Latency[0]
		}
	}
	if slow.Model != "m" || slow.Samples != 5 || slow.TTFTMs != 3000 {
		t.Errorf("slow estimate %+v", slow)
	}
}

// TestLatencyEstimateFromStreams learns the output rate from a stream and
// applies it to the expected output length.
func TestLatencyEstimateFromStreams(t *testing.T) {
	var l latencies
	near := func(got, want time.Duration) bool { return (got - want).Abs() < time.Microsecond }
	// 1 s to the first token, then 100 tokens in 2 s.
	l.stream("m", time.Second, 2*time.Second, 100, true)
	if got := l.expected("m", 0); !near(got, 3*time.Second) {
		t.Errorf("expected %v, want 3s", got)
	}
	// Capped at MaxTokens: 10 tokens at 50/s.
	if got := l.expected("m", 10); !near(got, 1200*time.Millisecond) {
		t.Errorf("expected %v, want 1.2s", got)
	}
	// A non-streamed call of 5 s with 100 tokens: a TTFT sample of 3 s
	// moves the average from 1 s to 1.4 s.
	l.chat("m", 5*time.Second, 100)
	if got := l.expected("m", 0); !near(got, 3400*time.Millisecond) {
		t.Errorf("expected %v, want 3.4s", got)
	}
	if l.expected("other", 0) != 0 {
		t.Error("an unmeasured model is not optimistic")
	}
}

func TestWeighted(t *testing.T) {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	s := newSetup(t, Config{
		Deployments: []Deployment{{Name: "a"}, {Name: "b", Weight: 2}, {Name: "c"}},
		Virtual: []VirtualModel{{Name: "w", Strategy: StrategyWeighted,
			Targets: []Target{{Model: "a/m", Weight: 3}, {Model: "b/m"}, {Model: "c/m", Weight: 5}}}},
		Rand: func() float64 { mu.Lock(); defer mu.Unlock(); return rng.Float64() },
	})
	const n = 10000
	first := map[string]int{}
	for range n {
		p := planOf(t, s.r, userRequest("w", "x"))
		if len(p) != 3 {
			t.Fatalf("plan %v", p)
		}
		first[p[0]]++
	}
	// Weights 3 : 2 (b's deployment weight) : 5.
	for dep, want := range map[string]float64{"a/m": 0.3, "b/m": 0.2, "c/m": 0.5} {
		if got := float64(first[dep]) / n; got < want-0.03 || got > want+0.03 {
			t.Errorf("%s first %.3f of the time, want %.2f", dep, got, want)
		}
	}
	// The rest follow in order.
	rng = rand.New(rand.NewPCG(1, 2))
	for range 50 {
		p := planOf(t, s.r, userRequest("w", "x"))
		var rest []string
		for _, d := range []string{"a/m", "b/m", "c/m"} {
			if d != p[0] {
				rest = append(rest, d)
			}
		}
		if diff := cmp.Diff(rest, p[1:]); diff != "" {
			t.Fatalf("rest (-want +got):\n%s", diff)
		}
	}
}

func TestFallbackModelErrors(t *testing.T) {
	s := pricedSetup(t)
	_, _, err := s.r.Chat(context.Background(), withRoute(userRequest("gpt-4o", "x"), llm.RouteOptions{FallbackModels: []string{"nope"}}), Caller{})
	if e := llm.AsError(err); e.Kind != llm.KindNotFound || !strings.Contains(e.Message, `fallback model: model "nope"`) {
		t.Errorf("err = %v", err)
	}
}
