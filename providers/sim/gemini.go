package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// gemini is the Gemini API format (generativelanguage.googleapis.com).
type gemini struct{}

func (gemini) name() string { return "gemini" }
func (gemini) caps() caps   { return caps{thinking: true, wholeArgs: true, idPrefix: "call_"} }

// geminiRoutes answers POST /v1beta/models/{model}:{method} for the chat,
// embedding and token-counting methods.
func (s *Server) geminiRoutes() http.HandlerFunc {
	g := gemini{}
	chat := s.chat(g, g.authorize, g.decode)
	embed := s.embed(g, g.authorize, g.decodeEmbed, g.writeEmbed)
	return func(w http.ResponseWriter, r *http.Request) {
		_, method, _ := strings.Cut(r.PathValue("call"), ":")
		switch method {
		case "generateContent", "streamGenerateContent":
			chat.ServeHTTP(w, r)
		case "embedContent", "batchEmbedContents":
			embed.ServeHTTP(w, r)
		case "countTokens":
			s.geminiCount(w, r)
		default:
			g.writeError(w, errorf(http.StatusNotFound, "Method not found: "+method))
		}
	}
}

// geminiModel splits the {call} path value "model:method".
func geminiModel(r *http.Request) (model, method string) {
	model, method, _ = strings.Cut(r.PathValue("call"), ":")
	return model, method
}

func (gemini) authorize(r *http.Request, _ []byte, cfg *Config) *apiError {
	key := r.Header.Get("X-Goog-Api-Key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	if key == "" {
		key, _ = bearer(r)
	}
	switch {
	case key == "":
		return errorf(http.StatusForbidden, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
	case cfg.APIKey != "" && key != cfg.APIKey:
		return &apiError{status: http.StatusBadRequest, code: "API_KEY_INVALID", message: "API key not valid. Please pass a valid API key."}
	}
	return nil
}

type gemContent struct {
	Role  string          `json:"role"`
	Parts json.RawMessage `json:"parts"`
}

func (gemini) decode(r *http.Request, body []byte, c *call) *apiError {
	var req struct {
		Contents          []gemContent    `json:"contents"`
		SystemInstruction json.RawMessage `json:"systemInstruction"`
		Tools             []struct {
			FunctionDeclarations []struct {
				Name                 string          `json:"name"`
				Parameters           json.RawMessage `json:"parameters"`
				ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
			} `json:"functionDeclarations"`
		} `json:"tools"`
		GenerationConfig struct {
			MaxOutputTokens int `json:"maxOutputTokens"`
		} `json:"generationConfig"`
	}
	var method string
	c.model, method = geminiModel(r)
	c.stream = method == "streamGenerateContent"
	c.sse = r.URL.Query().Get("alt") == "sse"
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
	}
	c.maxTokens, c.inputBytes = req.GenerationConfig.MaxOutputTokens, len(req.SystemInstruction)
	for _, t := range req.Tools {
		if len(t.FunctionDeclarations) > 0 {
			f := t.FunctionDeclarations[0]
			schema := f.Parameters
			if len(schema) == 0 {
				schema = f.ParametersJSONSchema
			}
			c.tool = &toolSpec{name: f.Name, schema: schema}
			break
		}
	}
	for _, m := range req.Contents {
		c.inputBytes += len(m.Parts)
	}
	if len(req.Contents) == 0 {
		return errorf(http.StatusBadRequest, "* GenerateContentRequest.contents: contents is not specified\n")
	}
	if last := req.Contents[len(req.Contents)-1]; last.Role == "" || last.Role == "user" {
		c.lastUser = gemText(last.Parts)
	}
	return nil
}

