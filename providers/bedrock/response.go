package bedrock

import (
	"bytes"
	"encoding/json"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// converseResponse is the body of a /converse answer.
type converseResponse struct {
	Output struct {
		Message *struct {
			Role    string            `json:"role"`
			Content []responseContent `json:"content"`
		} `json:"message"`
	} `json:"output"`
	StopReason string     `json:"stopReason"`
	Usage      *wireUsage `json:"usage"`
}

type responseContent struct {
	Text    *string `json:"text"`
	ToolUse *struct {
		ToolUseID string          `json:"toolUseId"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	} `json:"toolUse"`
	ReasoningContent *struct {
		ReasoningText *reasoningText `json:"reasoningText"`
	} `json:"reasoningContent"`
}

// wireUsage is Converse's TokenUsage. Cached input is counted apart from
// inputTokens, as in the canonical buckets.
type wireUsage struct {
	InputTokens           int `json:"inputTokens"`
	OutputTokens          int `json:"outputTokens"`
	TotalTokens           int `json:"totalTokens"`
	CacheReadInputTokens  int `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int `json:"cacheWriteInputTokens"`
}

func (u *wireUsage) canonical() llm.Usage {
	if u == nil {
		return llm.Usage{}
	}
	return llm.Usage{
		Input:      u.InputTokens,
		CacheRead:  u.CacheReadInputTokens,
		CacheWrite: u.CacheWriteInputTokens,
		Output:     u.OutputTokens,
	}
}

// parseResponse translates a /converse body; id and model are what the
// response is to be labelled with.
func parseResponse(body []byte, id, model string) (*llm.Response, error) {
	var wr converseResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, llm.Errorf(llm.KindServer, "bedrock: unreadable converse response: %v", err)
	}
	if wr.Output.Message == nil {
		return nil, llm.Errorf(llm.KindServer, "bedrock: converse response has no output.message")
	}
	resp := &llm.Response{ID: id, Model: model, StopReason: stopReason(wr.StopReason), Usage: wr.Usage.canonical()}
	for i, c := range wr.Output.Message.Content {
		switch {
		case c.Text != nil:
			if *c.Text != "" {
				resp.Parts = append(resp.Parts, llm.Part{Kind: llm.PartText, Text: *c.Text})
			}
		case c.ToolUse != nil:
			if c.ToolUse.ToolUseID == "" || c.ToolUse.Name == "" {
				return nil, llm.Errorf(llm.KindServer, "bedrock: output.message.content[%d].toolUse lacks toolUseId or name", i)
			}
			resp.Parts = append(resp.Parts, llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{
				ID: c.ToolUse.ToolUseID, Name: c.ToolUse.Name, Arguments: compactArgs(c.ToolUse.Input),
			}})
		case c.ReasoningContent != nil && c.ReasoningContent.ReasoningText != nil:
			rt := c.ReasoningContent.ReasoningText
			resp.Parts = append(resp.Parts, llm.Part{Kind: llm.PartThinking, Text: rt.Text, Signature: rt.Signature})
		}
		// Redacted reasoning, citations and other blocks have no canonical form.
	}
	return resp, nil
}

// compactArgs renders a toolUse input object as compact JSON text; a
// missing or null input is "{}".
func compactArgs(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// stopReason maps Converse's stopReason.
func stopReason(s string) llm.StopReason {
	switch s {
	case "end_turn":
		return llm.StopEnd
	case "tool_use":
		return llm.StopToolCalls
	case "max_tokens", "model_context_window_exceeded":
		return llm.StopLength
	case "stop_sequence":
		return llm.StopSequence
	case "guardrail_intervened", "content_filtered":
		return llm.StopContentFilter
	}
	return llm.StopEnd
}
