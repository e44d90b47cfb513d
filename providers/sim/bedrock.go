package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// bedrock is the AWS Bedrock Converse format; ConverseStream answers with
// AWS event-stream binary frames.
type bedrock struct{}

func (bedrock) name() string { return "bedrock" }
func (bedrock) caps() caps   { return caps{thinking: true, idPrefix: "tooluse_sim"} }

func (bedrock) authorize(r *http.Request, body []byte, cfg *Config) *apiError {
	h := r.Header.Get("Authorization")
	if tok, ok := bearer(r); ok {
		if tok == "" || (cfg.APIKey != "" && tok != cfg.APIKey) {
			return &apiError{status: http.StatusForbidden, code: "UnrecognizedClientException",
				message: "The security token included in the request is invalid."}
		}
		return nil
	}
	switch {
	case h == "":
		return &apiError{status: http.StatusForbidden, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"}
	case !strings.HasPrefix(h, "AWS4-HMAC-SHA256 "):
		return &apiError{status: http.StatusForbidden, code: "IncompleteSignatureException",
			message: "Authorization header requires AWS4-HMAC-SHA256 or a Bearer API key."}
	case cfg.AWSAccessKeyID != "" && cfg.AWSSecretAccessKey != "":
		return verifySigV4(r, body, cfg, time.Now())
	}
	return nil
}

func (bedrock) decode(stream bool) decodeFunc {
	return func(r *http.Request, body []byte, c *call) *apiError {
		var req struct {
			Messages []struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
			System          json.RawMessage `json:"system"`
			InferenceConfig struct {
				MaxTokens int `json:"maxTokens"`
			} `json:"inferenceConfig"`
			ToolConfig struct {
				Tools []struct {
					ToolSpec struct {
						Name        string `json:"name"`
						InputSchema struct {
							JSON json.RawMessage `json:"json"`
						} `json:"inputSchema"`
					} `json:"toolSpec"`
				} `json:"tools"`
			} `json:"toolConfig"`
		}
		c.model, c.stream = r.PathValue("model"), stream
		if err := json.Unmarshal(body, &req); err != nil {
			return errorf(http.StatusBadRequest, "Malformed input request: "+err.Error())
		}
		c.maxTokens, c.inputBytes = req.InferenceConfig.MaxTokens, len(req.System)
		if t := req.ToolConfig.Tools; len(t) > 0 {
			c.tool = &toolSpec{name: t[0].ToolSpec.Name, schema: t[0].ToolSpec.InputSchema.JSON}
		}
		for _, m := range req.Messages {
			c.inputBytes += len(m.Content)
		}
		if len(req.Messages) == 0 {
			return errorf(http.StatusBadRequest, "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null")
		}
		if last := req.Messages[len(req.Messages)-1]; last.Role == "user" {
			c.lastUser = contentText(last.Content)
		}
		return nil
	}
}

// bedErrorType is the error type of a status: the x-amzn-ErrorType of a
// response, and, lower-camel-cased, the :exception-type of a frame.
func bedErrorType(e *apiError) string {
	if e.code != "" {
		return e.code
	}
	switch e.status {
	case http.StatusBadRequest:
		return "ValidationException"
	case http.StatusForbidden, http.StatusUnauthorized:
		return "AccessDeniedException"
	case http.StatusNotFound:
		return "ResourceNotFoundException"
	case http.StatusRequestTimeout:
		return "ModelTimeoutException"
	case http.StatusFailedDependency:
		return "ModelErrorException"
	case http.StatusTooManyRequests:
		return "ThrottlingException"
	case http.StatusServiceUnavailable, 529:
		return "ServiceUnavailableException"
	}
	if e.status < 500 {
		return "ValidationException"
	}
	return "InternalServerException"
}

func (bedrock) writeError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	setRetryAfter(h, e.retryAfter, false)
	h.Set("X-Amzn-Errortype", bedErrorType(e)+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	h.Set("X-Amzn-Requestid", "sim-request")
	b := append(make([]byte, 0, 32+len(e.message)), `{"message":`...)
	b = appendString(b, e.message)
	writeBody(w, e.status, "application/json", append(b, '}'))
}

func bedStop(s llm.StopReason) string {
	switch s {
	case llm.StopLength:
		return "max_tokens"
	case llm.StopToolCalls:
		return "tool_use"
	case llm.StopSequence:
		return "stop_sequence"
	case llm.StopContentFilter, llm.StopRefusal:
		return "content_filtered"
	}
	return "end_turn"
}

// appendBedUsage appends the usage object.
func appendBedUsage(b []byte, u llm.Usage) []byte {
	b = append(b, `{"inputTokens":`...)
	b = appendInt(b, u.Input)
	b = append(b, `,"outputTokens":`...)
	b = appendInt(b, u.Completion())
	b = append(b, `,"totalTokens":`...)
	b = appendInt(b, u.Total())
	if u.CacheRead > 0 {
		b = append(b, `,"cacheReadInputTokens":`...)
		b = appendInt(b, u.CacheRead)
	}
	if u.CacheWrite > 0 {
		b = append(b, `,"cacheWriteInputTokens":`...)
		b = appendInt(b, u.CacheWrite)
	}
	return append(b, '}')
}

func (bedrock) writeReply(w http.ResponseWriter, _ *call, rp *reply) {
	b := append(make([]byte, 0, 512), `{"metrics":{"latencyMs":`...)
	b = appendInt(b, int(time.Since(rp.start).Milliseconds()))
	b = append(b, `},"output":{"message":{"content":[`...)
	for i, blk := range rp.blocks {
		if i > 0 {
			b = append(b, ',')
		}
		switch blk.kind {
		case blockThinking:
			b = append(b, `{"reasoningContent":{"reasoningText":{"signature":`...)
			b = appendString(b, rp.signature)
			b = append(b, `,"text":`...)
			b = appendString(b, blk.text)
			b = append(b, "}}}"...)
		case blockText:
			b = append(b, `{"text":`...)
			b = appendString(b, blk.text)
			b = append(b, '}')
		case blockTool:
			b = append(b, `{"toolUse":{"input":`...)
			b = appendObject(b, blk.call.Arguments)
			b = append(b, `,"name":`...)
			b = appendString(b, blk.call.Name)
			b = append(b, `,"toolUseId":`...)
			b = appendString(b, blk.call.ID)
			b = append(b, "}}"...)
		}
	}
	b = append(b, `],"role":"assistant"}},"stopReason":`...)
	b = appendString(b, bedStop(rp.stop))
	b = append(b, `,"usage":`...)
	b = appendBedUsage(b, rp.usage)
	w.Header().Set("X-Amzn-Requestid", "sim-"+rp.id)
	writeBody(w, http.StatusOK, "application/json", append(b, '}'))
}

// bedStream encodes ConverseStream as event-stream frames: messageStart,
// contentBlockStart (tool use only), contentBlockDelta, contentBlockStop,
// messageStop, metadata. Payloads carry the "p" padding field Bedrock adds.
type bedStream struct {
	rp      *reply
	enc     *eventstream.Encoder
	out     appendWriter
	payload []byte
}

// appendWriter is an io.Writer that appends to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func (bedrock) encoder(_ *call, rp *reply) encoder {
	return &bedStream{rp: rp, enc: eventstream.NewEncoder()}
}

