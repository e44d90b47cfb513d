package router

import (
	"context"
	"math"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/google/go-cmp/cmp"
)

// embedder is a fake that also serves embeddings.
type embedder struct {
	*fake
	embedErrs []error
}

func (e *embedder) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	e.next(req.Model)
	if len(e.embedErrs) > 0 {
		err := e.embedErrs[0]
		e.embedErrs = e.embedErrs[1:]
		return nil, err
	}
	return &llm.EmbedResponse{Model: req.Model, Vectors: make([][]float32, len(req.Input)), Usage: llm.Usage{Input: 1000}}, nil
}

func TestEmbed(t *testing.T) {
	a := &embedder{fake: &fake{name: "a"}, embedErrs: []error{llm.FromStatus("a", 500, "", "down", 0)}}
	b := &embedder{fake: &fake{name: "b"}}
	s := newSetup(t, Config{Retry: Retry{MaxAttempts: 1}, Deployments: []Deployment{
		{Name: "chat-only", Provider: "openai", Models: []string{"text-embedding-3-small"}},
		{Name: "a", Provider: "openai", Client: a, Models: []string{"text-embedding-3-small"}},
		{Name: "b", Provider: "openai", Client: b, ModelMap: map[string]string{"embed": "text-embedding-3-small"}},
	}})
	resp, call, err := s.r.Embed(context.Background(), &llm.EmbedRequest{Model: "text-embedding-3-small", Input: []string{"x", "y"}}, Caller{Tenant: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Vectors) != 2 || call.Deployment != "b" || call.Outcome != OutcomeOK {
		t.Errorf("vectors %d deployment %q outcome %q", len(resp.Vectors), call.Deployment, call.Outcome)
	}
	if diff := cmp.Diff([]string{"a:error:server", "b:ok"}, routeOf(call)); diff != "" {
		t.Errorf("route (-want +got):\n%s", diff)
	}
	if want := 1000 * 0.02 / 1e6; !call.Priced || math.Abs(call.CostUSD-want) > 1e-15 {
		t.Errorf("cost %v priced %v, want %v", call.CostUSD, call.Priced, want)
	}
	// The public name is mapped to b's upstream id.
	if _, call, err = s.r.Embed(context.Background(), &llm.EmbedRequest{Model: "b/embed", Input: []string{"x"}}, Caller{}); err != nil || call.Model != "text-embedding-3-small" {
		t.Errorf("model %q err %v", call.Model, err)
	}
	if _, _, err := s.r.Embed(context.Background(), &llm.EmbedRequest{Model: "chat-only/text-embedding-3-small"}, Caller{}); llm.AsError(err).Kind != llm.KindNotFound {
		t.Errorf("chat-only deployment: %v", err)
	}
	if n := len(s.rec.Calls()); n != 3 {
		t.Errorf("%d calls recorded", n)
	}
}
