package router_test

import (
	"context"
	"fmt"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// echo is a provider that answers every call with the model's name.
type echo struct{}

func (echo) Chat(_ context.Context, req *llm.Request) (*llm.Response, error) {
	return &llm.Response{Model: req.Model, Parts: []llm.Part{llm.TextPart("hello from " + req.Model)},
		Usage: llm.Usage{Input: 1000, Output: 100}}, nil
}

func (echo) Stream(context.Context, *llm.Request) (llm.Stream, error) {
	return nil, llm.Errorf(llm.KindInvalidRequest, "no streams")
}

func ExampleRouter_Chat() {
	r, err := router.New(router.Config{
		Deployments: []router.Deployment{{Name: "openai", Provider: "openai", Client: echo{}, Models: []string{"gpt-4o", "gpt-4o-mini"}}},
		Virtual: []router.VirtualModel{{Name: "smart", Strategy: router.StrategyFallback,
			Targets: []router.Target{{Model: "gpt-4o"}, {Model: "gpt-4o-mini"}}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := &llm.Request{Model: "smart", MaxTokens: 1000,
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hi")}}},
		// gpt-4o would cost about $0.01 for 1,000 output tokens.
		Route: &llm.RouteOptions{CostThreshold: 0.005}}
	resp, call, err := r.Chat(context.Background(), req, router.Caller{Tenant: "acme"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Text())
	fmt.Printf("%s/%s $%.6f priced=%v\n", call.Deployment, call.Model, call.CostUSD, call.Priced)
	// Output:
	// hello from gpt-4o-mini
	// openai/gpt-4o-mini $0.000210 priced=true
}
