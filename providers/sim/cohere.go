package sim

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// cohere is the Cohere v2 Chat format.
type cohere struct{}

func (cohere) name() string { return "cohere" }
func (cohere) caps() caps   { return caps{thinking: true, idPrefix: "sim_tool_"} }

func (cohere) authorize(r *http.Request, _ []byte, cfg *Config) *apiError {
	key, ok := bearer(r)
	switch {
	case !ok || key == "":
		return errorf(http.StatusUnauthorized, "no api key supplied")
	case cfg.APIKey != "" && key != cfg.APIKey:
		return errorf(http.StatusUnauthorized, "invalid api token")
	}
	return nil
}

func (cohere) decode(_ *http.Request, body []byte, c *call) *apiError {
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Stream    bool `json:"stream"`
		MaxTokens int  `json:"max_tokens"`
		Tools     []struct {
			Function struct {
				Name       string          `json:"name"`
				Parameters json.RawMessage `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, "invalid request: "+err.Error())
	}
	c.model, c.stream, c.maxTokens = req.Model, req.Stream, req.MaxTokens
	if len(req.Tools) > 0 {
		c.tool = &toolSpec{name: req.Tools[0].Function.Name, schema: req.Tools[0].Function.Parameters}
	}
	for _, m := range req.Messages {
		c.inputBytes += len(m.Content)
	}
	switch {
	case c.model == "":
		return errorf(http.StatusBadRequest, "invalid request: model must be specified")
	case len(req.Messages) == 0:
		return errorf(http.StatusBadRequest, "invalid request: messages must not be empty")
	}
	if last := req.Messages[len(req.Messages)-1]; last.Role == "user" {
		c.lastUser = contentText(last.Content)
	}
	return nil
}

func cohErrorJSON(e *apiError) []byte {
	b := append(make([]byte, 0, 48+len(e.message)), `{"id":"sim-error","message":`...)
	b = appendString(b, e.message)
	return append(b, '}')
}

func (cohere) writeError(w http.ResponseWriter, e *apiError) {
	setRetryAfter(w.Header(), e.retryAfter, false)
	writeBody(w, e.status, "application/json", cohErrorJSON(e))
}

func cohFinish(s llm.StopReason) string {
	switch s {
	case llm.StopLength:
		return "MAX_TOKENS"
	case llm.StopToolCalls:
		return "TOOL_CALL"
	case llm.StopSequence:
		return "STOP_SEQUENCE"
	case llm.StopContentFilter, llm.StopRefusal:
		return "ERROR_TOXIC"
	}
	return "COMPLETE"
}

// appendCohUsage appends Cohere's usage: billed units (uncached input,
// output) and tokens (all input, output), plus cached_tokens when any.
func appendCohUsage(b []byte, u llm.Usage) []byte {
	b = append(b, `{"billed_units":{"input_tokens":`...)
	b = appendInt(b, u.Input)
	b = append(b, `,"output_tokens":`...)
	b = appendInt(b, u.Completion())
	b = append(b, `},"tokens":{"input_tokens":`...)
	b = appendInt(b, u.Prompt())
	b = append(b, `,"output_tokens":`...)
	b = appendInt(b, u.Completion())
	b = append(b, '}')
	if u.CacheRead > 0 {
		b = append(b, `,"cached_tokens":`...)
		b = appendInt(b, u.CacheRead)
	}
	return append(b, '}')
}

func (cohere) writeReply(w http.ResponseWriter, _ *call, rp *reply) {
	b := append(make([]byte, 0, 512), `{"id":"sim-`...)
	b = append(b, rp.id...)
	b = append(b, `","message":{"role":"assistant"`...)
	tools := rp.hasTools()
	var content, calls []byte
	for _, blk := range rp.blocks {
		switch {
		case blk.kind == blockThinking:
			content = appendSep(content)
			content = append(content, `{"type":"thinking","thinking":`...)
			content = appendString(content, blk.text)
			content = append(content, '}')
		case blk.kind == blockText && tools:
			b = append(b, `,"tool_plan":`...)
			b = appendString(b, blk.text)
		case blk.kind == blockText:
			content = appendSep(content)
			content = append(content, `{"type":"text","text":`...)
			content = appendString(content, blk.text)
			content = append(content, '}')
		case blk.kind == blockTool:
			calls = appendSep(calls)
			calls = append(calls, `{"id":`...)
			calls = appendString(calls, blk.call.ID)
			calls = append(calls, `,"type":"function","function":{"name":`...)
			calls = appendString(calls, blk.call.Name)
			calls = append(calls, `,"arguments":`...)
			calls = appendString(calls, blk.call.Arguments)
			calls = append(calls, "}}"...)
		}
	}
	if len(content) > 0 {
		b = append(b, `,"content":[`...)
		b = append(b, content...)
		b = append(b, ']')
	}
	if len(calls) > 0 {
		b = append(b, `,"tool_calls":[`...)
		b = append(b, calls...)
		b = append(b, ']')
	}
	b = append(b, `},"finish_reason":`...)
	b = appendString(b, cohFinish(rp.stop))
	b = append(b, `,"usage":`...)
	b = appendCohUsage(b, rp.usage)
	writeBody(w, http.StatusOK, "application/json", append(b, '}'))
}

// appendSep appends a comma unless b is empty.
func appendSep(b []byte) []byte {
	if len(b) > 0 {
		return append(b, ',')
	}
	return b
}

// cohStream encodes a v2 chat stream: named SSE events whose data repeats
// the name in "type", ending with message-end and "data: [DONE]". With tool
// calls the text is the tool plan (tool-plan-delta events).
type cohStream struct {
	rp    *reply
	tools bool
}

func (cohere) encoder(_ *call, rp *reply) encoder { return &cohStream{rp: rp, tools: rp.hasTools()} }

func (e *cohStream) contentType() string { return "text/event-stream" }

func cohEvent(b []byte, name string) []byte {
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, "\ndata: "...)
	return b
}

func (e *cohStream) begin(b []byte) []byte {
	b = cohEvent(b, "message-start")
	b = append(b, `{"id":"sim-`...)
	b = append(b, e.rp.id...)
	return append(b, `","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}`+"\n\n"...)
}

func (e *cohStream) blockStart(b []byte, i int) []byte {
	blk := &e.rp.blocks[i]
	switch {
	case blk.kind == blockText && e.tools:
		return b
	case blk.kind == blockTool:
		b = cohEvent(b, "tool-call-start")
		b = append(b, `{"type":"tool-call-start","index":`...)
		b = appendInt(b, blk.tool)
		b = append(b, `,"delta":{"message":{"tool_calls":{"id":`...)
		b = appendString(b, blk.call.ID)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = appendString(b, blk.call.Name)
		return append(b, `,"arguments":""}}}}}`+"\n\n"...)
	}
	b = cohEvent(b, "content-start")
	b = append(b, `{"type":"content-start","index":`...)
	b = appendInt(b, i)
	if blk.kind == blockThinking {
		b = append(b, `,"delta":{"message":{"content":{"type":"thinking","thinking":""}}}}`...)
	} else {
		b = append(b, `,"delta":{"message":{"content":{"type":"text","text":""}}}}`...)
	}
	return append(b, "\n\n"...)
}

func (e *cohStream) delta(b []byte, i int, frag string) []byte {
	blk := &e.rp.blocks[i]
	switch {
	case blk.kind == blockText && e.tools:
		b = cohEvent(b, "tool-plan-delta")
		b = append(b, `{"type":"tool-plan-delta","delta":{"message":{"tool_plan":`...)
		b = appendString(b, frag)
		return append(b, "}}}\n\n"...)
	case blk.kind == blockTool:
		b = cohEvent(b, "tool-call-delta")
		b = append(b, `{"type":"tool-call-delta","index":`...)
		b = appendInt(b, blk.tool)
		b = append(b, `,"delta":{"message":{"tool_calls":{"function":{"arguments":`...)
		b = appendString(b, frag)
		return append(b, "}}}}}\n\n"...)
	}
	b = cohEvent(b, "content-delta")
	b = append(b, `{"type":"content-delta","index":`...)
	b = appendInt(b, i)
	if blk.kind == blockThinking {
		b = append(b, `,"delta":{"message":{"content":{"thinking":`...)
	} else {
		b = append(b, `,"delta":{"message":{"content":{"text":`...)
	}
	b = appendString(b, frag)
	return append(b, "}}}}\n\n"...)
}

func (e *cohStream) blockStop(b []byte, i int) []byte {
	blk := &e.rp.blocks[i]
	switch {
	case blk.kind == blockText && e.tools:
		return b
	case blk.kind == blockTool:
		b = cohEvent(b, "tool-call-end")
		b = append(b, `{"type":"tool-call-end","index":`...)
		b = appendInt(b, blk.tool)
		return append(b, "}\n\n"...)
	}
	b = cohEvent(b, "content-end")
	b = append(b, `{"type":"content-end","index":`...)
	b = appendInt(b, i)
	return append(b, "}\n\n"...)
}

func (e *cohStream) end(b []byte) []byte {
	b = cohEvent(b, "message-end")
	b = append(b, `{"type":"message-end","delta":{"finish_reason":`...)
	b = appendString(b, cohFinish(e.rp.stop))
	b = append(b, `,"usage":`...)
	b = appendCohUsage(b, e.rp.usage)
	return append(b, "}}\n\ndata: [DONE]\n\n"...)
}

func (e *cohStream) fail(b []byte, ae *apiError) []byte {
	b = cohEvent(b, "message-end")
	b = append(b, `{"type":"message-end","delta":{"error":`...)
	b = appendString(b, ae.message)
	return append(b, `,"finish_reason":"ERROR"}}`+"\n\n"...)
}

// Embeddings.

func (cohere) decodeEmbed(_ *http.Request, body []byte, ec *embedCall) *apiError {
	var req struct {
		Model           string   `json:"model"`
		Texts           []string `json:"texts"`
		OutputDimension int      `json:"output_dimension"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, "invalid request: "+err.Error())
	}
	ec.model, ec.inputs, ec.dims = req.Model, req.Texts, req.OutputDimension
	for _, t := range req.Texts {
		ec.inputBytes += len(t)
	}
	switch {
	case ec.model == "":
		return errorf(http.StatusBadRequest, "invalid request: model must be specified")
	case len(req.Texts) == 0:
		return errorf(http.StatusBadRequest, "invalid request: texts must not be empty")
	case req.OutputDimension < 0 || req.OutputDimension > maxDims:
		return errorf(http.StatusBadRequest, "invalid request: output_dimension must be between 1 and "+strconv.Itoa(maxDims))
	}
	return nil
}

func (cohere) writeEmbed(w http.ResponseWriter, ec *embedCall, vecs [][]float32, tokens int) {
	writeJSON(w, http.StatusOK, map[string]any{
		"id":            "sim-embed",
		"embeddings":    map[string]any{"float": vecs},
		"texts":         ec.inputs,
		"meta":          map[string]any{"api_version": map[string]string{"version": "2"}, "billed_units": map[string]int{"input_tokens": tokens}},
		"response_type": "embeddings_by_type",
	})
}
