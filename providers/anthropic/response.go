package anthropic

import (
	"bytes"
	"encoding/json"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// stopReasons maps Anthropic's stop_reason to the canonical one.
var stopReasons = map[string]llm.StopReason{
	"end_turn":                      llm.StopEnd,
	"max_tokens":                    llm.StopLength,
	"model_context_window_exceeded": llm.StopLength,
	"tool_use":                      llm.StopToolCalls,
	"stop_sequence":                 llm.StopSequence,
	"refusal":                       llm.StopRefusal,
	"pause_turn":                    llm.StopPause,
}

// stopReason maps a stop_reason; an unknown one counts as a natural end.
func stopReason(s string) llm.StopReason {
	if r, ok := stopReasons[s]; ok {
		return r
	}
	return llm.StopEnd
}

// wireStopReason maps a canonical stop reason to Anthropic's. hasTools says
// whether the message has tool_use blocks: upstreams that end a tool-calling
// turn with a plain stop are reported as tool_use, which clients wait for.
func wireStopReason(r llm.StopReason, hasTools bool) string {
	switch r {
	case llm.StopLength:
		return "max_tokens"
	case llm.StopToolCalls:
		return "tool_use"
	case llm.StopSequence:
		return "stop_sequence"
	case llm.StopContentFilter, llm.StopRefusal:
		return "refusal"
	case llm.StopPause:
		return "pause_turn"
	}
	if hasTools {
		return "tool_use"
	}
	return "end_turn"
}

// applyUsage sets the counts w carries on u.
func applyUsage(u *llm.Usage, w *wireUsage) {
	if w == nil {
		return
	}
	if w.InputTokens != nil {
		u.Input = *w.InputTokens
	}
	if w.OutputTokens != nil {
		u.Output = *w.OutputTokens
	}
	if w.CacheCreationInputTokens != nil {
		u.CacheWrite = *w.CacheCreationInputTokens
	}
	if w.CacheReadInputTokens != nil {
		u.CacheRead = *w.CacheReadInputTokens
	}
}

// decodeResponse turns a Messages response body into the canonical form.
func decodeResponse(body []byte) (*llm.Response, error) {
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, llm.Errorf(llm.KindServer, "anthropic: response is not a Message: %v", err)
	}
	if w.Type != "" && w.Type != "message" {
		return nil, llm.Errorf(llm.KindServer, "anthropic: response type is %q, want \"message\"", w.Type)
	}
	resp := &llm.Response{ID: w.ID, Model: w.Model}
	for i := range w.Content {
		if p, ok := responsePart(&w.Content[i]); ok {
			resp.Parts = append(resp.Parts, p)
		}
	}
	if w.StopReason != nil {
		resp.StopReason = stopReason(*w.StopReason)
	} else {
		resp.StopReason = llm.StopEnd
	}
	if w.StopSequence != nil && resp.StopReason == llm.StopSequence {
		resp.StopSequence = *w.StopSequence
	}
	applyUsage(&resp.Usage, &w.Usage)
	return resp, nil
}

// responsePart converts one response block; blocks with no canonical form
// (redacted thinking, server-tool blocks) are skipped.
func responsePart(b *wireBlock) (llm.Part, bool) {
	switch b.Type {
	case "text":
		return llm.Part{Kind: llm.PartText, Text: b.Text}, true
	case "thinking":
		return llm.Part{Kind: llm.PartThinking, Text: b.Thinking, Signature: b.Signature}, true
	case "tool_use":
		return llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: compactObject(b.Input)}}, true
	}
	return llm.Part{}, false
}

// compactObject returns raw compacted, "{}" when it is empty or null.
func compactObject(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "{}"
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}
