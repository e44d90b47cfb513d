package conformance

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// sleeper is the router's injected Sleep: it records each wait and returns
// at once.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// router routes e's model to e's deployment alone, two attempts at most.
func (e *env) router(t *testing.T, sl *sleeper) *router.Router {
	t.Helper()
	r, err := router.New(router.Config{
		Deployments: []router.Deployment{{Name: e.cfg.Name, Client: e.p, Models: []string{e.f.model}}},
		Retry:       router.Retry{MaxAttempts: 2},
		Sleep:       sl.Sleep,
	})
	if err != nil {
		t.Fatalf("router.New: %v", err)
	}
	return r
}

// checkRetried checks a call that succeeded on its second attempt after
// a 429.
func checkRetried(t *testing.T, call *router.Call, deployment string) {
	t.Helper()
	if call.Outcome != router.OutcomeOK {
		t.Errorf("outcome %q, want %q (%s)", call.Outcome, router.OutcomeOK, call.Error)
	}
	type attempt struct {
		Deployment, Outcome string
		Kind                llm.ErrorKind
		Status              int
	}
	var got []attempt
	for _, a := range call.Route {
		got = append(got, attempt{a.Deployment, a.Outcome, a.ErrorKind, a.Status})
	}
	want := []attempt{
		{deployment, router.OutcomeError, llm.KindRateLimit, http.StatusTooManyRequests},
		{deployment, router.OutcomeOK, "", http.StatusOK},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("route (-want +got):\n%s", d)
	}
}

func testRetry429(t *testing.T, e *env) {
	const retryAfter = 3 * time.Second
	limited := sim.Step{Status: http.StatusTooManyRequests, RetryAfter: retryAfter, ErrorMessage: "slow down"}
	ok := sim.Step{Text: replyText, Usage: &scriptedUsage}

	t.Run("chat", func(t *testing.T) {
		e.sim.Script(e.f.model, limited, ok)
		sl := &sleeper{}
		resp, call, err := e.router(t, sl).Chat(context.Background(), e.userAsk("hello"), router.Caller{Tenant: "t1"})
		if err != nil {
			t.Fatalf("Chat: %v", err)
		}
		if resp.Text() != replyText {
			t.Errorf("text %q, want %q", resp.Text(), replyText)
		}
		if d := cmp.Diff([]time.Duration{retryAfter}, sl.Waits()); d != "" {
			t.Errorf("waits (-want +got):\n%s", d)
		}
		checkRetried(t, call, e.cfg.Name)
		if d := cmp.Diff(e.f.usage, call.Usage); d != "" {
			t.Errorf("billed usage (-want +got):\n%s", d)
		}
	})
	t.Run("stream", func(t *testing.T) {
		e.sim.Script(e.f.model, limited, ok)
		sl := &sleeper{}
		st, call, err := e.router(t, sl).Stream(context.Background(), e.userAsk("hello"), router.Caller{Tenant: "t1"})
		if err != nil {
			t.Fatalf("Stream: %v", err)
		}
		resp, _, err := collect(t, st)
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if resp.Text() != replyText {
			t.Errorf("text %q, want %q", resp.Text(), replyText)
		}
		if d := cmp.Diff([]time.Duration{retryAfter}, sl.Waits()); d != "" {
			t.Errorf("waits (-want +got):\n%s", d)
		}
		checkRetried(t, call, e.cfg.Name)
		if d := cmp.Diff(e.f.usage, call.Usage); d != "" {
			t.Errorf("billed usage (-want +got):\n%s", d)
		}
	})
}

func testRouterCancel(t *testing.T, e *env) {
	e.sim.Script(e.f.model, sim.Step{Text: replyText, Hang: true, ErrorAfterTokens: 3, Usage: &scriptedUsage})
	st, call, err := e.router(t, &sleeper{}).Stream(context.Background(), e.userAsk("hello"), router.Caller{Tenant: "t1"})
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	recvText(t, st)
	if err := st.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if call.Outcome != router.OutcomeCancelled {
		t.Errorf("outcome %q, want %q", call.Outcome, router.OutcomeCancelled)
	}
	if call.Usage.Output <= 0 || call.Usage.Input <= 0 {
		t.Errorf("billed usage %+v, want the prompt and the streamed text counted", call.Usage)
	}
	if !call.UsageEstimated {
		t.Error("usage of a stream cut before its usage event is not marked estimated")
	}
	waitFor(t, "the simulator to see the client go away", func() bool {
		active, gone := e.watch.counts()
		return active == 0 && gone == 1
	})
}
