package router

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/google/go-cmp/cmp"
)

func TestFallback(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		route []string
		calls int // to deployment a
	}{
		{"5xx", llm.FromStatus("a", 500, "server_error", "boom", 0), []string{"a:error:server", "a:error:server", "b:ok"}, 2},
		{"503", llm.FromStatus("a", 503, "", "overloaded", 0), []string{"a:error:overloaded", "a:error:overloaded", "b:ok"}, 2},
		{"429", llm.FromStatus("a", 429, "rate_limit", "slow down", 0), []string{"a:error:rate_limit", "a:error:rate_limit", "b:ok"}, 2},
		{"timeout", &llm.Error{Kind: llm.KindTimeout, Status: 504, Message: "no answer"}, []string{"a:error:timeout", "a:error:timeout", "b:ok"}, 2},
		{"connection", &llm.Error{Kind: llm.KindConnection, Status: 502, Message: "refused"}, []string{"a:error:connection", "a:error:connection", "b:ok"}, 2},
		{"upstream auth is not retried", llm.FromStatus("a", 401, "", "bad key", 0), []string{"a:error:upstream_auth", "b:ok"}, 1},
		{"unknown upstream model is not retried", llm.FromStatus("a", 404, "", "no model", 0), []string{"a:error:upstream_model", "b:ok"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}}})
			s.fakes["a"].script(step{err: tt.err})
			resp, call, err := s.r.Chat(context.Background(), userRequest("m", "hello"), Caller{Tenant: "t1"})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text() != "hi" {
				t.Errorf("text %q", resp.Text())
			}
			if diff := cmp.Diff(tt.route, routeOf(call)); diff != "" {
				t.Errorf("route (-want +got):\n%s", diff)
			}
			if got := s.fakes["a"].Calls(); got != tt.calls {
				t.Errorf("a called %d times, want %d", got, tt.calls)
			}
			if call.Deployment != "b" || call.Outcome != OutcomeOK {
				t.Errorf("deployment %q outcome %q", call.Deployment, call.Outcome)
			}
			if n := len(s.rec.Calls()); n != 1 {
				t.Errorf("%d calls recorded", n)
			}
		})
	}
}

func TestAllFail(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}}, Retry: Retry{MaxAttempts: 1}})
	s.fakes["a"].script(step{err: llm.FromStatus("a", 500, "", "a down", 0)})
	s.fakes["b"].script(step{err: llm.FromStatus("b", 502, "", "b down", 0)})
	_, call, err := s.r.Chat(context.Background(), userRequest("m", "x"), Caller{})
	var e *llm.Error
	if !errors.As(err, &e) || e.Provider != "b" || e.Kind != llm.KindServer {
		t.Fatalf("err = %v, want b's server error", err)
	}
	if call.Outcome != OutcomeError || call.Fault != "provider" || call.ErrorKind != llm.KindServer || call.Deployment != "b" {
		t.Errorf("call %+v", call)
	}
	if diff := cmp.Diff([]string{"a:error:server", "b:error:server"}, routeOf(call)); diff != "" {
		t.Errorf("route (-want +got):\n%s", diff)
	}
	if call.Route[1].Status != 502 {
		t.Errorf("status %d, want the upstream's 502", call.Route[1].Status)
	}
}

