package router

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/catalog"
	"github.com/google/go-cmp/cmp"
	"github.com/oklog/ulid/v2"
)

func TestNewReportsEveryProblem(t *testing.T) {
	f := &fake{}
	_, err := New(Config{
		Deployments: []Deployment{
			{Name: "a", Client: f, Models: []string{"m"}},
			{Name: "a", Client: f, Models: []string{"m"}},
			{Name: "x/y", Client: f, Models: []string{"m"}},
			{Name: "", Client: f},
			{Name: "noclient", Models: []string{"m"}},
			{Name: "typo", Client: f, Provider: "opneai"},
			{Name: "neg", Client: f, Weight: -1, Models: []string{""}, ModelMap: map[string]string{"p": ""}},
		},
		Virtual: []VirtualModel{
			{Name: "v1", Strategy: "random", Targets: []Target{{Model: "m"}}},
			{Name: "v2", Targets: []Target{{Model: "nowhere"}, {Model: "a/other"}}},
			{Name: "v3"},
			{Name: "v3", Targets: []Target{{Model: "m"}}},
			{Name: "", Targets: []Target{{Model: "m", Weight: -2}}},
		},
		Retry:   Retry{MaxAttempts: -1},
		Breaker: Breaker{OpenFor: -time.Second},
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`deployment "a" defined twice`,
		`deployment "x/y": the name must not contain "/"`,
		`deployment 3 has no name`,
		`deployment "noclient" has no client`,
		`provider "opneai" is not in the catalogue`,
		`deployment "neg": weight must not be negative`,
		`deployment "neg" lists an empty model`,
		`model map entry "p"`,
		`virtual model "v1": unknown strategy "random"`,
		`virtual model "v2" target 0: model "nowhere" is not served`,
		`virtual model "v2" target 1: deployment "a" does not serve model "other"`,
		`virtual model "v3" has no targets`,
		`virtual model "v3" defined twice`,
		`virtual model with no name`,
		`target 0: weight must not be negative`,
		`retry settings must not be negative`,
		`breaker settings must not be negative`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestVirtualUpdates(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}}})
	if err := s.r.SetVirtual(VirtualModel{Name: "v", Targets: []Target{{Model: "b/m"}, {Model: "a/m"}}}); err != nil {
		t.Fatal(err)
	}
	_, call, err := s.r.Chat(context.Background(), userRequest("v", "x"), Caller{})
	if err != nil || call.Deployment != "b" {
		t.Fatalf("deployment %q err %v", call.Deployment, err)
	}
	if err := s.r.CheckVirtual(VirtualModel{Name: "w", Strategy: StrategyWeighted, Targets: []Target{{Model: "a/m", Weight: 2}}}); err != nil {
		t.Errorf("CheckVirtual of a good model: %v", err)
	}
	if err := s.r.CheckVirtual(VirtualModel{Name: "w", Targets: []Target{{Model: "c/m"}}}); err == nil {
		t.Error("CheckVirtual of a target pointing nowhere: no error")
	}
	if _, _, err := s.r.Chat(context.Background(), userRequest("w", "x"), Caller{}); llm.AsError(err).Kind != llm.KindNotFound {
		t.Errorf("CheckVirtual added the model: %v", err)
	}
	if err := s.r.SetVirtual(VirtualModel{Name: "v", Strategy: "bogus", Targets: []Target{{Model: "zzz"}}}); err == nil ||
		!strings.Contains(err.Error(), "unknown strategy") || !strings.Contains(err.Error(), `"zzz"`) {
		t.Errorf("bad update: %v", err)
	}
	// Replaced: now a first.
	if err := s.r.SetVirtual(VirtualModel{Name: "v", Targets: []Target{{Model: "a/m"}}}); err != nil {
		t.Fatal(err)
	}
	_, call, _ = s.r.Chat(context.Background(), userRequest("v", "x"), Caller{})
	if call.Deployment != "a" {
		t.Errorf("after replacing: deployment %q", call.Deployment)
	}
	want := []ModelInfo{
		{ID: "v", OwnedBy: "virtual", Virtual: true, Strategy: StrategyFallback, Deployments: []string{"a"}},
		{ID: "m", OwnedBy: "a", Deployments: []string{"a", "b"}},
	}
	if diff := cmp.Diff(want, s.r.Models()); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	if !s.r.DeleteVirtual("v") || s.r.DeleteVirtual("v") {
		t.Error("DeleteVirtual did not report what it found")
	}
	if _, _, err := s.r.Chat(context.Background(), userRequest("v", "x"), Caller{}); llm.AsError(err).Kind != llm.KindNotFound {
		t.Errorf("deleted virtual model: %v", err)
	}
}

// TestConcurrentUse routes calls from many goroutines while the table
// changes; run with -race.
func TestConcurrentUse(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}}, Clock: time.Now, Sleep: sleepCtx})
	for _, f := range s.fakes {
		f.clk = nil
		f.script(step{events: streamEvents("x", nil)}, step{err: llm.FromStatus("a", 500, "", "x", 0)})
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				model := "m"
				if i%2 == 0 {
					model = "v"
				}
				if g%2 == 0 {
					st, _, err := s.r.Stream(context.Background(), userRequest(model, "x"), Caller{})
					if err == nil {
						st.Close()
					}
					continue
				}
				s.r.Chat(context.Background(), userRequest(model, "x"), Caller{})
			}
		}()
	}
	for i := range 50 {
		s.r.SetVirtual(VirtualModel{Name: "v", Targets: []Target{{Model: []string{"a/m", "b/m"}[i%2]}}})
		s.r.Deployments()
		s.r.Models()
	}
	wg.Wait()
	if n := len(s.rec.Calls()); n != 400 {
		t.Errorf("%d calls recorded, want 400", n)
	}
}

