package cohere_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/cohere"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// A streamed tool call against the simulator: the tool plan arrives as
// thinking, the call's arguments in fragments.
func ExampleClient_Stream() {
	s := sim.New(sim.Config{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	s.Script("command-a-03-2025", sim.Step{Text: "I will look it up.", ToolCalls: []llm.ToolCall{
		{ID: "get_weather_1", Name: "get_weather", Arguments: `{"location":"Toronto"}`},
	}})

	c, err := cohere.New(providers.Config{BaseURL: srv.URL, APIKey: "key"})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := c.Stream(context.Background(), &llm.Request{
		Model:    "command-a-03-2025",
		Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Weather in Toronto?")}}},
		Tools:    []llm.Tool{{Name: "get_weather", Parameters: []byte(`{"type":"object","properties":{"location":{"type":"string"}}}`)}},
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
	for _, p := range resp.Parts {
		switch p.Kind {
		case llm.PartThinking:
			fmt.Println("plan:", p.Text)
		case llm.PartToolCall:
			fmt.Println("call:", p.ToolCall.Name, p.ToolCall.Arguments)
		}
	}
	fmt.Println(resp.StopReason)
	// Output:
	// plan: I will look it up.
	// call: get_weather {"location":"Toronto"}
	// tool_calls
}
