package sim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// decodeFunc reads a chat request's body into c.
type decodeFunc func(r *http.Request, body []byte, c *call) *apiError

// authFunc checks a request's credentials.
type authFunc func(r *http.Request, body []byte, cfg *Config) *apiError

// embedCall is what an embedding request asked for.
type embedCall struct {
	model      string
	inputs     []string
	dims       int
	base64     bool // OpenAI encoding_format "base64"
	batch      bool // Gemini batchEmbedContents
	inputBytes int
}

// embedWriter answers an embedding request.
type embedWriter func(w http.ResponseWriter, ec *embedCall, vecs [][]float32, tokens int)

// embedDecodeFunc reads an embedding request's body into ec.
type embedDecodeFunc func(r *http.Request, body []byte, ec *embedCall) *apiError

func (s *Server) routes() {
	oai, az := &openAI{}, &openAI{azure: true}
	ant, bed, coh, oll := anthropic{}, bedrock{}, cohere{}, ollama{}
	m := s.mux
	m.Handle("POST /v1/chat/completions", s.chat(oai, oai.authorize, oai.decode))
	m.Handle("POST /v1/embeddings", s.embed(oai, oai.authorize, oai.decodeEmbed, oai.writeEmbed))
	m.HandleFunc("GET /v1/models", s.openAIModels)
	m.Handle("POST /openai/deployments/{deployment}/chat/completions", s.chat(az, az.authorize, az.decode))
	m.Handle("POST /openai/deployments/{deployment}/embeddings", s.embed(az, az.authorize, az.decodeEmbed, az.writeEmbed))
	m.Handle("POST /v1/messages", s.chat(ant, ant.authorize, ant.decode))
	gem := s.geminiRoutes()
	m.HandleFunc("POST /v1beta/models/{call}", gem)
	m.HandleFunc("POST /v1/models/{call}", gem)
	m.Handle("POST /model/{model}/converse", s.chat(bed, bed.authorize, bed.decode(false)))
	m.Handle("POST /model/{model}/converse-stream", s.chat(bed, bed.authorize, bed.decode(true)))
	m.Handle("POST /v2/chat", s.chat(coh, coh.authorize, coh.decode))
	m.Handle("POST /v2/embed", s.embed(coh, coh.authorize, coh.decodeEmbed, coh.writeEmbed))
	m.Handle("POST /api/chat", s.chat(oll, oll.authorize, oll.decode))
	m.Handle("POST /api/embed", s.embed(oll, oll.authorize, oll.decodeEmbed, oll.writeEmbed))
	m.HandleFunc("GET /api/tags", s.ollamaTags)
	s.controlRoutes()
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Time: time.Now()}, s.cfg.Load().logLimit())
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{
			"message": "sim: no route for " + r.Method + " " + r.URL.Path, "type": "not_found"}})
	})
}

// begin reads a request's body, decodes it, logs it and checks its
// credentials. It returns false after answering with an error.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, d dialect, auth authFunc, cfg *Config,
	decode func(body []byte) (model string, stream bool, e *apiError)) bool {
	now := time.Now()
	body, err := readBody(w, r)
	var derr *apiError
	var model string
	var stream bool
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			derr = errorf(http.StatusRequestEntityTooLarge, "request body too large")
		} else {
			derr = errorf(http.StatusBadRequest, "could not read the request body: "+err.Error())
		}
	} else {
		model, stream, derr = decode(body)
	}
	s.record(Request{Format: d.name(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Model: model,
		Stream: stream, Header: r.Header.Clone(), Body: body, Time: now}, cfg.logLimit())
	if e := auth(r, body, cfg); e != nil {
		d.writeError(w, e)
		return false
	}
	if derr != nil {
		d.writeError(w, derr)
		return false
	}
	return sleep(r.Context(), cfg.Latency)
}

// chat serves a chat endpoint of a format.
func (s *Server) chat(d dialect, auth authFunc, decode decodeFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := s.cfg.Load()
		var c call
		ok := s.begin(w, r, d, auth, cfg, func(body []byte) (string, bool, *apiError) {
			e := decode(r, body, &c)
			return c.model, c.stream, e
		})
		if ok {
			s.serveChat(w, r, d, &c, cfg)
		}
	})
}

// embed serves an embedding endpoint of a format. A step scripted for the
// model answers with its Status, Delay and Hang; its content is ignored.
func (s *Server) embed(d dialect, auth authFunc, decode embedDecodeFunc, write embedWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := s.cfg.Load()
		var ec embedCall
		if !s.begin(w, r, d, auth, cfg, func(body []byte) (string, bool, *apiError) {
			e := decode(r, body, &ec)
			return ec.model, false, e
		}) {
			return
		}
		s.serveEmbed(w, r, d, &ec, cfg, write)
	})
}

func (s *Server) serveEmbed(w http.ResponseWriter, r *http.Request, d dialect, ec *embedCall, cfg *Config, write embedWriter) {
	if st := s.roll(cfg); st != 0 {
		e := errorf(st, defaultMessage(st))
		if st == http.StatusTooManyRequests {
			e.retryAfter = max(cfg.RetryAfter, time.Second)
		}
		d.writeError(w, e)
		return
	}
	if st, ok := s.next(ec.model); ok {
		if !sleep(r.Context(), st.Delay) {
			return
		}
		if st.Hang {
			<-r.Context().Done()
			return
		}
		if st.Status != 0 {
			msg := st.ErrorMessage
			if msg == "" {
				msg = defaultMessage(st.Status)
			}
			d.writeError(w, &apiError{status: st.Status, message: msg, retryAfter: st.RetryAfter})
			return
		}
	}
	dims := ec.dims
	if dims <= 0 {
		dims = defaultDims
	}
	vecs := make([][]float32, len(ec.inputs))
	for i, in := range ec.inputs {
		vecs[i] = vector(cfg.Seed, in, dims)
	}
	write(w, ec, vecs, max(1, ec.inputBytes/4))
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "sim: encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, "application/json", b)
}

// writeBody answers with a body of the given type.
func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:]), true
	}
	return "", false
}

// contentText reads the text of a message content that is a string or a
// list of blocks with "text" fields.
func contentText(raw json.RawMessage) string {
	raw = trimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return ""
	}
	var b strings.Builder
	for _, bl := range blocks {
		if bl.Type == "" || bl.Type == "text" {
			b.WriteString(bl.Text)
		}
	}
	return b.String()
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// embedInputs reads an embedding input that is a string or a list of
// strings; token arrays are kept as their JSON text.
func embedInputs(raw json.RawMessage) ([]string, bool) {
	raw = trimSpace(raw)
	if len(raw) == 0 {
		return nil, false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return []string{s}, true
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return nil, false
	}
	if b := trimSpace(list[0]); len(b) > 0 && b[0] != '"' && b[0] != '[' { // one token array
		return []string{string(raw)}, true
	}
	out := make([]string, len(list))
	for i, el := range list {
		el = trimSpace(el)
		if len(el) > 0 && el[0] == '"' {
			if json.Unmarshal(el, &out[i]) != nil {
				return nil, false
			}
			continue
		}
		out[i] = string(el)
	}
	return out, true
}
