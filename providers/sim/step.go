package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Step is one scripted reply. The zero Step answers with an empty text.
type Step struct {
	// Text and Thinking are the reply's text and reasoning. Formats without
	// reasoning output (OpenAI, Azure) leave Thinking out.
	Text     string
	Thinking string
	// ToolCalls are called in order, all in the same reply (parallel calls).
	// An empty ID is generated in the format's style; empty Arguments mean
	// "{}". Formats that carry arguments as an object (Gemini, Ollama,
	// Anthropic and Bedrock in whole responses) send "{}" for arguments that
	// are not a JSON object.
	ToolCalls []llm.ToolCall
	// Usage is reported converted to the format's convention; nil computes
	// it (see the package doc).
	Usage *llm.Usage
	// StopReason defaults to tool_calls when there are tool calls, else end.
	StopReason llm.StopReason
	// Status, when set (400..599), answers with this HTTP status and
	// ErrorMessage in the format's error shape (unless ErrorAfterTokens is
	// set, see there).
	Status       int
	ErrorMessage string
	// RetryAfter is sent as Retry-After with an error status.
	RetryAfter time.Duration
	// ErrorAfterTokens > 0 makes a streamed reply fail after that many
	// content tokens, in the format's mid-stream error form; the error's type
	// follows Status (default 500). A request that is not streamed fails at
	// once with Status (default 500).
	ErrorAfterTokens int
	// Delay is waited before the response headers, after Config.Latency.
	Delay time.Duration
	// Hang never answers: the request waits until the client goes away.
	// With ErrorAfterTokens, a streamed reply sends that many tokens and
	// then stalls.
	Hang bool
}

// stepJSON is the JSON form of a Step (the /_sim/script body).
type stepJSON struct {
	Text             string         `json:"text,omitempty"`
	Thinking         string         `json:"thinking,omitempty"`
	ToolCalls        []toolCallJSON `json:"tool_calls,omitempty"`
	Usage            *llm.Usage     `json:"usage,omitempty"`
	StopReason       llm.StopReason `json:"stop_reason,omitempty"`
	Status           int            `json:"status,omitempty"`
	ErrorMessage     string         `json:"error_message,omitempty"`
	RetryAfter       duration       `json:"retry_after,omitempty"`
	ErrorAfterTokens int            `json:"error_after_tokens,omitempty"`
	Delay            duration       `json:"delay,omitempty"`
	Hang             bool           `json:"hang,omitempty"`
}

type toolCallJSON struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
	// Arguments is a JSON object, or a string holding the arguments' text
	// (which may be malformed on purpose).
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// duration is a time.Duration in JSON: a Go duration string ("1.5s") or a
// number of milliseconds.
type duration time.Duration

// maxDuration bounds scripted waits.
const maxDuration = time.Hour

func (d duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *duration) UnmarshalJSON(b []byte) error {
	var v time.Duration
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		p, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v = p
	} else {
		ms, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("want a duration string or milliseconds, got %s", b)
		}
		if ms < 0 || ms > float64(maxDuration/time.Millisecond) {
			return fmt.Errorf("%v ms is out of range", ms)
		}
		v = time.Duration(ms * float64(time.Millisecond))
	}
	if v < 0 || v > maxDuration {
		return fmt.Errorf("%v is out of range 0..%v", v, maxDuration)
	}
	*d = duration(v)
	return nil
}