func TestCallerErrorsAreNotRetried(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind llm.ErrorKind
	}{
		{"bad request", llm.FromStatus("a", 400, "invalid_request_error", "messages: required", 0), llm.KindInvalidRequest},
		{"too large", llm.FromStatus("a", 413, "", "too big", 0), llm.KindTooLarge},
		{"policy", llm.Errorf(llm.KindPolicy, "budget"), llm.KindPolicy},
		{"ours", errors.New("adapter bug"), llm.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}}, Breaker: Breaker{Failures: 1}})
			s.fakes["a"].script(step{err: tt.err})
			_, call, err := s.r.Chat(context.Background(), userRequest("m", "x"), Caller{})
			if e := llm.AsError(err); e.Kind != tt.kind {
				t.Fatalf("err = %v, want kind %s", err, tt.kind)
			}
			if a, b := s.fakes["a"].Calls(), s.fakes["b"].Calls(); a != 1 || b != 0 {
				t.Errorf("calls a=%d b=%d, want 1 and 0", a, b)
			}
			if len(s.clk.Sleeps()) != 0 {
				t.Errorf("slept %v", s.clk.Sleeps())
			}
			if call.Fault != tt.kind.Fault().String() {
				t.Errorf("fault %q", call.Fault)
			}
			if st := s.r.Deployments()[0].Breaker; st != "closed" {
				t.Errorf("a's circuit is %s after a non-provider fault", st)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		sleeps     []time.Duration
		route      []string
	}{
		{"honoured", 2 * time.Second, []time.Duration{2 * time.Second}, []string{"a:error:rate_limit", "a:ok"}},
		{"longer than MaxDelay goes to the next deployment", 10 * time.Second, nil, []string{"a:error:rate_limit", "b:ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}},
				Retry: Retry{MaxAttempts: 3, BaseDelay: 100 * time.Millisecond, MaxDelay: 5 * time.Second}})
			s.fakes["a"].script(step{}, step{err: llm.FromStatus("a", 429, "", "slow down", tt.retryAfter)})
			_, call, err := s.r.Chat(context.Background(), userRequest("m", "x"), Caller{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.sleeps, s.clk.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.route, routeOf(call)); diff != "" {
				t.Errorf("route (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}},
		Retry: Retry{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond},
		Rand:  func() float64 { return 0.5 }})
	boom := llm.FromStatus("a", 500, "", "boom", 0)
	s.fakes["a"].script(step{}, step{err: boom}, step{err: boom}, step{err: boom}, step{err: boom})
	if _, _, err := s.r.Chat(context.Background(), userRequest("m", "x"), Caller{}); err != nil {
		t.Fatal(err)
	}
	// Equal jitter at 0.5: 3/4 of 100, 200, 300 (capped), 300 ms.
	want := []time.Duration{75 * time.Millisecond, 150 * time.Millisecond, 225 * time.Millisecond, 225 * time.Millisecond}
	if diff := cmp.Diff(want, s.clk.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestCancelledChat(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, call, err := s.r.Chat(ctx, userRequest("m", "x"), Caller{})
	if e := llm.AsError(err); e.Kind != llm.KindCancelled {
		t.Fatalf("err = %v", err)
	}
	if call.Outcome != OutcomeCancelled || s.fakes["b"].Calls() != 0 {
		t.Errorf("outcome %q, b called %d times", call.Outcome, s.fakes["b"].Calls())
	}
}

func TestResolve(t *testing.T) {
	s := newSetup(t, Config{
		Deployments: []Deployment{
			{Name: "a", Models: []string{"m", "only-a"}},
			{Name: "b", Models: []string{"m"}, ModelMap: map[string]string{"alias": "b-upstream-id"}},
		},
		Virtual: []VirtualModel{{Name: "v", Targets: []Target{{Model: "b/m"}, {Model: "only-a"}}}},
	})
	tests := []struct {
		model    string
		route    []string
		upstream string
		kind     llm.ErrorKind
	}{
		{model: "m", route: []string{"a:ok"}, upstream: "m"},
		{model: "b/m", route: []string{"b:ok"}, upstream: "m"},
		{model: "alias", route: []string{"b:ok"}, upstream: "b-upstream-id"},
		{model: "b/alias", route: []string{"b:ok"}, upstream: "b-upstream-id"},
		{model: "v", route: []string{"b:ok"}, upstream: "m"},
		{model: "a/alias", kind: llm.KindNotFound},
		{model: "nope", kind: llm.KindNotFound},
		{model: "nope/m", kind: llm.KindNotFound},
		{model: "", kind: llm.KindInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			_, call, err := s.r.Chat(context.Background(), userRequest(tt.model, "x"), Caller{})
			if tt.kind != "" {
				if e := llm.AsError(err); e.Kind != tt.kind {
					t.Fatalf("err = %v, want %s", err, tt.kind)
				}
				if call.Outcome != OutcomeError || len(call.Route) != 0 {
					t.Errorf("call %+v", call)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.route, routeOf(call)); diff != "" {
				t.Errorf("route (-want +got):\n%s", diff)
			}
			if call.Model != tt.upstream {
				t.Errorf("upstream model %q, want %q", call.Model, tt.upstream)
			}
		})
	}
	if !strings.Contains(mustErr(s.r.Chat(context.Background(), userRequest("nope", "x"), Caller{})), `"nope"`) {
		t.Error("not-found error does not name the model")
	}
}

func mustErr(_ *llm.Response, _ *Call, err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestOpenDeploymentPassesModelsThrough(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "openai", Provider: "openai"}}})
	for _, model := range []string{"gpt-4o", "openai/gpt-4o", "openai/brand-new-model"} {
		_, call, err := s.r.Chat(context.Background(), userRequest(model, "x"), Caller{})
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		if want := strings.TrimPrefix(model, "openai/"); call.Model != want {
			t.Errorf("%s: upstream %q", model, call.Model)
		}
	}
	if _, _, err := s.r.Chat(context.Background(), userRequest("brand-new-model", "x"), Caller{}); llm.AsError(err).Kind != llm.KindNotFound {
		t.Errorf("a bare unknown model: %v", err)
	}
}

