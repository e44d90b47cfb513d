package agent

import (
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
)

// EventParts turns a model's answer into the parts AgentModelCalled
// journals: text, thinking (with its signature) and tool calls. Images
// and tool results never appear in an answer and are dropped.
func EventParts(parts []llm.Part) []events.AgentPart {
	out := make([]events.AgentPart, 0, len(parts))
	for _, p := range parts {
		switch p.Kind {
		case llm.PartText:
			out = append(out, events.AgentPart{Kind: events.AgentPartText, Text: p.Text})
		case llm.PartThinking:
			out = append(out, events.AgentPart{Kind: events.AgentPartThinking, Text: p.Text, Signature: p.Signature})
		case llm.PartToolCall:
			if p.ToolCall != nil {
				out = append(out, events.AgentPart{Kind: events.AgentPartToolCall, ToolCallID: p.ToolCall.ID,
					Name: p.ToolCall.Name, Arguments: p.ToolCall.Arguments})
			}
		}
	}
	return out
}

// LLMParts turns journaled parts back into canonical ones. Unknown kinds
// are dropped.
func LLMParts(parts []events.AgentPart) []llm.Part {
	out := make([]llm.Part, 0, len(parts))
	for _, p := range parts {
		switch p.Kind {
		case events.AgentPartText:
			out = append(out, llm.TextPart(p.Text))
		case events.AgentPartThinking:
			out = append(out, llm.Part{Kind: llm.PartThinking, Text: p.Text, Signature: p.Signature})
		case events.AgentPartToolCall:
			out = append(out, llm.Part{Kind: llm.PartToolCall,
				ToolCall: &llm.ToolCall{ID: p.ToolCallID, Name: p.Name, Arguments: p.Arguments}})
		}
	}
	return out
}

// Tokens converts usage to its event form.
func Tokens(u llm.Usage) events.LlmTokens {
	return events.LlmTokens{Input: u.Input, CacheRead: u.CacheRead, CacheWrite: u.CacheWrite, Output: u.Output, Reasoning: u.Reasoning}
}

// Usage converts event tokens to usage.
func Usage(t events.LlmTokens) llm.Usage {
	return llm.Usage{Input: t.Input, CacheRead: t.CacheRead, CacheWrite: t.CacheWrite, Output: t.Output, Reasoning: t.Reasoning}
}
