package journal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/providers/journal"
)

func TestJournalAppendsEveryCallToItsTenantStream(t *testing.T) {
	store := natsjstest.Open(t, "")
	j := journal.New(store, journal.Options{Buffer: 64, Workers: 3, MaxBatch: 16})
	runDone := make(chan error, 1)
	go func() { runDone <- j.Run(context.Background()) }()

	tenants := []string{"acme", "globex", "Initech Corp"}
	const perTenant = 300
	var wg sync.WaitGroup
	for _, tenant := range tenants {
		wg.Go(func() {
			for i := range perTenant {
				j.Add(events.LlmCallCompleted{
					CallID: fmt.Sprintf("%s-%d", events.Scope(tenant), i), Tenant: tenant, RequestedModel: "gpt-4o",
					Tokens: events.LlmTokens{Input: i, Output: 1}, CostUSD: float64(i), Priced: true, Outcome: "ok",
					StartedAt: time.Unix(1_800_000_000, 0).UTC(),
				})
			}
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := j.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	if st := j.Stats(); st.Appended != uint64(len(tenants)*perTenant) || st.Lost != 0 || st.Pending != 0 {
		t.Fatalf("stats = %+v", st)
	}
	for _, tenant := range tenants {
		envs, err := store.ReadStream(ctx, events.LLMCallStream(tenant), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(envs) != perTenant {
			t.Fatalf("%s: %d events, want %d", tenant, len(envs), perTenant)
		}
		seen := map[int]bool{}
		for _, e := range envs {
			var c events.LlmCallCompleted
			if err := e.Decode(&c); err != nil {
				t.Fatal(err)
			}
			if e.Type != events.TypeLlmCallCompleted || e.Tenant != tenant || c.Tenant != tenant {
				t.Fatalf("event %+v of %s", e, tenant)
			}
			seen[c.Tokens.Input] = true
		}
		if len(seen) != perTenant {
			t.Fatalf("%s: %d distinct calls, want %d", tenant, len(seen), perTenant)
		}
	}
	// After Close a call is counted lost, never silently dropped.
	j.Add(events.LlmCallCompleted{CallID: "late", Tenant: "acme"})
	if st := j.Stats(); st.Lost != 1 {
		t.Fatalf("lost = %d, want 1", st.Lost)
	}
}

// countingStore counts the appends that reach the store.
type countingStore struct {
	events.Store
	mu      sync.Mutex
	appends int
}

func (s *countingStore) Append(ctx context.Context, stream string, expected events.Revision, evs ...events.Event) (events.Appended, error) {
	s.mu.Lock()
	s.appends++
	s.mu.Unlock()
	return s.Store.Append(ctx, stream, expected, evs...)
}

func TestJournalLingerGroupsCallsIntoFewAppends(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tenants []string
		// A linger far longer than the test's Adds: every call is queued
		// before the first append, so each stream gets exactly one.
		wantAppends int
	}{
		{name: "one tenant", tenants: []string{"acme"}, wantAppends: 1},
		{name: "three tenants, appended concurrently", tenants: []string{"acme", "globex", "initech"}, wantAppends: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &countingStore{Store: natsjstest.Open(t, "")}
			j := journal.New(store, journal.Options{Linger: time.Hour, MaxBatch: 256})
			runDone := make(chan error, 1)
			go func() { runDone <- j.Run(context.Background()) }()
			for i := range 30 {
				tenant := tc.tenants[i%len(tc.tenants)]
				j.Add(events.LlmCallCompleted{CallID: fmt.Sprintf("%s-%d", tenant, i), Tenant: tenant, Outcome: "ok"})
			}
			// Close ends the linger: the queue is closed, the batch appended.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := j.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-runDone; err != nil {
				t.Fatal(err)
			}
			if st := j.Stats(); st.Appended != 30 || st.Lost != 0 {
				t.Fatalf("stats = %+v", st)
			}
			if store.appends != tc.wantAppends {
				t.Fatalf("%d appends, want %d", store.appends, tc.wantAppends)
			}
		})
	}
}
