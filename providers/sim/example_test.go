package sim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// A test scripts the simulator's next replies for a model, points an
// OpenAI-format client at it and checks what was sent.
func ExampleServer_Script() {
	s := sim.New(sim.Config{APIKey: "test-key"})
	srv := httptest.NewServer(s)
	defer srv.Close()

	s.Script("gpt-4o",
		sim.Step{ToolCalls: []llm.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
		sim.Step{Text: "It is sunny in Paris."},
	)
	for range 2 {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}]}`))
		req.Header.Set("Authorization", "Bearer test-key")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		var out struct {
			Choices []struct {
				Message struct {
					Content   *string `json:"content"`
					ToolCalls []struct {
						Function struct{ Name, Arguments string } `json:"function"`
					} `json:"tool_calls"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		_ = json.Unmarshal(b, &out)
		c := out.Choices[0]
		if len(c.Message.ToolCalls) > 0 {
			fmt.Println(c.FinishReason, c.Message.ToolCalls[0].Function.Name, c.Message.ToolCalls[0].Function.Arguments)
		} else {
			fmt.Println(c.FinishReason, *c.Message.Content)
		}
	}
	fmt.Println(len(s.Requests()), "requests logged")
	// Output:
	// tool_calls get_weather {"city":"Paris"}
	// stop It is sunny in Paris.
	// 2 requests logged
}