func (e *bedStream) contentType() string { return "application/vnd.amazon.eventstream" }

const padding = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// pad appends the "p" field, of a length that varies with the payload.
func pad(b []byte) []byte {
	b = append(b, `"p":"`...)
	b = append(b, padding[:1+len(b)%(len(padding)-1)]...)
	return append(b, '"')
}

// frame appends one event frame with the payload in e.payload.
func (e *bedStream) frame(b []byte, event string) []byte {
	e.out.b = b
	msg := eventstream.Message{Payload: e.payload}
	msg.Headers.Set(":event-type", eventstream.StringValue(event))
	msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	msg.Headers.Set(":message-type", eventstream.StringValue("event"))
	_ = e.enc.Encode(&e.out, msg) // appendWriter never fails
	return e.out.b
}

func (e *bedStream) begin(b []byte) []byte {
	p := append(e.payload[:0], '{')
	p = pad(p)
	e.payload = append(p, `,"role":"assistant"}`...)
	return e.frame(b, "messageStart")
}

func (e *bedStream) blockStart(b []byte, i int) []byte {
	blk := &e.rp.blocks[i]
	if blk.kind != blockTool {
		return b
	}
	p := append(e.payload[:0], `{"contentBlockIndex":`...)
	p = appendInt(p, i)
	p = append(p, ',')
	p = pad(p)
	p = append(p, `,"start":{"toolUse":{"name":`...)
	p = appendString(p, blk.call.Name)
	p = append(p, `,"toolUseId":`...)
	p = appendString(p, blk.call.ID)
	e.payload = append(p, "}}}"...)
	return e.frame(b, "contentBlockStart")
}

