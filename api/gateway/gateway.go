package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// Header names set on responses and read from requests.
const (
	HeaderCallID     = "X-Circuit-Breaker-Call-Id"
	HeaderProvider   = "X-Circuit-Breaker-Provider"
	HeaderDeployment = "X-Circuit-Breaker-Deployment"
	HeaderModel      = "X-Circuit-Breaker-Model"
	HeaderAttempts   = "X-Circuit-Breaker-Attempts"
	HeaderAddedMs    = "X-Circuit-Breaker-Added-Ms"
	HeaderCost       = "X-Circuit-Breaker-Cost-Usd"
	HeaderUser       = "X-Circuit-Breaker-User"
	HeaderProject    = "X-Circuit-Breaker-Project"
)

// DefaultMaxBody bounds a request body (images inline make bodies large).
const DefaultMaxBody = 32 << 20

// Router routes calls; *router.Router implements it.
type Router interface {
	Chat(ctx context.Context, req *llm.Request, who router.Caller) (*llm.Response, *router.Call, error)
	Stream(ctx context.Context, req *llm.Request, who router.Caller) (llm.Stream, *router.Call, error)
	Embed(ctx context.Context, req *llm.EmbedRequest, who router.Caller) (*llm.EmbedResponse, *router.Call, error)
	// ModelsFor lists the models a tenant may call.
	ModelsFor(tenant string) []router.ModelInfo
}

// Deps are what the gateway serves from.
type Deps struct {
	Router Router
	// Authenticate says who a request is; its errors are answered 401 (or
	// 400 for a malformed tenant header) in the caller's format.
	Authenticate func(*http.Request) (auth.Principal, error)
	// MaxBody bounds request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// Timeout bounds a non-streamed call; 0 means none beyond the client's.
	Timeout time.Duration
	Logger  *slog.Logger
}

type gateway struct {
	Deps
}

// New returns the handler of the /v1 routes.
func New(d Deps) http.Handler {
	if d.MaxBody <= 0 {
		d.MaxBody = DefaultMaxBody
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	g := &gateway{d}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", g.chatCompletions)
	mux.HandleFunc("POST /v1/embeddings", g.embeddings)
	mux.HandleFunc("GET /v1/models", g.models)
	mux.HandleFunc("GET /v1/models/{model...}", g.model)
	mux.HandleFunc("POST /v1/messages", g.messages)
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		g.fail(w, r, openAI, llm.Errorf(llm.KindNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// format is a caller's API format: how its errors are written.
type format interface {
	encodeError(*llm.Error) []byte
}

// caller authenticates r and returns who it is, or writes the error.
func (g *gateway) caller(w http.ResponseWriter, r *http.Request, f format) (router.Caller, bool) {
	p, err := g.Authenticate(r)
	if err != nil {
		e := llm.Errorf(llm.KindAuthentication, "%s", err.Error())
		var le *llm.Error
		switch status, _, ok := auth.Status(err); {
		case errors.As(err, &le):
			e = le
		case ok && status == http.StatusForbidden:
			e = llm.Errorf(llm.KindPermission, "%s", err.Error())
		case ok && status == http.StatusServiceUnavailable:
			e = &llm.Error{Kind: llm.KindInternal, Status: status, Message: err.Error()}
		case !ok:
			e = llm.Errorf(llm.KindInvalidRequest, "%s", err.Error())
		}
		if e.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="circuit-breaker"`)
		}
		g.fail(w, r, f, e)
		return router.Caller{}, false
	}
	return Caller(p, r.Header.Get(HeaderUser), r.Header.Get(HeaderProject)), true
}

// Caller is who an LLM call of principal p is recorded for: its tenant, its
// API key, and the end user and project the request names (a JWT's subject
// is the user when the request names none).
func Caller(p auth.Principal, user, project string) router.Caller {
	if user == "" && p.Method == auth.MethodJWT {
		user = p.Subject
	}
	return router.Caller{Tenant: p.Tenant, KeyID: p.KeyID(), User: user, Project: project}
}

// body reads the request body, bounded by MaxBody.
func (g *gateway) body(w http.ResponseWriter, r *http.Request) ([]byte, *llm.Error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, llm.Errorf(llm.KindTooLarge, "request body is larger than %d bytes", g.MaxBody)
		}
		return nil, llm.Errorf(llm.KindInvalidRequest, "reading the request body: %v", err)
	}
	if len(b) == 0 {
		return nil, llm.Errorf(llm.KindInvalidRequest, "request body is empty: expected a JSON object")
	}
	return b, nil
}

// fail writes e in the caller's format. Errors of ours are logged; their
// message reaches the caller as it is (it holds no secrets).
func (g *gateway) fail(w http.ResponseWriter, r *http.Request, f format, e *llm.Error) {
	if e.Fault() == llm.FaultOurs {
		g.Logger.Error("llm gateway error", "method", r.Method, "path", r.URL.Path, "err", e)
	}
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if e.Kind == llm.KindRateLimit && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	if e.Kind == llm.KindCancelled {
		return // nobody is listening
	}
	writeJSON(w, status, f.encodeError(e))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// routeHeaders sets the headers known once a call was routed.
func routeHeaders(h http.Header, c *router.Call, withCost bool) {
	if c == nil {
		return
	}
	h.Set(HeaderCallID, c.ID)
	if c.Provider != "" {
		h.Set(HeaderProvider, c.Provider)
	}
	if c.Deployment != "" {
		h.Set(HeaderDeployment, c.Deployment)
	}
	if c.Model != "" {
		h.Set(HeaderModel, c.Model)
	}
	h.Set(HeaderAttempts, strconv.Itoa(len(c.Route)))
	h.Set(HeaderAddedMs, strconv.FormatFloat(float64(c.AddedTime)/float64(time.Millisecond), 'f', 3, 64))
	if withCost {
		if c.Priced {
			// Rounded to a millionth of a cent: float sums of token prices
			// carry noise in the last digits.
			h.Set(HeaderCost, strconv.FormatFloat(math.Round(c.CostUSD*1e8)/1e8, 'f', -1, 64))
		} else {
			h.Set(HeaderCost, "unpriced")
		}
	}
}

// withTimeout bounds a non-streamed call.
func (g *gateway) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if g.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, g.Timeout)
}
