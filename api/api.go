package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api/gateway"
	"github.com/circuit-breaker/circuit-breaker/api/gql"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/metrics"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

// DefaultTenant is the tenant of a request without an X-Tenant header
// while authentication is off.
const DefaultTenant = auth.DefaultTenant

// TenantHeader names the tenant a request acts for.
const TenantHeader = "X-Tenant"

// Deps are what the API serves from.
type Deps struct {
	// System executes commands and answers strongly consistent reads.
	System *actors.System
	// Runner feeds the projections that lists and histories are read from.
	Runner *projections.Runner
	// Store is read by the event feed.
	Store events.Store
	// Logger receives request failures; nil uses slog.Default().
	Logger *slog.Logger
	// ReadYourWritesTimeout bounds how long a history read waits for the
	// projections to include the resource's last event (default 2s).
	ReadYourWritesTimeout time.Duration

	// Auth decides who a request is (NewServer only).
	Auth *auth.Authenticator
	// Keys manages API keys through GraphQL; nil disables those operations.
	Keys *auth.Keys
	// Feed serves subscriptions and event tails; nil means Store.
	Feed gql.Feed
	// LLM routes the OpenAI- and Anthropic-compatible /v1 routes and the
	// GraphQL LLM operations (NewServer only); nil disables them.
	LLM LLMRouter
	// LLMTimeout bounds a non-streamed LLM call; 0 means none.
	LLMTimeout time.Duration
	// Metrics, when set, counts requests and serves GET /metrics
	// (NewServer only).
	Metrics *metrics.Metrics
}

// LLMRouter is the LLM router as the API uses it; *router.Router
// implements it.
type LLMRouter interface {
	gateway.Router
	gql.LLM
}

type handler struct {
	sys    *actors.System
	runner *projections.Runner
	views  *projections.Views
	store  events.Store
	feed   gql.Feed // follows the log for event tails
	log    *slog.Logger
	ryw    time.Duration
}

// New returns the API's handler. It starts no goroutines: the caller runs
// the Runner and owns the System and Store.
func New(d Deps) http.Handler {
	h := &handler{sys: d.System, runner: d.Runner, views: d.Runner.Views(), store: d.Store, feed: d.Feed, log: d.Logger, ryw: d.ReadYourWritesTimeout}
	if h.feed == nil {
		h.feed = d.Store
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.ryw <= 0 {
		h.ryw = 2 * time.Second
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", h.health)
	mux.HandleFunc("GET /ready", h.ready)

	mux.HandleFunc("POST /api/v1/workflows", h.createWorkflow)
	mux.HandleFunc("GET /api/v1/workflows", h.listWorkflows)
	mux.HandleFunc("GET /api/v1/workflows/{id}", h.getWorkflow)
	mux.HandleFunc("PUT /api/v1/workflows/{id}", h.putWorkflow)

	mux.HandleFunc("POST /api/v1/resources", h.createResource)
	mux.HandleFunc("GET /api/v1/resources", h.listResources)
	mux.HandleFunc("GET /api/v1/resources/{id}", h.getResource)
	mux.HandleFunc("GET /api/v1/resources/{id}/history", h.history)
	mux.HandleFunc("POST /api/v1/resources/{id}/activities/{activity}", h.fire)

	mux.HandleFunc("GET /api/v1/events", h.events)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, &notFoundError{r.Method + " " + r.URL.Path})
	})
	return mux
}

// notFoundError is an unknown route.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string { return "no route for " + e.what }
func (e *notFoundError) Is(t error) bool {
	return t == actors.ErrNotFound
}

func (h *handler) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *handler) ready(w http.ResponseWriter, _ *http.Request) {
	if !h.runner.CaughtUp() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{
			"status": "unavailable",
			"reason": "projections are catching up with the event log",
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// caller returns who a request acts for: the principal that
// authentication put in its context. Without one (the REST handler used on
// its own, as in tests), the principal is the X-Tenant header's.
func caller(r *http.Request) (actors.Caller, error) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		var err error
		if p, err = headerPrincipal(r); err != nil {
			return actors.Caller{}, err
		}
	}
	return actors.Caller{Tenant: p.Tenant, Actor: p.Subject}, nil
}

// headerPrincipal is the anonymous principal of the tenant named by the
// X-Tenant header (the default tenant without one).
func headerPrincipal(r *http.Request) (auth.Principal, error) {
	p := auth.Anonymous()
	t := r.Header.Get(TenantHeader)
	if t == "" {
		return p, nil
	}
	if err := auth.ValidTenant(t); err != nil {
		return auth.Principal{}, badRequest(TenantHeader+": "+err.Error(), Problem{Path: TenantHeader, Msg: "invalid tenant"})
	}
	p.Tenant = t
	return p, nil
}