// gemText is the text of a content's parts (thoughts excluded).
func gemText(raw json.RawMessage) string {
	var parts []struct {
		Text    string `json:"text"`
		Thought bool   `json:"thought"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if !p.Thought {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func gemStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable, 529:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	if status < 500 {
		return "FAILED_PRECONDITION"
	}
	return "INTERNAL"
}

func gemErrorJSON(e *apiError) []byte {
	b := append(make([]byte, 0, 128+len(e.message)), `{"error":{"code":`...)
	b = appendInt(b, e.status)
	b = append(b, `,"message":`...)
	b = appendString(b, e.message)
	b = append(b, `,"status":`...)
	b = appendString(b, gemStatus(e.status))
	if e.code != "" {
		b = append(b, `,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":`...)
		b = appendString(b, e.code)
		b = append(b, `,"domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]`...)
	}
	return append(b, "}}"...)
}

func (gemini) writeError(w http.ResponseWriter, e *apiError) {
	setRetryAfter(w.Header(), e.retryAfter, false)
	writeBody(w, e.status, "application/json; charset=UTF-8", gemErrorJSON(e))
}

func gemFinish(s llm.StopReason) string {
	switch s {
	case llm.StopLength:
		return "MAX_TOKENS"
	case llm.StopContentFilter, llm.StopRefusal:
		return "SAFETY"
	}
	return "STOP"
}

// appendGemUsage appends usageMetadata; prompt only when !final.
func appendGemUsage(b []byte, u llm.Usage, final bool) []byte {
	b = append(b, `"usageMetadata":{"promptTokenCount":`...)
	b = appendInt(b, u.Prompt())
	if final {
		b = append(b, `,"candidatesTokenCount":`...)
		b = appendInt(b, u.Output)
		b = append(b, `,"totalTokenCount":`...)
		b = appendInt(b, u.Total())
		if u.CacheRead > 0 {
			b = append(b, `,"cachedContentTokenCount":`...)
			b = appendInt(b, u.CacheRead)
		}
		if u.Reasoning > 0 {
			b = append(b, `,"thoughtsTokenCount":`...)
			b = appendInt(b, u.Reasoning)
		}
	} else {
		b = append(b, `,"totalTokenCount":`...)
		b = appendInt(b, u.Prompt())
	}
	b = append(b, `,"promptTokensDetails":[{"modality":"TEXT","tokenCount":`...)
	b = appendInt(b, u.Prompt())
	return append(b, "}]}"...)
}

// appendGemPart appends one part of block blk with the given text or
// arguments; sig adds a thoughtSignature.
func appendGemPart(b []byte, blk *block, frag, sig string) []byte {
	switch blk.kind {
	case blockThinking:
		b = append(b, `{"text":`...)
		b = appendString(b, frag)
		b = append(b, `,"thought":true`...)
	case blockText:
		b = append(b, `{"text":`...)
		b = appendString(b, frag)
	case blockTool:
		b = append(b, `{"functionCall":{"name":`...)
		b = appendString(b, blk.call.Name)
		b = append(b, `,"args":`...)
		b = appendObject(b, frag)
		b = append(b, '}')
	}
	if sig != "" {
		b = append(b, `,"thoughtSignature":`...)
		b = appendString(b, sig)
	}
	return append(b, '}')
}

// gemResponse appends one GenerateContentResponse holding parts (already
// JSON, comma-separated).
func gemResponse(b []byte, rp *reply, parts []byte, finish string, final bool) []byte {
	b = append(b, `{"candidates":[{"content":{"parts":[`...)
	b = append(b, parts...)
	b = append(b, `],"role":"model"}`...)
	if finish != "" {
		b = append(b, `,"finishReason":`...)
		b = appendString(b, finish)
	}
	b = append(b, `,"index":0}],`...)
	b = appendGemUsage(b, rp.usage, final)
	b = append(b, `,"modelVersion":`...)
	b = appendString(b, rp.model)
	b = append(b, `,"responseId":"sim`...)
	b = append(b, rp.id...)
	return append(b, `"}`...)
}

func (gemini) writeReply(w http.ResponseWriter, _ *call, rp *reply) {
	var parts []byte
	for i := range rp.blocks {
		blk := &rp.blocks[i]
		if i > 0 {
			parts = append(parts, ',')
		}
		sig := ""
		if rp.signature != "" && blk.kind != blockThinking && i > 0 && rp.blocks[i-1].kind == blockThinking {
			sig = rp.signature
		}
		frag := blk.text
		if blk.kind == blockTool {
			frag = blk.call.Arguments
		}
		parts = appendGemPart(parts, blk, frag, sig)
	}
	writeBody(w, http.StatusOK, "application/json; charset=UTF-8", gemResponse(nil, rp, parts, gemFinish(rp.stop), true))
}

// gemStream encodes streamGenerateContent: every chunk a whole
// GenerateContentResponse, as SSE "data:" events (alt=sse) or as the
// elements of one JSON array written as they come.
type gemStream struct {
	rp     *reply
	sse    bool
	n      int // chunks written
	sigOut bool
	parts  []byte
}

func (gemini) encoder(c *call, rp *reply) encoder { return &gemStream{rp: rp, sse: c.sse} }

func (e *gemStream) contentType() string {
	if e.sse {
		return "text/event-stream"
	}
	return "application/json; charset=UTF-8"
}

// chunk appends one response in the stream's framing.
func (e *gemStream) chunk(b, resp []byte) []byte {
	e.n++
	if e.sse {
		b = append(b, "data: "...)
		b = append(b, resp...)
		return append(b, "\r\n\r\n"...)
	}
	if e.n == 1 {
		b = append(b, '[')
	} else {
		b = append(b, ",\r\n"...)
	}
	var ind bytes.Buffer // the array form is pretty-printed, as Google's is
	if json.Indent(&ind, resp, "", "  ") == nil {
		return append(b, ind.Bytes()...)
	}
	return append(b, resp...)
}

func (e *gemStream) begin(b []byte) []byte             { return b }
func (e *gemStream) blockStart(b []byte, _ int) []byte { return b }
func (e *gemStream) blockStop(b []byte, _ int) []byte  { return b }

func (e *gemStream) delta(b []byte, i int, frag string) []byte {
	blk := &e.rp.blocks[i]
	sig := ""
	if e.rp.signature != "" && blk.kind != blockThinking && !e.sigOut {
		sig, e.sigOut = e.rp.signature, true
	}
	e.parts = appendGemPart(e.parts[:0], blk, frag, sig)
	return e.chunk(b, gemResponse(nil, e.rp, e.parts, "", false))
}

func (e *gemStream) end(b []byte) []byte {
	b = e.chunk(b, gemResponse(nil, e.rp, []byte(`{"text":""}`), gemFinish(e.rp.stop), true))
	if !e.sse {
		b = append(b, ']')
	}
	return b
}

func (e *gemStream) fail(b []byte, ae *apiError) []byte {
	b = e.chunk(b, gemErrorJSON(ae))
	if !e.sse {
		b = append(b, ']')
	}
	return b
}

// Embeddings and token counting.

type gemEmbedReq struct {
	Content struct {
		Parts json.RawMessage `json:"parts"`
	} `json:"content"`
	OutputDimensionality int `json:"outputDimensionality"`
}

func (gemini) decodeEmbed(r *http.Request, body []byte, ec *embedCall) *apiError {
	model, method := geminiModel(r)
	ec.model = model
	var reqs []gemEmbedReq
	if method == "batchEmbedContents" {
		var batch struct {
			Requests []gemEmbedReq `json:"requests"`
		}
		if err := json.Unmarshal(body, &batch); err != nil {
			return errorf(http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
		}
		if len(batch.Requests) == 0 {
			return errorf(http.StatusBadRequest, "* BatchEmbedContentsRequest.requests: at least one request is required\n")
		}
		reqs = batch.Requests
	} else {
		var one gemEmbedReq
		if err := json.Unmarshal(body, &one); err != nil {
			return errorf(http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
		}
		reqs = []gemEmbedReq{one}
	}
	for i, rq := range reqs {
		if len(rq.Content.Parts) == 0 {
			return errorf(http.StatusBadRequest, "* EmbedContentRequest.content: content is not specified (request "+strconv.Itoa(i)+")\n")
		}
		if rq.OutputDimensionality < 0 || rq.OutputDimensionality > maxDims {
			return errorf(http.StatusBadRequest, "* EmbedContentRequest.output_dimensionality: out of range\n")
		}
		ec.dims = rq.OutputDimensionality
		ec.inputs = append(ec.inputs, gemText(rq.Content.Parts))
		ec.inputBytes += len(rq.Content.Parts)
	}
	ec.batch = method == "batchEmbedContents"
	return nil
}

func (gemini) writeEmbed(w http.ResponseWriter, ec *embedCall, vecs [][]float32, _ int) {
	type values struct {
		Values []float32 `json:"values"`
	}
	if !ec.batch {
		writeJSON(w, http.StatusOK, map[string]any{"embedding": values{vecs[0]}})
		return
	}
	out := make([]values, len(vecs))
	for i, v := range vecs {
		out[i] = values{v}
	}
	writeJSON(w, http.StatusOK, map[string]any{"embeddings": out})
}

// geminiCount answers :countTokens with the computed prompt tokens.
func (s *Server) geminiCount(w http.ResponseWriter, r *http.Request) {
	g := gemini{}
	cfg := s.cfg.Load()
	var c call
	if !s.begin(w, r, g, g.authorize, cfg, func(body []byte) (string, bool, *apiError) {
		e := g.decode(r, body, &c)
		return c.model, false, e
	}) {
		return
	}
	n := max(1, c.inputBytes/4)
	writeJSON(w, http.StatusOK, map[string]any{"totalTokens": n,
		"promptTokensDetails": []any{map[string]any{"modality": "TEXT", "tokenCount": n}}})
}
