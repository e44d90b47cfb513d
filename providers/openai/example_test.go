package openai_test

import (
	"fmt"
	"os"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/openai"
)

func ExampleDecodeRequest() {
	req, opts, err := openai.DecodeRequest([]byte(`{
		"model": "gpt-4o",
		"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
		"stream": true, "stream_options": {"include_usage": true},
		"circuit_breaker": {"fallback_models": ["claude-sonnet-4"]}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Model, req.System[0].Text, req.Messages[0].Text(), req.Stream, opts.IncludeUsage, req.Route.FallbackModels)

	_, _, err = openai.DecodeRequest([]byte(`{"model": "gpt-4o", "messages": [{"role": "user", "content": 5}]}`))
	fmt.Println(err)
	// Output:
	// gpt-4o Be brief. Hi true true [claude-sonnet-4]
	// invalid_request: messages[0].content: expected string or array of content parts
}

func ExampleStreamWriter() {
	w := openai.NewStreamWriter(os.Stdout, openai.StreamOptions{Model: "gpt-4o", Created: 1730000000, ID: "chatcmpl-1"})
	for _, ev := range []llm.Event{
		{Type: llm.EventStart},
		{Type: llm.EventText, Text: "Hello"},
		{Type: llm.EventStop, StopReason: llm.StopEnd},
		{Type: llm.EventUsage, Usage: &llm.Usage{Input: 5, Output: 1}}, // dropped: IncludeUsage is off
	} {
		if err := w.Write(ev); err != nil {
			fmt.Println(err)
		}
	}
	w.Done()
	// Output:
	// data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}
	//
	// data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}
	//
	// data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
	//
	// data: [DONE]
}
