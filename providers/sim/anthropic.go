package sim

import (
	"encoding/json"
	"net/http"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// anthropic is the Anthropic Messages format.
type anthropic struct{}

func (anthropic) name() string { return "anthropic" }
func (anthropic) caps() caps   { return caps{thinking: true, idPrefix: "toolu_sim"} }

func (anthropic) authorize(r *http.Request, _ []byte, cfg *Config) *apiError {
	key := r.Header.Get("X-Api-Key")
	if key == "" {
		key, _ = bearer(r)
	}
	switch {
	case key == "":
		return errorf(http.StatusUnauthorized, "x-api-key header is required")
	case cfg.APIKey != "" && key != cfg.APIKey:
		return errorf(http.StatusUnauthorized, "invalid x-api-key")
	case r.Header.Get("Anthropic-Version") == "":
		return errorf(http.StatusBadRequest, "anthropic-version: header is required")
	}
	return nil
}

func (anthropic) decode(_ *http.Request, body []byte, c *call) *apiError {
	var req struct {
		Model     string          `json:"model"`
		MaxTokens *int            `json:"max_tokens"`
		Stream    bool            `json:"stream"`
		System    json.RawMessage `json:"system"`
		Messages  []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"input_schema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, "invalid request body: "+err.Error())
	}
	c.model, c.stream, c.inputBytes = req.Model, req.Stream, len(req.System)
	if len(req.Tools) > 0 {
		c.tool = &toolSpec{name: req.Tools[0].Name, schema: req.Tools[0].InputSchema}
	}
	for _, m := range req.Messages {
		c.inputBytes += len(m.Content)
	}
	switch {
	case c.model == "":
		return errorf(http.StatusBadRequest, "model: Field required")
	case req.MaxTokens == nil:
		return errorf(http.StatusBadRequest, "max_tokens: Field required")
	case *req.MaxTokens < 1:
		return errorf(http.StatusBadRequest, "max_tokens: Input should be greater than or equal to 1")
	case len(req.Messages) == 0:
		return errorf(http.StatusBadRequest, "messages: Field required")
	}
	c.maxTokens = *req.MaxTokens
	if last := req.Messages[len(req.Messages)-1]; last.Role == "user" {
		c.lastUser = contentText(last.Content)
	}
	return nil
}

func antErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	}
	if status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

func antErrorJSON(e *apiError) []byte {
	b := append(make([]byte, 0, 96+len(e.message)), `{"type":"error","error":{"type":`...)
	b = appendString(b, antErrorType(e.status))
	b = append(b, `,"message":`...)
	b = appendString(b, e.message)
	return append(b, "}}"...)
}

func (anthropic) writeError(w http.ResponseWriter, e *apiError) {
	setRetryAfter(w.Header(), e.retryAfter, false)
	w.Header().Set("Request-Id", "req_sim")
	writeBody(w, e.status, "application/json", antErrorJSON(e))
}

func antStop(s llm.StopReason) string {
	switch s {
	case llm.StopLength:
		return "max_tokens"
	case llm.StopToolCalls:
		return "tool_use"
	case llm.StopSequence:
		return "stop_sequence"
	case llm.StopRefusal, llm.StopContentFilter:
		return "refusal"
	case llm.StopPause:
		return "pause_turn"
	}
	return "end_turn"
}

type antUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

func toAntUsage(u llm.Usage) antUsage {
	return antUsage{InputTokens: u.Input, CacheCreationInputTokens: u.CacheWrite,
		CacheReadInputTokens: u.CacheRead, OutputTokens: u.Completion()}
}

func (anthropic) writeReply(w http.ResponseWriter, _ *call, rp *reply) {
	content := make([]any, 0, len(rp.blocks))
	for _, b := range rp.blocks {
		switch b.kind {
		case blockThinking:
			content = append(content, map[string]string{"type": "thinking", "thinking": b.text, "signature": rp.signature})
		case blockText:
			content = append(content, map[string]string{"type": "text", "text": b.text})
		case blockTool:
			content = append(content, map[string]any{"type": "tool_use", "id": b.call.ID, "name": b.call.Name,
				"input": json.RawMessage(appendObject(nil, b.call.Arguments))})
		}
	}
	w.Header().Set("Request-Id", "req_sim"+rp.id)
	writeJSON(w, http.StatusOK, map[string]any{"id": "msg_sim" + rp.id, "type": "message", "role": "assistant",
		"model": rp.model, "content": content, "stop_reason": antStop(rp.stop), "stop_sequence": nil,
		"usage": toAntUsage(rp.usage)})
}

