package anthropic

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// EncodeResponse renders resp as an Anthropic Message object. model names
// the model as the caller asked for it; empty uses resp.Model. An empty id
// becomes a generated "msg_…"; tool-call ids are passed on unchanged, and
// empty ones become generated "toolu_…". Tool-call arguments that are not a
// JSON object are sent as the empty object.
func EncodeResponse(resp *llm.Response, model string) []byte {
	if model == "" {
		model = resp.Model
	}
	id := resp.ID
	if id == "" {
		id = newID("msg_")
	}
	b := make([]byte, 0, 256+len(resp.Text()))
	b = append(b, `{"id":`...)
	b = appendString(b, id)
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = appendString(b, model)
	b = append(b, `,"content":[`...)
	n, hasTools := 0, false
	for _, p := range resp.Parts {
		blk, ok := responseBlock(p)
		if !ok {
			continue
		}
		hasTools = hasTools || blk.Type == "tool_use"
		if n > 0 {
			b = append(b, ',')
		}
		b, _ = appendBlock(b, &blk)
		n++
	}
	b = append(b, `],"stop_reason":`...)
	reason := wireStopReason(resp.StopReason, hasTools)
	b = appendString(b, reason)
	b = append(b, `,"stop_sequence":`...)
	if reason == "stop_sequence" {
		b = appendString(b, resp.StopSequence)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"usage":`...)
	b = appendUsage(b, resp.Usage)
	return append(b, '}')
}

// responseBlock renders one response part as a block; ok is false for
// parts that have none.
func responseBlock(p llm.Part) (wireBlock, bool) {
	switch p.Kind {
	case llm.PartText:
		return wireBlock{Type: "text", Text: p.Text}, p.Text != ""
	case llm.PartThinking:
		return wireBlock{Type: "thinking", Thinking: p.Text, Signature: p.Signature}, p.Text != "" || p.Signature != ""
	case llm.PartToolCall:
		if p.ToolCall == nil {
			return wireBlock{}, false
		}
		id := p.ToolCall.ID
		if id == "" {
			id = newID("toolu_")
		}
		return wireBlock{Type: "tool_use", ID: id, Name: p.ToolCall.Name, Input: objectOrEmpty(p.ToolCall.Arguments)}, true
	}
	return wireBlock{}, false
}

// objectOrEmpty returns args compacted when it is a JSON object, else {}.
func objectOrEmpty(args string) json.RawMessage {
	s := bytes.TrimSpace([]byte(args))
	if len(s) == 0 || s[0] != '{' {
		return json.RawMessage("{}")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, s); err != nil {
		return json.RawMessage("{}")
	}
	return buf.Bytes()
}

// appendUsage renders u as Anthropic usage; reasoning tokens count as
// output.
func appendUsage(b []byte, u llm.Usage) []byte {
	b = append(b, `{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.Input), 10)
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheWrite), 10)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheRead), 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, int64(u.Completion()), 10)
	return append(b, '}')
}

// errorType is the Anthropic error type for a kind.
func errorType(k llm.ErrorKind) string {
	switch k {
	case llm.KindInvalidRequest:
		return "invalid_request_error"
	case llm.KindTooLarge:
		return "request_too_large"
	case llm.KindAuthentication:
		return "authentication_error"
	case llm.KindPermission, llm.KindPolicy:
		return "permission_error"
	case llm.KindNotFound:
		return "not_found_error"
	case llm.KindRateLimit:
		return "rate_limit_error"
	case llm.KindOverloaded:
		return "overloaded_error"
	case llm.KindTimeout:
		return "timeout_error"
	}
	return "api_error"
}

// EncodeError renders e as an Anthropic error body:
// {"type":"error","error":{"type":"…_error","message":"…"}}. Types follow
// Anthropic's: invalid_request_error, request_too_large,
// authentication_error, permission_error (also for policy refusals),
// not_found_error, rate_limit_error, overloaded_error, timeout_error and
// api_error for everything else.
func EncodeError(e *llm.Error) []byte {
	return appendError(make([]byte, 0, 96+len(e.Message)), e)
}

func appendError(b []byte, e *llm.Error) []byte {
	b = append(b, `{"type":"error","error":{"type":`...)
	b = appendString(b, errorType(e.Kind))
	b = append(b, `,"message":`...)
	msg := e.Message
	if msg == "" {
		msg = string(e.Kind)
	}
	b = appendString(b, msg)
	return append(b, "}}"...)
}