// MarshalJSON encodes the step in its /_sim/script form. Durations are Go
// duration strings; tool-call arguments are strings holding their text.
func (st Step) MarshalJSON() ([]byte, error) {
	j := stepJSON{Text: st.Text, Thinking: st.Thinking, Usage: st.Usage, StopReason: st.StopReason,
		Status: st.Status, ErrorMessage: st.ErrorMessage, RetryAfter: duration(st.RetryAfter),
		ErrorAfterTokens: st.ErrorAfterTokens, Delay: duration(st.Delay), Hang: st.Hang}
	for _, tc := range st.ToolCalls {
		args, err := json.Marshal(tc.Arguments) // a string: the exact text survives
		if err != nil {
			return nil, err
		}
		j.ToolCalls = append(j.ToolCalls, toolCallJSON{ID: tc.ID, Name: tc.Name, Arguments: args})
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes and checks the /_sim/script form of a step.
// Unknown fields are errors.
func (st *Step) UnmarshalJSON(b []byte) error {
	var j stepJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	out := Step{Text: j.Text, Thinking: j.Thinking, Usage: j.Usage, StopReason: j.StopReason,
		Status: j.Status, ErrorMessage: j.ErrorMessage, RetryAfter: time.Duration(j.RetryAfter),
		ErrorAfterTokens: j.ErrorAfterTokens, Delay: time.Duration(j.Delay), Hang: j.Hang}
	for i, tc := range j.ToolCalls {
		if tc.Name == "" {
			return fmt.Errorf("tool_calls[%d].name is required", i)
		}
		args := "{}"
		switch a := bytes.TrimSpace(tc.Arguments); {
		case len(a) == 0 || string(a) == "null":
		case a[0] == '"':
			if err := json.Unmarshal(a, &args); err != nil {
				return fmt.Errorf("tool_calls[%d].arguments: %w", i, err)
			}
		case a[0] == '{':
			var c bytes.Buffer
			if err := json.Compact(&c, a); err != nil {
				return fmt.Errorf("tool_calls[%d].arguments: %w", i, err)
			}
			args = c.String()
		default:
			return fmt.Errorf("tool_calls[%d].arguments must be an object or a string", i)
		}
		out.ToolCalls = append(out.ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: args})
	}
	if err := out.check(); err != nil {
		return err
	}
	*st = out
	return nil
}

// check reports a step that cannot be served.
func (st *Step) check() error {
	switch {
	case st.Status != 0 && (st.Status < 400 || st.Status > 599):
		return fmt.Errorf("status %d is not an error status (400..599)", st.Status)
	case st.ErrorAfterTokens < 0:
		return fmt.Errorf("error_after_tokens %d is negative", st.ErrorAfterTokens)
	case st.Usage != nil && (st.Usage.Input < 0 || st.Usage.Output < 0 || st.Usage.CacheRead < 0 ||
		st.Usage.CacheWrite < 0 || st.Usage.Reasoning < 0):
		return fmt.Errorf("usage has a negative count")
	}
	switch st.StopReason {
	case "", llm.StopEnd, llm.StopLength, llm.StopToolCalls, llm.StopSequence,
		llm.StopContentFilter, llm.StopRefusal, llm.StopPause:
		return nil
	}
	return fmt.Errorf("stop_reason %q is not one of end, length, tool_calls, stop_sequence, content_filter, refusal, pause", st.StopReason)
}

// ScriptRequest is the body of POST /_sim/script.
type ScriptRequest struct {
	Model string `json:"model"`
	Steps []Step `json:"steps"`
}

// maxSteps bounds one script request.
const maxSteps = 10000

// DecodeScript decodes and checks a POST /_sim/script body. Unknown fields
// are errors; every problem names its field.
func DecodeScript(data []byte) (ScriptRequest, error) {
	var raw struct {
		Model string            `json:"model"`
		Steps []json.RawMessage `json:"steps"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return ScriptRequest{}, fmt.Errorf("sim: script: %w", err)
	}
	if dec.More() {
		return ScriptRequest{}, fmt.Errorf("sim: script: trailing data after the object")
	}
	switch {
	case raw.Model == "":
		return ScriptRequest{}, fmt.Errorf("sim: script: model is required (\"*\" for any model)")
	case len(raw.Steps) == 0:
		return ScriptRequest{}, fmt.Errorf("sim: script: steps is empty")
	case len(raw.Steps) > maxSteps:
		return ScriptRequest{}, fmt.Errorf("sim: script: %d steps, at most %d", len(raw.Steps), maxSteps)
	}
	sr := ScriptRequest{Model: raw.Model, Steps: make([]Step, len(raw.Steps))}
	for i, b := range raw.Steps {
		if err := sr.Steps[i].UnmarshalJSON(b); err != nil {
			return ScriptRequest{}, fmt.Errorf("sim: script: steps[%d]: %w", i, err)
		}
	}
	return sr, nil
}

// isJSONObject reports whether s is one JSON object.
func isJSONObject(s string) bool {
	t := bytes.TrimSpace([]byte(s))
	return len(t) > 1 && t[0] == '{' && json.Valid(t)
}
