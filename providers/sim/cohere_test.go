package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func TestCohereJSON(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("command-a", Step{Text: "Hello!"}, Step{Text: "I will look.", ToolCalls: []llm.ToolCall{{ID: "t1", Name: "search", Arguments: `{"q":"x"}`}},
		Usage: &llm.Usage{Input: 3, CacheRead: 2, Output: 4}})
	_, b := do(t, "POST", url+"/v2/chat", `{"model":"command-a","messages":`+userHello+`}`, "Authorization", bearerK)
	checkPaths(t, decode(t, b), map[string]any{
		"message.role":                     "assistant",
		"message.content.0.type":           "text",
		"message.content.0.text":           "Hello!",
		"finish_reason":                    "COMPLETE",
		"usage.billed_units.output_tokens": 1.0,
	})
	_, b = do(t, "POST", url+"/v2/chat", `{"model":"command-a","messages":`+userHello+`}`, "Authorization", bearerK)
	checkPaths(t, decode(t, b), map[string]any{
		"message.tool_plan":                       "I will look.",
		"message.content":                         nil,
		"message.tool_calls.0.id":                 "t1",
		"message.tool_calls.0.function.name":      "search",
		"message.tool_calls.0.function.arguments": `{"q":"x"}`,
		"finish_reason":                           "TOOL_CALL",
		"usage.billed_units.input_tokens":         3.0,
		"usage.tokens.input_tokens":               5.0,
		"usage.cached_tokens":                     2.0,
	})
}

func TestCohereStream(t *testing.T) {
	tests := []struct {
		name   string
		step   Step
		events []string
		finish string
	}{
		{"text", Step{Text: "one two three"}, []string{"message-start", "content-start", "content-delta", "content-end", "message-end"}, "COMPLETE"},
		{"tools", Step{Text: "Plan it.", ToolCalls: []llm.ToolCall{{Name: "a", Arguments: `{"city":"Berlin"}`}, {Name: "b"}}},
			[]string{"message-start", "tool-plan-delta", "tool-call-start", "tool-call-delta", "tool-call-end",
				"tool-call-start", "tool-call-delta", "tool-call-end", "message-end"}, "TOOL_CALL"},
		{"length", Step{Text: "cut", StopReason: llm.StopLength}, []string{"message-start", "content-start", "content-delta", "content-end", "message-end"}, "MAX_TOKENS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, url := start(t, Config{})
			s.Script("c", tt.step)
			_, b := do(t, "POST", url+"/v2/chat", `{"model":"c","stream":true,"messages":`+userHello+`}`, "Authorization", bearerK)
			evs := sseEvents(t, b)
			if string(evs[len(evs)-1].Data) != "[DONE]" {
				t.Errorf("no [DONE]: %s", b)
			}
			var names []string
			text, plan := "", ""
			args := map[float64]string{}
			var end map[string]any
			for _, ev := range evs[:len(evs)-1] {
				v := decode(t, ev.Data)
				if v["type"] != ev.Event {
					t.Errorf("event %q has type %v", ev.Event, v["type"])
				}
				if len(names) == 0 || names[len(names)-1] != ev.Event || !strings.HasSuffix(ev.Event, "delta") {
					names = append(names, ev.Event)
				}
				switch ev.Event {
				case "content-delta":
					text += path(v, "delta", "message", "content", "text").(string)
				case "tool-plan-delta":
					plan += path(v, "delta", "message", "tool_plan").(string)
				case "tool-call-start":
					if path(v, "delta", "message", "tool_calls", "id") == nil || path(v, "delta", "message", "tool_calls", "function", "name") == nil {
						t.Errorf("tool-call-start %s", ev.Data)
					}
				case "tool-call-delta":
					args[v["index"].(float64)] += path(v, "delta", "message", "tool_calls", "function", "arguments").(string)
				case "message-end":
					end = v
				}
			}
			if diff := cmp.Diff(tt.events, names); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if path(end, "delta", "finish_reason") != tt.finish || path(end, "delta", "usage", "billed_units", "output_tokens") == nil ||
				path(end, "delta", "usage", "tokens", "input_tokens") == nil {
				t.Errorf("message-end %v", end)
			}
			if len(tt.step.ToolCalls) > 0 {
				if plan != tt.step.Text || args[0] != `{"city":"Berlin"}` || !json.Valid([]byte(args[0])) || args[1] != "{}" {
					t.Errorf("plan %q args %v", plan, args)
				}
			} else if text != tt.step.Text {
				t.Errorf("text %q", text)
			}
		})
	}
}

func TestCohereErrors(t *testing.T) {
	s, url := start(t, Config{APIKey: "k"})
	s.Script("c", Step{Status: 429}, Step{Text: "a b c", ErrorAfterTokens: 1})
	tests := []struct {
		name   string
		auth   string
		status int
	}{{"no key", "", 401}, {"wrong key", "Bearer x", 401}, {"rate limited", bearerK, 429}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, b := do(t, "POST", url+"/v2/chat", `{"model":"c","messages":`+userHello+`}`, "Authorization", tt.auth)
			if res.StatusCode != tt.status || decode(t, b)["message"] == nil {
				t.Errorf("%d %s", res.StatusCode, b)
			}
		})
	}
	_, b := do(t, "POST", url+"/v2/chat", `{"model":"c","stream":true,"messages":`+userHello+`}`, "Authorization", bearerK)
	evs := sseEvents(t, b)
	last := decode(t, evs[len(evs)-1].Data)
	if path(last, "delta", "finish_reason") != "ERROR" || path(last, "delta", "error") == nil {
		t.Errorf("mid-stream error: %s", b)
	}
}

func TestCohereEmbed(t *testing.T) {
	_, url := start(t, Config{})
	_, b := do(t, "POST", url+"/v2/embed", `{"model":"embed-v4.0","texts":["a","b"],"input_type":"search_document","embedding_types":["float"]}`, "Authorization", bearerK)
	v := decode(t, b)
	if f, _ := path(v, "embeddings", "float").([]any); len(f) != 2 || v["response_type"] != "embeddings_by_type" || path(v, "meta", "billed_units", "input_tokens") == nil {
		t.Errorf("embed %s", b)
	}
}
