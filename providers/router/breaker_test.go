package router

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/google/go-cmp/cmp"
)

func TestBreaker(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}},
		Retry: Retry{MaxAttempts: 1}, Breaker: Breaker{Failures: 3, OpenFor: 30 * time.Second}})
	down := step{err: llm.FromStatus("a", 500, "", "down", 0)}
	s.fakes["a"].script(down)
	chat := func() []string {
		t.Helper()
		_, call, err := s.r.Chat(context.Background(), userRequest("m", "x"), Caller{})
		if err != nil {
			t.Fatal(err)
		}
		return routeOf(call)
	}
	state := func() string { return s.r.Deployments()[0].Breaker }

	for i := range 3 {
		if diff := cmp.Diff([]string{"a:error:server", "b:ok"}, chat()); diff != "" {
			t.Fatalf("call %d route (-want +got):\n%s", i, diff)
		}
	}
	if state() != "open" {
		t.Fatalf("a is %s after 3 failures", state())
	}
	if info := s.r.Deployments()[0]; info.OpenUntil == nil || !info.OpenUntil.Equal(s.clk.Now().Add(30*time.Second)) {
		t.Errorf("open until %v", info.OpenUntil)
	}
	// Open: skipped, not called.
	if diff := cmp.Diff([]string{"a:skipped", "b:ok"}, chat()); diff != "" {
		t.Errorf("open route (-want +got):\n%s", diff)
	}
	if n := s.fakes["a"].Calls(); n != 3 {
		t.Errorf("a called %d times while open", n)
	}
	// After OpenFor one probe goes through; it fails and reopens.
	s.clk.Advance(30 * time.Second)
	if diff := cmp.Diff([]string{"a:error:server", "b:ok"}, chat()); diff != "" {
		t.Errorf("failed probe route (-want +got):\n%s", diff)
	}
	if state() != "open" {
		t.Errorf("a is %s after a failed probe", state())
	}
	// The next probe succeeds and closes the circuit.
	s.clk.Advance(30 * time.Second)
	s.fakes["a"].script(step{})
	if diff := cmp.Diff([]string{"a:ok"}, chat()); diff != "" {
		t.Errorf("probe route (-want +got):\n%s", diff)
	}
	if info := s.r.Deployments()[0]; info.Breaker != "closed" || info.Failures != 0 {
		t.Errorf("after the probe: %+v", info)
	}
}

func TestBreakerCountsConsecutiveFailures(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}},
		Retry: Retry{MaxAttempts: 1}, Breaker: Breaker{Failures: 2}})
	down := step{err: llm.FromStatus("a", 500, "", "down", 0)}
	bad := step{err: llm.FromStatus("a", 400, "", "bad request", 0)}
	s.fakes["a"].script(step{}, down, step{}, down, bad, down) // then ok
	for range 5 {
		s.r.Chat(context.Background(), userRequest("m", "x"), Caller{})
	}
	// down, ok, down, (caller fault: no verdict), down → open.
	if info := s.r.Deployments()[0]; info.Breaker != "open" {
		t.Errorf("a is %s", info.Breaker)
	}
	s2 := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}},
		Retry: Retry{MaxAttempts: 1}, Breaker: Breaker{Failures: 2}})
	s2.fakes["a"].script(step{}, down, step{}, down)
	for range 3 {
		s2.r.Chat(context.Background(), userRequest("m", "x"), Caller{})
	}
	if info := s2.r.Deployments()[0]; info.Breaker != "closed" || info.Failures != 1 {
		t.Errorf("a success between failures: %+v", info)
	}
}

func TestNoHealthyDeployment(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}},
		Retry: Retry{MaxAttempts: 1}, Breaker: Breaker{Failures: 1}})
	for _, d := range []string{"a", "b"} {
		s.fakes[d].script(step{err: llm.FromStatus(d, 500, "", "down", 0)})
	}
	s.r.Chat(context.Background(), userRequest("m", "x"), Caller{})
	for _, stream := range []bool{false, true} {
		var err error
		var call *Call
		if stream {
			_, call, err = s.r.Stream(context.Background(), userRequest("m", "x"), Caller{})
		} else {
			_, call, err = s.r.Chat(context.Background(), userRequest("m", "x"), Caller{})
		}
		e := llm.AsError(err)
		if e.Kind != llm.KindOverloaded || !strings.Contains(e.Message, `no healthy deployment for model "m"`) {
			t.Errorf("stream=%v: err = %v", stream, err)
		}
		if diff := cmp.Diff([]string{"a:skipped", "b:skipped"}, routeOf(call)); diff != "" {
			t.Errorf("route (-want +got):\n%s", diff)
		}
	}
}

// TestHalfOpenAdmitsOneProbe checks the breaker directly: while a probe is
// in flight, other calls are refused; a probe ending without a verdict lets
// the next call probe.
func TestHalfOpenAdmitsOneProbe(t *testing.T) {
	var b breaker
	now := time.Unix(0, 0)
	b.failure(now, 1, time.Second)
	if ok, _ := b.allow(func() time.Time { return now }); ok {
		t.Fatal("open circuit allowed a call")
	}
	now = now.Add(time.Second)
	ok, probe := b.allow(func() time.Time { return now })
	if !ok || !probe {
		t.Fatal("no probe after the open period")
	}
	if ok, _ := b.allow(func() time.Time { return now }); ok {
		t.Fatal("a second call during the probe")
	}
	b.release(probe)
	if ok, probe := b.allow(func() time.Time { return now }); !ok || !probe {
		t.Fatal("no new probe after a released one")
	}
	if !b.success() || !b.closed() {
		t.Fatal("probe success did not close the circuit")
	}
}
