package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Chat sends req and returns the whole response.
func (c *Client) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	body, err := c.marshalChat(req, false)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, "chat/completions", req.Model, body, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, llm.FromTransport(ctx, c.name, err)
	}
	if len(b) > maxResponseBody {
		return nil, badUpstream(c.name, "response larger than %d bytes", maxResponseBody)
	}
	return c.decodeResponse(b)
}

func (c *Client) marshalChat(req *llm.Request, stream bool) ([]byte, error) {
	wire, err := encodeRequest(req, stream, c.completionTokens)
	if err != nil {
		if e, ok := err.(*llm.Error); ok {
			e.Provider = c.name
		}
		return nil, err
	}
	b, err := json.Marshal(wire)
	if err != nil {
		e := llm.Errorf(llm.KindInvalidRequest, "encoding the request: %v", err)
		e.Provider, e.Err = c.name, err
		return nil, e
	}
	return b, nil
}

// decodeResponse reads a chat.completion body.
func (c *Client) decodeResponse(b []byte) (*llm.Response, error) {
	var r chatResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, badUpstream(c.name, "unreadable response: %v", err)
	}
	if o, ok := errorFrom(r.Error); ok {
		return nil, c.upstreamError(o)
	}
	if r.Object == "error" {
		return nil, c.upstreamError(errorObject{Message: r.Message, Type: r.Type})
	}
	out := &llm.Response{ID: r.ID, Model: r.Model}
	if r.Usage != nil {
		out.Usage = usageFrom(r.Usage)
	}
	ch := pickChoice(r.Choices)
	if ch == nil {
		return nil, badUpstream(c.name, "response has no choices")
	}
	m := &ch.Message
	if t := thinking(m); t != "" {
		out.Parts = append(out.Parts, llm.Part{Kind: llm.PartThinking, Text: t})
	}
	refused := false
	switch {
	case m.Content != "":
		out.Parts = append(out.Parts, llm.TextPart(string(m.Content)))
	case m.Refusal != "":
		out.Parts = append(out.Parts, llm.TextPart(string(m.Refusal)))
		refused = true
	}
	for i, tc := range m.ToolCalls {
		id := tc.ID
		if id == "" {
			id = fmt.Sprintf("call_%d", i)
		}
		args := tc.Function.Arguments
		if args == "" {
			args = "{}"
		}
		out.Parts = append(out.Parts, llm.Part{Kind: llm.PartToolCall,
			ToolCall: &llm.ToolCall{ID: id, Name: tc.Function.Name, Arguments: args}})
	}
	out.StopReason = stopReason(string(ch.FinishReason), len(m.ToolCalls) > 0, refused)
	return out, nil
}

// pickChoice returns the choice of index 0, or nil.
func pickChoice(cs []choice) *choice {
	for i := range cs {
		if cs[i].Index == 0 {
			return &cs[i]
		}
	}
	return nil
}

func thinking(m *respMessage) string {
	if m.ReasoningContent != "" {
		return string(m.ReasoningContent)
	}
	return string(m.Reasoning)
}

// stopReason maps a finish_reason. Servers that answer tool calls with
// "stop" (or nothing) get StopToolCalls; a refusal gets StopRefusal.
func stopReason(finish string, toolCalls, refused bool) llm.StopReason {
	switch finish {
	case "length":
		return llm.StopLength
	case "tool_calls", "function_call":
		return llm.StopToolCalls
	case "content_filter":
		return llm.StopContentFilter
	}
	switch {
	case toolCalls:
		return llm.StopToolCalls
	case refused:
		return llm.StopRefusal
	}
	return llm.StopEnd
}

// finishReason is the OpenAI name of a stop reason.
func finishReason(r llm.StopReason) string {
	switch r {
	case llm.StopLength:
		return "length"
	case llm.StopToolCalls:
		return "tool_calls"
	case llm.StopContentFilter:
		return "content_filter"
	}
	return "stop"
}

// usageFrom converts OpenAI's inclusive counts into disjoint buckets.
func usageFrom(u *usage) llm.Usage {
	cached := u.PromptCacheHitTokens
	if u.PromptTokensDetails != nil && u.PromptTokensDetails.CachedTokens > 0 {
		cached = u.PromptTokensDetails.CachedTokens
	}
	reasoning := 0
	if u.CompletionTokensDetails != nil {
		reasoning = u.CompletionTokensDetails.ReasoningTokens
	}
	cached = clamp(cached, u.PromptTokens)
	reasoning = clamp(reasoning, u.CompletionTokens)
	return llm.Usage{
		Input:     max(u.PromptTokens, 0) - cached,
		CacheRead: cached,
		Output:    max(u.CompletionTokens, 0) - reasoning,
		Reasoning: reasoning,
	}
}

// clamp bounds a detail count to [0, total].
func clamp(n, total int) int {
	return max(0, min(n, max(total, 0)))
}

// wireUsage converts disjoint buckets back into OpenAI's inclusive counts.
func wireUsage(u llm.Usage) *usage {
	return &usage{
		PromptTokens:            u.Prompt(),
		CompletionTokens:        u.Completion(),
		TotalTokens:             u.Total(),
		PromptTokensDetails:     &promptDetails{CachedTokens: u.CacheRead},
		CompletionTokensDetails: &outputDetails{ReasoningTokens: u.Reasoning},
	}
}
