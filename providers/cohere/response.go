package cohere

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// chatResponse is the body of a non-streamed /v2/chat answer.
type chatResponse struct {
	ID           string `json:"id"`
	FinishReason string `json:"finish_reason"`
	Message      *struct {
		Content []struct {
			Type     string `json:"type"`
			Text     string `json:"text"`
			Thinking string `json:"thinking"`
		} `json:"content"`
		ToolPlan  string         `json:"tool_plan"`
		ToolCalls []wireToolCall `json:"tool_calls"`
	} `json:"message"`
	Usage *wireUsage `json:"usage"`
}

// wireToolCall is a tool call as Cohere sends it; Arguments is JSON text in
// a string (an object is accepted too).
type wireToolCall struct {
	ID       string `json:"id"`
	Function *struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// wireUsage is Cohere's usage: tokens counts everything the model read and
// wrote, billed_units what was billed.
type wireUsage struct {
	BilledUnits *tokenCounts `json:"billed_units"`
	Tokens      *tokenCounts `json:"tokens"`
	// CachedTokens are input tokens served from Cohere's cache, counted
	// inside the input tokens.
	CachedTokens int `json:"cached_tokens"`
}

type tokenCounts struct {
	InputTokens  float64 `json:"input_tokens"`
	OutputTokens float64 `json:"output_tokens"`
}

func (u *wireUsage) canonical() llm.Usage {
	if u == nil {
		return llm.Usage{}
	}
	c := u.Tokens
	if c == nil {
		c = u.BilledUnits
	}
	if c == nil {
		return llm.Usage{}
	}
	out := llm.Usage{Input: int(c.InputTokens), Output: int(c.OutputTokens)}
	if u.CachedTokens > 0 && u.CachedTokens <= out.Input {
		out.Input -= u.CachedTokens
		out.CacheRead = u.CachedTokens
	}
	return out
}

// parseResponse translates a /v2/chat body for the given model.
func parseResponse(body []byte, model string) (*llm.Response, error) {
	var wr chatResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, llm.Errorf(llm.KindServer, "cohere: unreadable chat response: %v", err)
	}
	if wr.Message == nil {
		return nil, llm.Errorf(llm.KindServer, "cohere: chat response has no message")
	}
	stop, ferr := finishReason(wr.FinishReason, "")
	if ferr != nil {
		return nil, ferr
	}
	resp := &llm.Response{ID: wr.ID, Model: model, StopReason: stop, Usage: wr.Usage.canonical()}
	if wr.Message.ToolPlan != "" {
		resp.Parts = append(resp.Parts, llm.Part{Kind: llm.PartThinking, Text: wr.Message.ToolPlan})
	}
	for _, c := range wr.Message.Content {
		switch c.Type {
		case "text":
			if c.Text != "" {
				resp.Parts = append(resp.Parts, llm.Part{Kind: llm.PartText, Text: c.Text})
			}
		case "thinking":
			if c.Thinking != "" {
				resp.Parts = append(resp.Parts, llm.Part{Kind: llm.PartThinking, Text: c.Thinking})
			}
		}
	}
	for i, tc := range wr.Message.ToolCalls {
		if tc.ID == "" || tc.Function == nil || tc.Function.Name == "" {
			return nil, llm.Errorf(llm.KindServer, "cohere: message.tool_calls[%d] lacks an id or function name", i)
		}
		resp.Parts = append(resp.Parts, llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{
			ID: tc.ID, Name: tc.Function.Name, Arguments: argumentsText(tc.Function.Arguments),
		}})
	}
	return resp, nil
}

// argumentsText reads arguments sent as a JSON string (Cohere's form) or as
// an object; missing or empty arguments are "{}".
func argumentsText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s == "" {
				return "{}"
			}
			return s
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// finishReason maps Cohere's finish_reason; ERROR and TIMEOUT are errors,
// carrying msg (Cohere's error text) when there is one.
func finishReason(r, msg string) (llm.StopReason, *llm.Error) {
	switch r {
	case "COMPLETE", "":
		return llm.StopEnd, nil
	case "MAX_TOKENS", "ERROR_LIMIT":
		return llm.StopLength, nil
	case "TOOL_CALL":
		return llm.StopToolCalls, nil
	case "STOP_SEQUENCE":
		return llm.StopSequence, nil
	case "ERROR_TOXIC":
		return llm.StopContentFilter, nil
	case "TIMEOUT":
		if msg == "" {
			msg = "the model timed out"
		}
		e := llm.Errorf(llm.KindTimeout, "cohere: %s", msg)
		e.UpstreamType, e.UpstreamStatus = r, http.StatusOK
		return "", e
	case "ERROR":
		if msg == "" {
			msg = "the model failed to generate"
		}
		e := llm.Errorf(llm.KindServer, "cohere: %s", msg)
		e.UpstreamType, e.UpstreamStatus = r, http.StatusOK
		return "", e
	}
	return llm.StopEnd, nil
}
