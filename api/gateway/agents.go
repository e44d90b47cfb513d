package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

// AgentRuns is what the run stream route reads; *actors.Agents implements
// it.
type AgentRuns interface {
	Watch(ctx context.Context, c actors.Caller, runID string) (<-chan actors.RunEvent, error)
}

var _ AgentRuns = (*actors.Agents)(nil)

// AgentStreamDeps are what the run stream route serves from.
type AgentStreamDeps struct {
	Runs AgentRuns
	// Authenticate says who a request is, as for the LLM routes; its
	// errors are answered in OpenAI's format.
	Authenticate func(*http.Request) (auth.Principal, error)
	// KeepAlive is the interval of the comment lines that keep an idle
	// stream open through proxies; 0 means DefaultKeepAlive.
	KeepAlive time.Duration
	Logger    *slog.Logger
}

// DefaultKeepAlive is the interval of an agent run stream's keep-alive
// comments.
const DefaultKeepAlive = 15 * time.Second

// RunEvent is the data of one event of an agent run stream: the run's id
// and an actors.RunEvent (type, step, text, tool call, result, the run's
// view on STARTED, WAITING, ANSWERED and the terminal events, and the log
// position of a journaled event).
type RunEvent struct {
	RunID string `json:"runId"`
	actors.RunEvent
}

// AgentStream returns the handler of GET /v1/agents/runs/{id}/stream: the
// run's events as server-sent events, from the run's start (its journaled
// events replayed, then live ones with token deltas), ending after its
// terminal event (COMPLETED, FAILED or CANCELLED). Each event is
//
//	id: <log position>      journaled events only
//	event: <type>           STARTED, TOKEN, THINKING, MODEL_CALLED, TOOL_CALL,
//	                        TOOL_RESULT, WAITING, ANSWERED, COMPLETED, FAILED
//	                        or CANCELLED
//	data: <RunEvent JSON>
//
// A client that reconnects with Last-Event-ID gets the journaled events
// after that position (the TOOL_CALL events of a model call share its
// position) and the live deltas from then on. Comment lines keep an idle
// stream open. Errors before the stream starts are OpenAI-shaped JSON: 401
// without a valid credential, 404 for a run the caller's tenant does not
// have. The watch ends when the client goes away.
func AgentStream(d AgentStreamDeps) http.Handler {
	if d.KeepAlive <= 0 {
		d.KeepAlive = DefaultKeepAlive
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	g := &gateway{Deps{Authenticate: d.Authenticate, Logger: d.Logger}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.agentStream(w, r, d) })
}

func (g *gateway) agentStream(w http.ResponseWriter, r *http.Request, d AgentStreamDeps) {
	who, ok := g.caller(w, r, openAI)
	if !ok {
		return
	}
	var after uint64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			g.fail(w, r, openAI, llm.Errorf(llm.KindInvalidRequest, "Last-Event-ID: want the log position of an event, got %q", v))
			return
		}
		after = n
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel() // ends the watch once the stream ends or the client goes away
	runID := r.PathValue("id")
	ch, err := d.Runs.Watch(ctx, actors.Caller{Tenant: who.Tenant}, runID)
	if err != nil {
		g.fail(w, r, openAI, runError(err, runID))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(d.KeepAlive)
	defer tick.Stop()
	var buf []byte
	for {
		select {
		case ev, open := <-ch:
			if !open {
				return
			}
			if ev.Position != 0 && ev.Position <= after {
				continue
			}
			data, err := json.Marshal(RunEvent{RunID: runID, RunEvent: ev})
			if err != nil {
				g.Logger.Error("encoding an agent run event", "run", runID, "err", err)
				return
			}
			buf = buf[:0]
			if ev.Position != 0 {
				buf = strconv.AppendUint(append(buf, "id: "...), ev.Position, 10)
				buf = append(buf, '\n')
			}
			buf = sse.Append(buf, ev.Type, data)
			if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
				return
			}
		case <-tick.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// runError turns a Watch error into an API error in the router's terms.
func runError(err error, runID string) *llm.Error {
	var le *llm.Error
	if errors.As(err, &le) {
		return le
	}
	switch status, code, _ := apierr.Classify(err); code {
	case apierr.CodeNotFound:
		return llm.Errorf(llm.KindNotFound, "agent run %q does not exist", runID)
	case apierr.CodeBadRequest, apierr.CodeValidation:
		return llm.Errorf(llm.KindInvalidRequest, "%s", err.Error())
	case apierr.CodeUnavailable:
		return &llm.Error{Kind: llm.KindOverloaded, Status: status, Message: "the server is not available: retry", Err: err}
	}
	return &llm.Error{Kind: llm.KindInternal, Status: http.StatusInternalServerError, Message: "internal error", Err: err}
}
