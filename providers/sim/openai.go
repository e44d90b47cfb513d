package sim

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// openAI is the OpenAI Chat Completions format, and Azure OpenAI's when
// azure is set (deployment in the path, api-version, api-key, Azure's
// error bodies and content-filter results).
type openAI struct{ azure bool }

func (o *openAI) name() string {
	if o.azure {
		return "azure"
	}
	return "openai"
}

func (o *openAI) caps() caps { return caps{idPrefix: "call_"} }

type oaiRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           int `json:"max_tokens"`
	MaxCompletionTokens int `json:"max_completion_tokens"`
	Tools               []struct {
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
}

func (o *openAI) authorize(r *http.Request, _ []byte, cfg *Config) *apiError {
	key, ok := bearer(r)
	if o.azure {
		if k := r.Header.Get("Api-Key"); k != "" {
			key, ok = k, true
		}
		switch {
		case !ok || key == "":
			return &apiError{status: http.StatusUnauthorized, message: "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}
		case cfg.APIKey != "" && key != cfg.APIKey:
			return &apiError{status: http.StatusUnauthorized, message: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}
		}
		if r.URL.Query().Get("api-version") == "" {
			return &apiError{status: http.StatusBadRequest, code: "BadRequest", message: "Missing required query parameter: api-version"}
		}
		return nil
	}
	switch {
	case !ok || key == "":
		return &apiError{status: http.StatusUnauthorized, message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."}
	case cfg.APIKey != "" && key != cfg.APIKey:
		return &apiError{status: http.StatusUnauthorized, code: "invalid_api_key", message: "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."}
	}
	return nil
}

func (o *openAI) decode(r *http.Request, body []byte, c *call) *apiError {
	var req oaiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, "We could not parse the JSON body of your request: "+err.Error())
	}
	c.model, c.stream = req.Model, req.Stream
	if o.azure {
		c.model = r.PathValue("deployment")
	}
	c.includeUsage = req.Stream && req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	c.maxTokens = req.MaxCompletionTokens
	if c.maxTokens == 0 {
		c.maxTokens = req.MaxTokens
	}
	if len(req.Tools) > 0 {
		c.tool = &toolSpec{name: req.Tools[0].Function.Name, schema: req.Tools[0].Function.Parameters}
	}
	for _, m := range req.Messages {
		c.inputBytes += len(m.Content)
	}
	switch {
	case c.model == "":
		return &apiError{status: http.StatusBadRequest, code: "model", message: "you must provide a model parameter"}
	case len(req.Messages) == 0:
		return &apiError{status: http.StatusBadRequest, code: "messages", message: "Missing required parameter: 'messages'."}
	}
	if last := req.Messages[len(req.Messages)-1]; last.Role == "user" {
		c.lastUser = contentText(last.Content)
	}
	return nil
}

// errorType is OpenAI's error type and code for a status.
func oaiErrorType(status int) (typ string, code any) {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusRequestEntityTooLarge:
		return "invalid_request_error", nil
	case http.StatusForbidden:
		return "permission_error", nil
	case http.StatusTooManyRequests:
		return "requests", "rate_limit_exceeded"
	}
	return "server_error", nil
}

func (o *openAI) errorBody(e *apiError) any {
	if o.azure {
		code := e.code
		if code == "" {
			code = strconv.Itoa(e.status)
		}
		return map[string]any{"error": map[string]any{"code": code, "message": e.message}}
	}
	typ, code := oaiErrorType(e.status)
	var param any
	switch e.code {
	case "":
	case "model", "messages", "input":
		param = e.code
	default:
		code = e.code
	}
	return map[string]any{"error": map[string]any{"message": e.message, "type": typ, "param": param, "code": code}}
}

func (o *openAI) writeError(w http.ResponseWriter, e *apiError) {
	setRetryAfter(w.Header(), e.retryAfter, true)
	w.Header().Set("X-Request-Id", "req_sim")
	writeJSON(w, e.status, o.errorBody(e))
}

func oaiFinish(s llm.StopReason) string {
	switch s {
	case llm.StopLength:
		return "length"
	case llm.StopToolCalls:
		return "tool_calls"
	case llm.StopContentFilter:
		return "content_filter"
	}
	return "stop"
}

type oaiUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

func toOAIUsage(u llm.Usage) oaiUsage {
	var o oaiUsage
	o.PromptTokens, o.CompletionTokens, o.TotalTokens = u.Prompt(), u.Completion(), u.Total()
	o.PromptTokensDetails.CachedTokens = u.CacheRead
	o.CompletionTokensDetails.ReasoningTokens = u.Reasoning
	return o
}

type oaiToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// contentFilterOK is Azure's verdict on content that passed its filters.
var contentFilterOK = map[string]any{
	"hate":      map[string]any{"filtered": false, "severity": "safe"},
	"self_harm": map[string]any{"filtered": false, "severity": "safe"},
	"sexual":    map[string]any{"filtered": false, "severity": "safe"},
	"violence":  map[string]any{"filtered": false, "severity": "safe"},
}

func (o *openAI) writeReply(w http.ResponseWriter, c *call, rp *reply) {
	type message struct {
		Role        string        `json:"role"`
		Content     *string       `json:"content"`
		Refusal     *string       `json:"refusal"`
		ToolCalls   []oaiToolCall `json:"tool_calls,omitempty"`
		Annotations []any         `json:"annotations"`
	}
	type choice struct {
		Index                int            `json:"index"`
		Message              message        `json:"message"`
		Logprobs             any            `json:"logprobs"`
		FinishReason         string         `json:"finish_reason"`
		ContentFilterResults map[string]any `json:"content_filter_results,omitempty"`
	}
	var body struct {
		ID                  string   `json:"id"`
		Object              string   `json:"object"`
		Created             int64    `json:"created"`
		Model               string   `json:"model"`
		Choices             []choice `json:"choices"`
		Usage               oaiUsage `json:"usage"`
		ServiceTier         string   `json:"service_tier,omitempty"`
		SystemFingerprint   string   `json:"system_fingerprint"`
		PromptFilterResults []any    `json:"prompt_filter_results,omitempty"`
	}
	body.ID, body.Object, body.Created, body.Model = "chatcmpl-sim"+rp.id, "chat.completion", rp.created, rp.model
	body.SystemFingerprint = "fp_sim"
	msg := message{Role: "assistant", Annotations: []any{}}
	if rp.text() != "" || !rp.hasTools() {
		t := rp.text()
		msg.Content = &t
	}
	for _, b := range rp.blocks {
		if b.kind == blockTool {
			var tc oaiToolCall
			tc.ID, tc.Type = b.call.ID, "function"
			tc.Function.Name, tc.Function.Arguments = b.call.Name, b.call.Arguments
			msg.ToolCalls = append(msg.ToolCalls, tc)
		}
	}
	ch := choice{Message: msg, FinishReason: oaiFinish(rp.stop)}
	if o.azure {
		ch.ContentFilterResults = contentFilterOK
		body.PromptFilterResults = []any{map[string]any{"prompt_index": 0, "content_filter_results": contentFilterOK}}
	} else {
		body.ServiceTier = "default"
	}
	body.Choices = []choice{ch}
	body.Usage = toOAIUsage(rp.usage)
	w.Header().Set("X-Request-Id", "req_sim"+rp.id)
	writeJSON(w, http.StatusOK, body)
}

// oaiStream encodes a Chat Completions stream: "data: <chunk>" events, a
// usage chunk with empty choices when include_usage was asked, "[DONE]".
type oaiStream struct {
	o    *openAI
	c    *call
	rp   *reply
	head []byte // every chunk's opening up to the delta
	tail string // after the finish reason
}

func (o *openAI) encoder(c *call, rp *reply) encoder {
	head := []byte(`{"id":"chatcmpl-sim` + rp.id + `","object":"chat.completion.chunk","created":` +
		strconv.FormatInt(rp.created, 10) + `,"model":`)
	head = appendString(head, rp.model)
	head = append(head, `,"system_fingerprint":"fp_sim","choices":[{"index":0,"delta":`...)
	tail := "}]}"
	if c.includeUsage {
		tail = `}],"usage":null}`
	}
	return &oaiStream{o: o, c: c, rp: rp, head: head, tail: tail}
}

func (e *oaiStream) contentType() string { return "text/event-stream; charset=utf-8" }

// chunk appends one chunk event with the given delta object.
func (e *oaiStream) chunk(b []byte, delta []byte, finish string) []byte {
	b = append(b, "data: "...)
	b = append(b, e.head...)
	b = append(b, delta...)
	b = append(b, `,"logprobs":null,"finish_reason":`...)
	if finish == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, finish)
	}
	b = append(b, e.tail...)
	return append(b, "\n\n"...)
}

func (e *oaiStream) begin(b []byte) []byte {
	if e.o.azure { // Azure opens with the prompt's filter results and no choices
		b = append(b, `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}`+"\n\n"...)
	}
	content := `""`
	if e.rp.text() == "" && e.rp.hasTools() {
		content = "null"
	}
	return e.chunk(b, []byte(`{"role":"assistant","content":`+content+`,"refusal":null}`), "")
}

