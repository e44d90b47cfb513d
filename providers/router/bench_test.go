package router

import (
	"context"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// instant answers at once with a fixed response.
type instant struct{ resp *llm.Response }

func (p instant) Chat(context.Context, *llm.Request) (*llm.Response, error) { return p.resp, nil }

func (p instant) Stream(context.Context, *llm.Request) (llm.Stream, error) {
	return nil, llm.Errorf(llm.KindInvalidRequest, "no streams")
}

type discard struct{}

func (discard) Record(Call) {}

func benchRouter(b *testing.B) *Router {
	p := instant{resp: &llm.Response{ID: "r", Model: "gpt-4o", Parts: []llm.Part{llm.TextPart("hi")}, StopReason: llm.StopEnd,
		Usage: llm.Usage{Input: 100, CacheRead: 50, Output: 20}}}
	r, err := New(Config{
		Deployments: []Deployment{
			{Name: "openai", Provider: "openai", Client: p, Models: []string{"gpt-4o", "gpt-4o-mini"}},
			{Name: "backup", Provider: "openai", Client: p, Models: []string{"gpt-4o"}},
		},
		Virtual:  []VirtualModel{{Name: "smart", Targets: []Target{{Model: "openai/gpt-4o"}, {Model: "backup/gpt-4o"}}}},
		Recorder: discard{},
	})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkChat measures the router's own cost per call through a provider
// that answers at once.
func BenchmarkChat(b *testing.B) {
	for _, bc := range []struct {
		name string
		req  *llm.Request
	}{
		{"model", userRequest("gpt-4o", "hello there")},
		{"virtual", userRequest("smart", "hello there")},
		{"cost-threshold", withRoute(userRequest("smart", "hello there"), llm.RouteOptions{CostThreshold: 1, FallbackModels: []string{"gpt-4o-mini"}})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := benchRouter(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := r.Chat(ctx, bc.req, Caller{Tenant: "t"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChatParallel measures contention between concurrent calls.
func BenchmarkChatParallel(b *testing.B) {
	r := benchRouter(b)
	req := userRequest("smart", "hello there")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, _, err := r.Chat(ctx, req, Caller{Tenant: "t"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