// TestRecordedCost checks that known token counts × catalogue prices is
// the recorded cost, for cached and reasoning tokens too.
func TestRecordedCost(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "openai", Provider: "openai"}, {Name: "local", Models: []string{"llama"}}}})
	tests := []struct {
		model  string
		usage  llm.Usage
		want   float64
		priced bool
	}{
		// gpt-4o: 2.5 in, 10 out, 1.25 cache read.
		{"gpt-4o", llm.Usage{Input: 1000, CacheRead: 2000, Output: 500}, (1000*2.5 + 2000*1.25 + 500*10) / 1e6, true},
		// o3: 2 in, 8 out, 0.5 cache read; reasoning at the output price.
		{"o3", llm.Usage{Input: 100, CacheRead: 400, Output: 50, Reasoning: 900}, (100*2 + 400*0.5 + 50*8 + 900*8) / 1e6, true},
		{"llama", llm.Usage{Input: 100, Output: 10}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			d := "openai"
			if tt.model == "llama" {
				d = "local"
			}
			s.fakes[d].script(step{resp: &llm.Response{Model: tt.model, Usage: tt.usage}})
			_, call, err := s.r.Chat(context.Background(), userRequest(tt.model, "x"), Caller{Tenant: "acme", KeyID: "k1", User: "u", Project: "p"})
			if err != nil {
				t.Fatal(err)
			}
			recs := s.rec.Calls()
			got := recs[len(recs)-1]
			if got.ID != call.ID || got.Usage != tt.usage || got.Priced != tt.priced || math.Abs(got.CostUSD-tt.want) > 1e-12 {
				t.Errorf("recorded usage %+v cost %.12f priced %v; want %+v %.12f %v", got.Usage, got.CostUSD, got.Priced, tt.usage, tt.want, tt.priced)
			}
			wantProvider := map[string]string{"openai": "openai", "local": ""}[d]
			if got.Caller != (Caller{Tenant: "acme", KeyID: "k1", User: "u", Project: "p"}) || got.RequestedModel != tt.model || got.Provider != wantProvider {
				t.Errorf("recorded %+v", got)
			}
		})
	}
	if n := len(s.rec.Calls()); n != len(tests) {
		t.Errorf("%d calls recorded for %d calls", n, len(tests))
	}
}

func TestAddedTime(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}}})
	s.fakes["a"].script(step{took: 700 * time.Millisecond})
	_, call, err := s.r.Chat(context.Background(), userRequest("m", "x"), Caller{})
	if err != nil {
		t.Fatal(err)
	}
	if call.Latency != 700*time.Millisecond || call.AddedTime != 0 || call.Route[0].LatencyMs != 700 {
		t.Errorf("latency %v added %v attempt %vms", call.Latency, call.AddedTime, call.Route[0].LatencyMs)
	}
}