func (e *bedStream) delta(b []byte, i int, frag string) []byte {
	p := append(e.payload[:0], `{"contentBlockIndex":`...)
	p = appendInt(p, i)
	switch e.rp.blocks[i].kind {
	case blockThinking:
		p = append(p, `,"delta":{"reasoningContent":{"text":`...)
		p = appendString(p, frag)
		p = append(p, "}},"...)
	case blockText:
		p = append(p, `,"delta":{"text":`...)
		p = appendString(p, frag)
		p = append(p, "},"...)
	case blockTool:
		p = append(p, `,"delta":{"toolUse":{"input":`...)
		p = appendString(p, frag)
		p = append(p, "}},"...)
	}
	p = pad(p)
	e.payload = append(p, '}')
	return e.frame(b, "contentBlockDelta")
}

func (e *bedStream) blockStop(b []byte, i int) []byte {
	if e.rp.blocks[i].kind == blockThinking {
		p := append(e.payload[:0], `{"contentBlockIndex":`...)
		p = appendInt(p, i)
		p = append(p, `,"delta":{"reasoningContent":{"signature":`...)
		p = appendString(p, e.rp.signature)
		p = append(p, "}},"...)
		p = pad(p)
		e.payload = append(p, '}')
		b = e.frame(b, "contentBlockDelta")
	}
	p := append(e.payload[:0], `{"contentBlockIndex":`...)
	p = appendInt(p, i)
	p = append(p, ',')
	p = pad(p)
	e.payload = append(p, '}')
	return e.frame(b, "contentBlockStop")
}

func (e *bedStream) end(b []byte) []byte {
	p := append(e.payload[:0], '{')
	p = pad(p)
	p = append(p, `,"stopReason":`...)
	p = appendString(p, bedStop(e.rp.stop))
	e.payload = append(p, '}')
	b = e.frame(b, "messageStop")
	p = append(e.payload[:0], `{"metrics":{"latencyMs":`...)
	p = appendInt(p, int(time.Since(e.rp.start).Milliseconds()))
	p = append(p, "},"...)
	p = pad(p)
	p = append(p, `,"usage":`...)
	p = appendBedUsage(p, e.rp.usage)
	e.payload = append(p, '}')
	return e.frame(b, "metadata")
}

func (e *bedStream) fail(b []byte, ae *apiError) []byte {
	typ := bedErrorType(ae)
	if ae.status == http.StatusInternalServerError && ae.code == "" {
		typ = "ModelStreamErrorException"
	}
	p := append(e.payload[:0], `{"message":`...)
	p = appendString(p, ae.message)
	e.payload = append(p, '}')
	e.out.b = b
	msg := eventstream.Message{Payload: e.payload}
	msg.Headers.Set(":exception-type", eventstream.StringValue(strings.ToLower(typ[:1])+typ[1:]))
	msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	msg.Headers.Set(":message-type", eventstream.StringValue("exception"))
	_ = e.enc.Encode(&e.out, msg)
	return e.out.b
}
