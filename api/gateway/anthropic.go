package gateway

import (
	"net/http"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/anthropic"
)

type anthropicFormat struct{}

func (anthropicFormat) encodeError(e *llm.Error) []byte { return anthropic.EncodeError(e) }

var anthropicAPI format = anthropicFormat{}

// messages serves Anthropic's POST /v1/messages.
func (g *gateway) messages(w http.ResponseWriter, r *http.Request) {
	who, ok := g.caller(w, r, anthropicAPI)
	if !ok {
		return
	}
	body, lerr := g.body(w, r)
	if lerr != nil {
		g.fail(w, r, anthropicAPI, lerr)
		return
	}
	req, err := anthropic.DecodeRequest(body)
	if err != nil {
		g.fail(w, r, anthropicAPI, llm.AsError(err))
		return
	}
	if who.User == "" {
		who.User = req.User
	}
	if !req.Stream {
		ctx, cancel := g.withTimeout(r.Context())
		defer cancel()
		resp, call, err := g.Router.Chat(ctx, req, who)
		routeHeaders(w.Header(), call, err == nil)
		if err != nil {
			g.fail(w, r, anthropicAPI, llm.AsError(err))
			return
		}
		writeJSON(w, http.StatusOK, anthropic.EncodeResponse(resp, req.Model))
		return
	}
	s, call, err := g.Router.Stream(r.Context(), req, who)
	routeHeaders(w.Header(), call, false)
	if err != nil {
		g.fail(w, r, anthropicAPI, llm.AsError(err))
		return
	}
	defer s.Close()
	sw := anthropic.NewStreamWriter(w, anthropic.StreamOptions{Model: req.Model})
	pipe(w, s, sw.Write, sw.WriteError, sw.Finish)
}