func (e *oaiStream) blockStart(b []byte, i int) []byte {
	blk := &e.rp.blocks[i]
	if blk.kind != blockTool {
		return b
	}
	d := append(make([]byte, 0, 128), `{"tool_calls":[{"index":`...)
	d = appendInt(d, blk.tool)
	d = append(d, `,"id":`...)
	d = appendString(d, blk.call.ID)
	d = append(d, `,"type":"function","function":{"name":`...)
	d = appendString(d, blk.call.Name)
	d = append(d, `,"arguments":""}}]}`...)
	return e.chunk(b, d, "")
}

func (e *oaiStream) delta(b []byte, i int, frag string) []byte {
	blk := &e.rp.blocks[i]
	var d []byte
	if blk.kind == blockTool {
		d = append(make([]byte, 0, 64+len(frag)), `{"tool_calls":[{"index":`...)
		d = appendInt(d, blk.tool)
		d = append(d, `,"function":{"arguments":`...)
		d = appendString(d, frag)
		d = append(d, "}}]}"...)
	} else {
		d = append(make([]byte, 0, 16+len(frag)), `{"content":`...)
		d = appendString(d, frag)
		d = append(d, '}')
	}
	return e.chunk(b, d, "")
}

func (e *oaiStream) blockStop(b []byte, _ int) []byte { return b }

func (e *oaiStream) end(b []byte) []byte {
	b = e.chunk(b, []byte("{}"), oaiFinish(e.rp.stop))
	if e.c.includeUsage {
		u, _ := json.Marshal(toOAIUsage(e.rp.usage))
		b = append(b, "data: "...)
		b = append(b, e.head[:len(e.head)-len(`{"index":0,"delta":`)]...)
		b = append(b, `],"usage":`...)
		b = append(b, u...)
		b = append(b, "}\n\n"...)
	}
	return append(b, "data: [DONE]\n\n"...)
}

func (e *oaiStream) fail(b []byte, ae *apiError) []byte {
	body, _ := json.Marshal(e.o.errorBody(ae))
	b = append(b, "data: "...)
	b = append(b, body...)
	return append(b, "\n\n"...)
}

// Embeddings.

func (o *openAI) decodeEmbed(r *http.Request, body []byte, ec *embedCall) *apiError {
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     int             `json:"dimensions"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, "We could not parse the JSON body of your request: "+err.Error())
	}
	ec.model, ec.base64, ec.dims, ec.inputBytes = req.Model, req.EncodingFormat == "base64", req.Dimensions, len(req.Input)
	if o.azure {
		ec.model = r.PathValue("deployment")
	}
	var ok bool
	ec.inputs, ok = embedInputs(req.Input)
	switch {
	case ec.model == "":
		return &apiError{status: http.StatusBadRequest, code: "model", message: "you must provide a model parameter"}
	case !ok:
		return &apiError{status: http.StatusBadRequest, code: "input", message: "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."}
	case req.Dimensions < 0 || req.Dimensions > maxDims:
		return errorf(http.StatusBadRequest, "dimensions must be between 1 and "+strconv.Itoa(maxDims))
	}
	return nil
}

func (o *openAI) writeEmbed(w http.ResponseWriter, ec *embedCall, vecs [][]float32, tokens int) {
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	data := make([]item, len(vecs))
	for i, v := range vecs {
		data[i] = item{Object: "embedding", Index: i, Embedding: v}
		if ec.base64 {
			raw := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(f))
			}
			data[i].Embedding = base64.StdEncoding.EncodeToString(raw)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "model": ec.model,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}})
}

// openAIModels answers GET /v1/models: a few well-known ids and every
// scripted model.
func (s *Server) openAIModels(w http.ResponseWriter, r *http.Request) {
	cfg := s.cfg.Load()
	o := &openAI{}
	if e := o.authorize(r, nil, cfg); e != nil {
		o.writeError(w, e)
		return
	}
	ids := []string{"gpt-4o", "gpt-4o-mini", "text-embedding-3-small"}
	s.mu.Lock()
	for m := range s.scripts {
		if m != "*" && !slices.Contains(ids, m) {
			ids = append(ids, m)
		}
	}
	s.mu.Unlock()
	slices.Sort(ids)
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	data := make([]model, len(ids))
	for i, id := range ids {
		data[i] = model{ID: id, Object: "model", Created: 1700000000, OwnedBy: "sim"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}
