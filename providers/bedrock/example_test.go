package bedrock_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/bedrock"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// New reports every missing setting at once.
func ExampleNew() {
	_, err := bedrock.New(providers.Config{Name: "aws"})
	fmt.Println(err)
	// Output:
	// bedrock: region is required to sign requests (or set an API key)
	// access key id is required to sign requests (or set an API key)
	// secret access key is required to sign requests (or set an API key)
}

// A streamed Converse call, signed with SigV4, against the simulator.
func ExampleClient_Stream() {
	s := sim.New(sim.Config{AWSAccessKeyID: "AKID", AWSSecretAccessKey: "secret"})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	s.Script("anthropic.claude-3-haiku-20240307-v1:0", sim.Step{Text: "Hello from Bedrock.", Usage: &llm.Usage{Input: 12, CacheRead: 100, Output: 4}})

	c, err := bedrock.New(providers.Config{BaseURL: srv.URL, Region: "us-east-1", AccessKeyID: "AKID", SecretAccessKey: "secret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := c.Stream(context.Background(), &llm.Request{
		Model:    "anthropic.claude-3-haiku-20240307-v1:0",
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Hi")}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := llm.Collect(st)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Text(), resp.StopReason, resp.Usage.Input, resp.Usage.CacheRead, resp.Usage.Output)
	// Output: Hello from Bedrock. end 12 100 4
}
