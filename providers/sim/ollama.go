package sim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// ollama is Ollama's native API: NDJSON streams by default.
type ollama struct{}

func (ollama) name() string { return "ollama" }
func (ollama) caps() caps   { return caps{thinking: true, wholeArgs: true, idPrefix: "call_sim"} }

// authorize accepts anything unless a key is configured, which must then
// come as a bearer token (as with Ollama behind a proxy or Ollama's cloud).
func (ollama) authorize(r *http.Request, _ []byte, cfg *Config) *apiError {
	if cfg.APIKey == "" {
		return nil
	}
	if key, _ := bearer(r); key != cfg.APIKey {
		return errorf(http.StatusUnauthorized, "unauthorized")
	}
	return nil
}

func (ollama) decode(_ *http.Request, body []byte, c *call) *apiError {
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Stream  *bool `json:"stream"`
		Options struct {
			NumPredict int `json:"num_predict"`
		} `json:"options"`
		Tools []struct {
			Function struct {
				Name       string          `json:"name"`
				Parameters json.RawMessage `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	c.model, c.stream, c.maxTokens = req.Model, req.Stream == nil || *req.Stream, req.Options.NumPredict
	if len(req.Tools) > 0 {
		c.tool = &toolSpec{name: req.Tools[0].Function.Name, schema: req.Tools[0].Function.Parameters}
	}
	for _, m := range req.Messages {
		c.inputBytes += len(m.Content)
	}
	if c.model == "" {
		return errorf(http.StatusBadRequest, "model is required")
	}
	if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == "user" {
		c.lastUser = contentText(req.Messages[n-1].Content)
	}
	return nil
}

func ollErrorJSON(e *apiError) []byte {
	b := append(make([]byte, 0, 16+len(e.message)), `{"error":`...)
	b = appendString(b, e.message)
	return append(b, '}')
}

func (ollama) writeError(w http.ResponseWriter, e *apiError) {
	setRetryAfter(w.Header(), e.retryAfter, false)
	writeBody(w, e.status, "application/json; charset=utf-8", ollErrorJSON(e))
}

func ollDone(s llm.StopReason) string {
	if s == llm.StopLength {
		return "length"
	}
	return "stop"
}

// ollHead appends an object's opening: model and created_at.
func ollHead(b []byte, rp *reply) []byte {
	b = append(b, `{"model":`...)
	b = appendString(b, rp.model)
	b = append(b, `,"created_at":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, `","message":{"role":"assistant","content":`...)
}

// appendOllCall appends one tool call.
func appendOllCall(b []byte, blk *block) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, blk.call.ID)
	b = append(b, `,"function":{"index":`...)
	b = appendInt(b, blk.tool)
	b = append(b, `,"name":`...)
	b = appendString(b, blk.call.Name)
	b = append(b, `,"arguments":`...)
	b = appendObject(b, blk.call.Arguments)
	return append(b, "}}"...)
}

// ollFinal appends the closing fields: done, done_reason, counts and
// durations in nanoseconds.
func ollFinal(b []byte, rp *reply) []byte {
	u := rp.usage
	b = append(b, `,"done":true,"done_reason":`...)
	b = appendString(b, ollDone(rp.stop))
	b = append(b, `,"total_duration":`...)
	b = strconv.AppendInt(b, max(int64(time.Since(rp.start)), 1), 10)
	b = append(b, `,"load_duration":1000000,"prompt_eval_count":`...)
	b = appendInt(b, u.Prompt())
	b = append(b, `,"prompt_eval_duration":`...)
	b = appendInt(b, u.Prompt()*100000)
	b = append(b, `,"eval_count":`...)
	b = appendInt(b, u.Completion())
	b = append(b, `,"eval_duration":`...)
	b = appendInt(b, u.Completion()*1000000)
	return append(b, '}')
}

func (ollama) writeReply(w http.ResponseWriter, _ *call, rp *reply) {
	b := ollHead(make([]byte, 0, 512), rp)
	b = appendString(b, rp.text())
	if t := rp.thinking(); t != "" {
		b = append(b, `,"thinking":`...)
		b = appendString(b, t)
	}
	if rp.hasTools() {
		b = append(b, `,"tool_calls":[`...)
		n := 0
		for i := range rp.blocks {
			if rp.blocks[i].kind == blockTool {
				if n > 0 {
					b = append(b, ',')
				}
				b = appendOllCall(b, &rp.blocks[i])
				n++
			}
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	b = ollFinal(b, rp)
	writeBody(w, http.StatusOK, "application/json; charset=utf-8", b)
}

// ollStream encodes an NDJSON stream: one object per line, the last with
// done true.
type ollStream struct{ rp *reply }

func (ollama) encoder(_ *call, rp *reply) encoder { return &ollStream{rp: rp} }

func (e *ollStream) contentType() string               { return "application/x-ndjson" }
func (e *ollStream) begin(b []byte) []byte             { return b }
func (e *ollStream) blockStart(b []byte, _ int) []byte { return b }
func (e *ollStream) blockStop(b []byte, _ int) []byte  { return b }
func (e *ollStream) fail(b []byte, ae *apiError) []byte {
	return append(append(b, ollErrorJSON(ae)...), '\n')
}
func (e *ollStream) delta(b []byte, i int, frag string) []byte {
	blk := &e.rp.blocks[i]
	b = ollHead(b, e.rp)
	switch blk.kind {
	case blockThinking:
		b = append(b, `"","thinking":`...)
		b = appendString(b, frag)
	case blockText:
		b = appendString(b, frag)
	case blockTool:
		b = append(b, `"","tool_calls":[`...)
		b = appendOllCall(b, blk)
		b = append(b, ']')
	}
	return append(b, "},\"done\":false}\n"...)
}

func (e *ollStream) end(b []byte) []byte {
	b = ollHead(b, e.rp)
	b = append(b, `""}`...)
	b = ollFinal(b, e.rp)
	return append(b, '\n')
}

// Embeddings and models.

func (ollama) decodeEmbed(_ *http.Request, body []byte, ec *embedCall) *apiError {
	var req struct {
		Model      string          `json:"model"`
		Input      json.RawMessage `json:"input"`
		Dimensions int             `json:"dimensions"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	ec.model, ec.dims, ec.inputBytes = req.Model, req.Dimensions, len(req.Input)
	var ok bool
	ec.inputs, ok = embedInputs(req.Input)
	switch {
	case ec.model == "":
		return errorf(http.StatusBadRequest, "model is required")
	case !ok:
		return errorf(http.StatusBadRequest, "invalid input type")
	case req.Dimensions < 0 || req.Dimensions > maxDims:
		return errorf(http.StatusBadRequest, "dimensions out of range")
	}
	return nil
}

func (ollama) writeEmbed(w http.ResponseWriter, ec *embedCall, vecs [][]float32, tokens int) {
	writeJSON(w, http.StatusOK, map[string]any{"model": ec.model, "embeddings": vecs,
		"total_duration": 1000000, "load_duration": 100000, "prompt_eval_count": tokens})
}

// ollamaTags answers GET /api/tags: a few well-known models and every
// scripted one.
func (s *Server) ollamaTags(w http.ResponseWriter, r *http.Request) {
	cfg := s.cfg.Load()
	if e := (ollama{}).authorize(r, nil, cfg); e != nil {
		(ollama{}).writeError(w, e)
		return
	}
	names := []string{"llama3.2:latest", "nomic-embed-text:latest"}
	s.mu.Lock()
	for m := range s.scripts {
		if m != "*" && !slices.Contains(names, m) {
			names = append(names, m)
		}
	}
	s.mu.Unlock()
	slices.Sort(names)
	models := make([]map[string]any, len(names))
	for i, n := range names {
		models[i] = map[string]any{"name": n, "model": n, "modified_at": "2025-01-01T00:00:00Z", "size": 2019393189,
			"digest": "sim" + strconv.Itoa(i), "details": map[string]any{"parent_model": "", "format": "gguf",
				"family": "llama", "families": []string{"llama"}, "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": models})
}
