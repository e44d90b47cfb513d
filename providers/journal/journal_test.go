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
