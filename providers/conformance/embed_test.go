package conformance

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

func testEmbeddings(t *testing.T, e *env) {
	em, ok := e.p.(providers.Embedder)
	if ok != (e.f.embedModel != "") {
		t.Fatalf("adapter is an Embedder: %v; the table says %v", ok, e.f.embedModel != "")
	}
	if !ok {
		return
	}
	req := &llm.EmbedRequest{Model: e.f.embedModel, Input: []string{"the first text", "the second text"}, Dimensions: 16}
	resp, err := em.Embed(context.Background(), req)
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(resp.Vectors) != 2 {
		t.Fatalf("%d vectors, want 2", len(resp.Vectors))
	}
	for i, v := range resp.Vectors {
		if len(v) != 16 {
			t.Errorf("vector %d has %d dimensions, want 16", i, len(v))
		}
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		if math.Abs(norm-1) > 1e-3 {
			t.Errorf("vector %d has norm² %v, want a unit vector", i, norm)
		}
	}
	if cmp.Equal(resp.Vectors[0], resp.Vectors[1]) {
		t.Error("different inputs got the same vector")
	}
	if e.f.embedUsage != (resp.Usage.Input > 0) {
		t.Errorf("usage %+v; the table says the format counts tokens: %v", resp.Usage, e.f.embedUsage)
	}
	if rest := resp.Usage; rest.CacheRead+rest.CacheWrite+rest.Output+rest.Reasoning != 0 {
		t.Errorf("usage %+v counts more than input", rest)
	}

	// The second input alone gets the same vector: input order is kept.
	one, err := em.Embed(context.Background(), &llm.EmbedRequest{Model: e.f.embedModel, Input: []string{"the second text"}, Dimensions: 16})
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(one.Vectors) != 1 || !cmp.Equal(one.Vectors[0], resp.Vectors[1]) {
		t.Errorf("the second input alone got %v, in a batch %v", one.Vectors, resp.Vectors[1])
	}

	// Errors are typed as for chat.
	e.sim.Script(e.f.embedModel, sim.Step{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second, ErrorMessage: "embedding quota"})
	_, err = em.Embed(context.Background(), req)
	if err == nil {
		t.Fatal("Embed succeeded, want a rate-limit error")
	}
	le := asError(t, err)
	if le.Kind != llm.KindRateLimit || le.RetryAfter != 2*time.Second {
		t.Errorf("got %q with Retry-After %v, want %q with 2s (%v)", le.Kind, le.RetryAfter, llm.KindRateLimit, le)
	}
}