// antStream encodes a Messages stream: named events message_start, ping,
// content_block_start/delta/stop per block, message_delta, message_stop.
type antStream struct{ rp *reply }

func (anthropic) encoder(_ *call, rp *reply) encoder { return &antStream{rp: rp} }

func (e *antStream) contentType() string { return "text/event-stream; charset=utf-8" }

// event appends "event: <name>" and the data line opened by the caller's
// JSON, closed by end.
func antEvent(b []byte, name string) []byte {
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, "\ndata: "...)
	return b
}

func (e *antStream) begin(b []byte) []byte {
	u := e.rp.usage
	b = antEvent(b, "message_start")
	b = append(b, `{"type":"message_start","message":{"id":"msg_sim`...)
	b = append(b, e.rp.id...)
	b = append(b, `","type":"message","role":"assistant","model":`...)
	b = appendString(b, e.rp.model)
	b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":`...)
	b = appendInt(b, u.Input)
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = appendInt(b, u.CacheWrite)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = appendInt(b, u.CacheRead)
	b = append(b, `,"output_tokens":1}}}`+"\n\n"...)
	b = antEvent(b, "ping")
	return append(b, `{"type": "ping"}`+"\n\n"...)
}

func (e *antStream) blockStart(b []byte, i int) []byte {
	blk := &e.rp.blocks[i]
	b = antEvent(b, "content_block_start")
	b = append(b, `{"type":"content_block_start","index":`...)
	b = appendInt(b, i)
	switch blk.kind {
	case blockThinking:
		b = append(b, `,"content_block":{"type":"thinking","thinking":"","signature":""}}`...)
	case blockText:
		b = append(b, `,"content_block":{"type":"text","text":""}}`...)
	case blockTool:
		b = append(b, `,"content_block":{"type":"tool_use","id":`...)
		b = appendString(b, blk.call.ID)
		b = append(b, `,"name":`...)
		b = appendString(b, blk.call.Name)
		b = append(b, `,"input":{}}}`...)
	}
	return append(b, "\n\n"...)
}

func (e *antStream) delta(b []byte, i int, frag string) []byte {
	b = antEvent(b, "content_block_delta")
	b = append(b, `{"type":"content_block_delta","index":`...)
	b = appendInt(b, i)
	switch e.rp.blocks[i].kind {
	case blockThinking:
		b = append(b, `,"delta":{"type":"thinking_delta","thinking":`...)
	case blockText:
		b = append(b, `,"delta":{"type":"text_delta","text":`...)
	case blockTool:
		b = append(b, `,"delta":{"type":"input_json_delta","partial_json":`...)
	}
	b = appendString(b, frag)
	return append(b, "}}\n\n"...)
}

func (e *antStream) blockStop(b []byte, i int) []byte {
	if e.rp.blocks[i].kind == blockThinking {
		b = antEvent(b, "content_block_delta")
		b = append(b, `{"type":"content_block_delta","index":`...)
		b = appendInt(b, i)
		b = append(b, `,"delta":{"type":"signature_delta","signature":`...)
		b = appendString(b, e.rp.signature)
		b = append(b, "}}\n\n"...)
	}
	b = antEvent(b, "content_block_stop")
	b = append(b, `{"type":"content_block_stop","index":`...)
	b = appendInt(b, i)
	return append(b, "}\n\n"...)
}

func (e *antStream) end(b []byte) []byte {
	b = antEvent(b, "message_delta")
	b = append(b, `{"type":"message_delta","delta":{"stop_reason":`...)
	b = appendString(b, antStop(e.rp.stop))
	b = append(b, `,"stop_sequence":null},"usage":{"output_tokens":`...)
	b = appendInt(b, e.rp.usage.Completion())
	b = append(b, "}}\n\n"...)
	b = antEvent(b, "message_stop")
	return append(b, `{"type":"message_stop"}`+"\n\n"...)
}

func (e *antStream) fail(b []byte, ae *apiError) []byte {
	b = antEvent(b, "error")
	b = append(b, antErrorJSON(ae)...)
	return append(b, "\n\n"...)
}
