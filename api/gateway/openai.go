package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/openai"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

type openAIFormat struct{}

func (openAIFormat) encodeError(e *llm.Error) []byte { return openai.EncodeError(e) }

var openAI format = openAIFormat{}

// chatCompletions serves POST /v1/chat/completions.
func (g *gateway) chatCompletions(w http.ResponseWriter, r *http.Request) {
	who, ok := g.caller(w, r, openAI)
	if !ok {
		return
	}
	body, lerr := g.body(w, r)
	if lerr != nil {
		g.fail(w, r, openAI, lerr)
		return
	}
	req, opts, err := openai.DecodeRequest(body)
	if err != nil {
		g.fail(w, r, openAI, llm.AsError(err))
		return
	}
	if who.User == "" {
		who.User = req.User
	}
	if req.Stream {
		g.streamOpenAI(w, r, req, opts, who)
		return
	}
	ctx, cancel := g.withTimeout(r.Context())
	defer cancel()
	resp, call, err := g.Router.Chat(ctx, req, who)
	routeHeaders(w.Header(), call, err == nil)
	if err != nil {
		g.fail(w, r, openAI, llm.AsError(err))
		return
	}
	writeJSON(w, http.StatusOK, openai.EncodeResponse(resp, req.Model, time.Now().Unix()))
}

func (g *gateway) streamOpenAI(w http.ResponseWriter, r *http.Request, req *llm.Request, opts *openai.ServeOptions, who router.Caller) {
	s, call, err := g.Router.Stream(r.Context(), req, who)
	routeHeaders(w.Header(), call, false)
	if err != nil {
		g.fail(w, r, openAI, llm.AsError(err))
		return
	}
	defer s.Close()
	sw := openai.NewStreamWriter(w, openai.StreamOptions{Model: req.Model, Created: time.Now().Unix(), IncludeUsage: opts != nil && opts.IncludeUsage})
	pipe(w, s, sw.Write, func(e *llm.Error) error { return sw.WriteError(e) }, sw.Done)
}

// writeEvent writes one event in the caller's format.
type writeEvent func(llm.Event) error

// pipe sends the stream's events to the caller, flushing each one. A
// stream error after the headers is written in the format's mid-stream
// error form; a write error (the caller went away) ends the copy, and the
// caller's deferred Close cancels the upstream call.
func pipe(w http.ResponseWriter, s llm.Stream, write writeEvent, writeErr func(*llm.Error) error, done func() error) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for {
		ev, err := s.Recv()
		if err == io.EOF {
			if done() == nil {
				_ = rc.Flush()
			}
			return
		}
		if err != nil {
			if writeErr(llm.AsError(err)) == nil {
				_ = rc.Flush()
			}
			return
		}
		if err := write(ev); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// models serves GET /v1/models.
func (g *gateway) models(w http.ResponseWriter, r *http.Request) {
	who, ok := g.caller(w, r, openAI)
	if !ok {
		return
	}
	infos := g.Router.ModelsFor(who.Tenant)
	ms := make([]openai.Model, len(infos))
	for i, m := range infos {
		ms[i] = openai.Model{ID: m.ID, OwnedBy: m.OwnedBy}
	}
	writeJSON(w, http.StatusOK, openai.EncodeModels(ms))
}

// model serves GET /v1/models/{model}.
func (g *gateway) model(w http.ResponseWriter, r *http.Request) {
	who, ok := g.caller(w, r, openAI)
	if !ok {
		return
	}
	id := r.PathValue("model")
	for _, m := range g.Router.ModelsFor(who.Tenant) {
		if m.ID == id {
			b, _ := json.Marshal(struct {
				ID      string `json:"id"`
				Object  string `json:"object"`
				Created int64  `json:"created"`
				OwnedBy string `json:"owned_by"`
			}{m.ID, "model", 0, m.OwnedBy})
			writeJSON(w, http.StatusOK, b)
			return
		}
	}
	g.fail(w, r, openAI, llm.Errorf(llm.KindNotFound, "model %q does not exist", id))
}

// embeddings serves POST /v1/embeddings.
func (g *gateway) embeddings(w http.ResponseWriter, r *http.Request) {
	who, ok := g.caller(w, r, openAI)
	if !ok {
		return
	}
	body, lerr := g.body(w, r)
	if lerr != nil {
		g.fail(w, r, openAI, lerr)
		return
	}
	req, opts, err := openai.DecodeEmbedRequest(body)
	if err != nil {
		g.fail(w, r, openAI, llm.AsError(err))
		return
	}
	if who.User == "" {
		who.User = req.User
	}
	ctx, cancel := g.withTimeout(r.Context())
	defer cancel()
	resp, call, err := g.Router.Embed(ctx, req, who)
	routeHeaders(w.Header(), call, err == nil)
	if err != nil {
		g.fail(w, r, openAI, llm.AsError(err))
		return
	}
	writeJSON(w, http.StatusOK, openai.EncodeEmbeddings(resp, req.Model, opts))
}