func TestCallJSON(t *testing.T) {
	c := Call{ID: "01J", Caller: Caller{Tenant: "acme", KeyID: "k"}, RequestedModel: "smart", Provider: "openai", Deployment: "openai",
		Model: "gpt-4o", Route: []Attempt{{Deployment: "openai", Model: "gpt-4o", Outcome: OutcomeOK, Status: 200, LatencyMs: 12.5}},
		Usage: llm.Usage{Input: 3, Output: 4}, CostUSD: 0.5, Priced: true, Latency: time.Second, AddedTime: time.Millisecond,
		Outcome: OutcomeOK, StartedAt: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"01J","tenant":"acme","keyId":"k","requestedModel":"smart","provider":"openai","deployment":"openai","model":"gpt-4o",` +
		`"route":[{"deployment":"openai","model":"gpt-4o","outcome":"ok","status":200,"latencyMs":12.5}],"usage":{"input":3,"output":4},` +
		`"costUsd":0.5,"priced":true,"latencyNs":1000000000,"addedTimeNs":1000000,"stream":false,"outcome":"ok","startedAt":"2025-01-02T00:00:00Z"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}

func TestPriceOverrides(t *testing.T) {
	zero, ten := 0.0, 10.0
	prices, err := catalog.NewTable(nil,
		catalog.Override{Deployment: "local", Input: &zero, Output: &zero},
		catalog.Override{Deployment: "azure", Model: "gpt-4o", Output: &ten})
	if err != nil {
		t.Fatal(err)
	}
	s := newSetup(t, Config{Prices: prices, Deployments: []Deployment{
		{Name: "local", Models: []string{"llama"}},
		{Name: "azure", Provider: "azure", Models: []string{"gpt-4o"}, ModelMap: map[string]string{"gpt-4o": "my-gpt4o-deployment"}},
	}})
	usage := llm.Usage{Input: 1000, Output: 100}
	for _, tt := range []struct {
		model string
		cost  float64
	}{{"llama", 0}, {"gpt-4o", (1000*2.5 + 100*10) / 1e6}} {
		dep := map[string]string{"llama": "local", "gpt-4o": "azure"}[tt.model]
		s.fakes[dep].script(step{resp: &llm.Response{Usage: usage}})
		_, call, err := s.r.Chat(context.Background(), userRequest(tt.model, "x"), Caller{})
		if err != nil {
			t.Fatal(err)
		}
		if !call.Priced || math.Abs(call.CostUSD-tt.cost) > 1e-12 {
			t.Errorf("%s: cost %v priced %v, want %v", tt.model, call.CostUSD, call.Priced, tt.cost)
		}
	}
	if got := s.fakes["azure"].models; len(got) != 1 || got[0] != "my-gpt4o-deployment" {
		t.Errorf("azure was asked for %v", got)
	}
}

func FuzzPlan(f *testing.F) {
	f.Add("m", "a/m", 0.01, 500, true, false)
	f.Add("v", "", 0.0, 0, false, true)
	f.Add("a/", "/m", -1.0, -5, true, true)
	f.Add("", "b/alias", 1e300, 1<<30, false, false)
	r, err := New(Config{
		Deployments: []Deployment{
			{Name: "a", Client: &fake{}, Models: []string{"m"}},
			{Name: "b", Client: &fake{}, Provider: "openai", ModelMap: map[string]string{"alias": "gpt-4o"}},
		},
		Virtual: []VirtualModel{
			{Name: "v", Strategy: StrategyCheapest, Targets: []Target{{Model: "m"}, {Model: "b/gpt-4o"}}},
			{Name: "w", Strategy: StrategyWeighted, Targets: []Target{{Model: "m", Weight: 2}, {Model: "alias"}}},
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, model, fallback string, threshold float64, target int, cost, latency bool) {
		req := &llm.Request{Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(model + fallback)}}},
			Route: &llm.RouteOptions{FallbackModels: []string{fallback}, CostThreshold: threshold, LatencyTarget: target,
				CostOptimization: cost, LatencyPriority: latency}}
		cs, lerr := r.plan(r.tab.Load(), "", req)
		if lerr != nil {
			if lerr.Message == "" || lerr.Status == 0 {
				t.Fatalf("bare error %+v", lerr)
			}
			return
		}
		if len(cs) == 0 {
			t.Fatal("no candidates and no error")
		}
		for _, c := range cs {
			if c.dep == nil || c.upstream == "" {
				t.Fatalf("bad candidate %+v", c)
			}
		}
	})
}

func TestCallIDs(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	seen := map[string]bool{}
	for range 1000 {
		id := newID(at)
		u, err := ulid.ParseStrict(id)
		if err != nil || seen[id] || u.Time() != ulid.Timestamp(at) {
			t.Fatalf("id %q: err %v, repeated %v, time %v", id, err, seen[id], u.Time())
		}
		seen[id] = true
	}
	if _, err := ulid.ParseStrict(newID(time.Time{})); err != nil {
		t.Errorf("zero time: %v", err)
	}
}
