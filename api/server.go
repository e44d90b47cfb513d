package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/gateway"
	"github.com/circuit-breaker/circuit-breaker/api/gql"
	"github.com/circuit-breaker/circuit-breaker/api/gqlsse"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
	"github.com/circuit-breaker/circuit-breaker/api/graphiql"
	"github.com/circuit-breaker/circuit-breaker/auth"
)

// Server is the whole HTTP surface: probes, the GraphQL endpoint (HTTP,
// WebSocket, SSE and the GraphiQL IDE on /graphql) and the REST API, behind
// authentication.
type Server struct {
	handler http.Handler
	ws      *gqlws.Handler
	sse     *gqlsse.Handler
}

// NewServer builds the Server. d.Auth is required; d.Feed, when set, serves
// subscriptions instead of d.Store.
func NewServer(d Deps) (*Server, error) {
	if d.Auth == nil {
		return nil, errors.New("api: Deps.Auth is required")
	}
	rest := New(d)
	gd := gql.Deps{System: d.System, Runner: d.Runner, Store: d.Store, Feed: d.Feed, Keys: d.Keys, Logger: d.Logger}
	if d.LLM != nil {
		gd.LLM = d.LLM
	}
	schema, err := gql.New(gd)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	ide, err := graphiql.New("/graphql", "/graphql")
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	exec := executor{schema}
	init := wsInit(d.Auth)
	httpGQL := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if graphiql.WantsIDE(r) || strings.HasPrefix(r.URL.Path, "/graphql/assets/") {
			ide.ServeHTTP(w, r)
			return
		}
		schema.ServeHTTP(w, r)
	})
	sse := gqlsse.NewHandler(exec, gqlsse.Options{Init: init, Next: httpGQL, Logger: d.Logger})
	ws := gqlws.NewHandler(exec, gqlws.Options{Init: init, Next: sse, Logger: d.Logger})

	// protect puts the request's principal in its context, or refuses it.
	protect, upgrade := d.Auth.Middleware, func(h http.Handler) http.Handler { return optionalAuth(d.Auth, h) }
	if d.Auth.Mode() == auth.ModeOff {
		protect, upgrade = tenantFromHeader, tenantFromHeader
	}
	mux := http.NewServeMux()
	mux.Handle("GET /health", rest)
	mux.Handle("GET /ready", rest)
	// WebSocket upgrades authenticate in connection_init (browsers cannot
	// set headers on the handshake): the handshake itself only needs a
	// valid credential when it presents one.
	graphqlRoute, wsRoute := protect(sse), upgrade(ws)
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			wsRoute.ServeHTTP(w, r)
			return
		}
		graphqlRoute.ServeHTTP(w, r)
	})
	mux.Handle("/graphql/assets/", ide) // static, public
	// The /v1 routes authenticate themselves, to answer in the caller's
	// API format (OpenAI or Anthropic).
	who := d.Auth.Authenticate
	if d.Auth.Mode() == auth.ModeOff {
		who = func(_ context.Context, r *http.Request) (auth.Principal, error) { return headerPrincipal(r) }
	}
	authenticate := func(r *http.Request) (auth.Principal, error) { return who(r.Context(), r) }
	if d.LLM != nil {
		mux.Handle("/v1/", gateway.New(gateway.Deps{Router: d.LLM, Logger: d.Logger, Timeout: d.LLMTimeout,
			Authenticate: authenticate}))
	}
	if d.System != nil && d.System.Agents != nil {
		// An agent run's events as server-sent events.
		mux.Handle("GET /v1/agents/runs/{id}/stream", gateway.AgentStream(gateway.AgentStreamDeps{
			Runs: d.System.Agents, Authenticate: authenticate, Logger: d.Logger}))
	}
	mux.Handle("/", protect(rest))
	var h http.Handler = mux
	if d.Metrics != nil {
		mux.Handle("GET /metrics", protect(d.Metrics.Handler()))
		h = d.Metrics.Middleware(mux)
	}
	return &Server{handler: h, ws: ws, sse: sse}, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Shutdown completes the running subscriptions and closes their
// connections; call it before http.Server.Shutdown, which does not track
// WebSocket connections.
func (s *Server) Shutdown(ctx context.Context) error {
	return errors.Join(s.ws.Shutdown(ctx), s.sse.Shutdown(ctx))
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// executor runs operations of the GraphQL schema for the transports.
type executor struct{ s *gql.Schema }

func (e executor) Subscribe(ctx context.Context, req gqlws.Request) (<-chan *graphql.Response, error) {
	ch, err := e.s.Subscribe(ctx, req.Query, req.OperationName, req.Variables)
	var re *gql.RequestError
	if errors.As(err, &re) {
		return nil, &gqlws.RequestError{Errors: re.Errors}
	}
	return ch, err
}

// wsInit authenticates a WebSocket connection from its connection_init
// payload, or, without a credential there, keeps the principal of the
// handshake (or of an SSE request).
func wsInit(a *auth.Authenticator) gqlws.InitFunc {
	return func(ctx context.Context, _ *http.Request, payload map[string]any) (context.Context, error) {
		if tok := auth.TokenFromPayload(payload); tok != "" {
			p, err := a.AuthenticateToken(ctx, tok)
			if err != nil {
				return nil, authErr(err)
			}
			return auth.WithPrincipal(ctx, p), nil
		}
		if p, ok := auth.FromContext(ctx); ok && (p.Method != auth.MethodAnonymous || a.Mode() != auth.ModeRequired) {
			return ctx, nil
		}
		p, err := a.AuthenticateToken(ctx, "")
		if err != nil {
			return nil, authErr(err)
		}
		return auth.WithPrincipal(ctx, p), nil
	}
}

func authErr(err error) error {
	if errors.Is(err, auth.ErrUnauthenticated) {
		return fmt.Errorf("%w: %w", gqlws.ErrUnauthenticated, err)
	}
	return err
}

// optionalAuth authenticates a request that presents a credential and lets
// one without a credential through as anonymous (its connection_init must
// then authenticate it when authentication is required).
func optionalAuth(a *auth.Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.Anonymous()
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "" {
			var err error
			if p, err = a.Authenticate(r.Context(), r); err != nil {
				auth.WriteError(w, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// tenantFromHeader lets a request name its tenant with X-Tenant while
// authentication is off (the loopback default), for local development.
// With authentication on, the tenant is always the credential's.
func tenantFromHeader(next http.Handler) http.Handler {
	errs := &handler{log: slog.Default()}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := headerPrincipal(r)
		if err != nil {
			errs.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}
