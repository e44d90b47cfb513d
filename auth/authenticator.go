package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Mode says which requests must authenticate.
type Mode string

// The modes of an Authenticator.
const (
	// ModeOff runs every request as Anonymous(), credentials or not.
	ModeOff Mode = "off"
	// ModeOptional checks credentials when given and runs requests without
	// any as Anonymous().
	ModeOptional Mode = "optional"
	// ModeRequired refuses requests without valid credentials.
	ModeRequired Mode = "required"
)

// Options configures an Authenticator. Keys, JWT and AdminKey are the
// credential sources; any may be left out.
type Options struct {
	Mode Mode
	// AdminKey is the bootstrap admin secret: presenting it makes a request
	// an admin of the default tenant that may manage every tenant's keys.
	AdminKey string
	Keys     *Keys
	JWT      *JWTVerifier
	Logger   *slog.Logger
}

// Authenticator decides who a request is, from one credential: a JWT, an
// API key ("cb_…") or the bootstrap admin key. It is safe for concurrent
// use.
type Authenticator struct {
	mode      Mode
	adminHash *[sha256.Size]byte
	keys      *Keys
	jwt       *JWTVerifier
	log       *slog.Logger
}

// New returns an authenticator. ModeRequired needs a credential source.
func New(o Options) (*Authenticator, error) {
	switch o.Mode {
	case ModeOff, ModeOptional, ModeRequired:
	case "":
		o.Mode = ModeOff
	default:
		return nil, fmt.Errorf("auth: unknown mode %q (want off, optional or required)", o.Mode)
	}
	if o.Mode == ModeRequired && o.AdminKey == "" && o.Keys == nil && o.JWT == nil {
		return nil, errors.New("auth: mode required needs an admin key, API keys or a JWT verifier")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	a := &Authenticator{mode: o.Mode, keys: o.Keys, jwt: o.JWT, log: o.Logger}
	if o.AdminKey != "" {
		h := sha256.Sum256([]byte(o.AdminKey))
		a.adminHash = &h
	}
	return a, nil
}

// Mode returns the authenticator's mode.
func (a *Authenticator) Mode() Mode { return a.mode }

// Authenticate returns the principal of r, from "Authorization: Bearer
// <token>" or "X-API-Key: <key>". See AuthenticateToken for the modes.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (Principal, error) {
	if a.mode == ModeOff {
		return Anonymous(), nil
	}
	tok, err := requestToken(r)
	if err != nil {
		return Principal{}, err
	}
	return a.AuthenticateToken(ctx, tok)
}

// requestToken returns the credential r carries, "" if none.
func requestToken(r *http.Request) (string, error) {
	authz := r.Header.Get("Authorization")
	key := strings.TrimSpace(r.Header.Get("X-API-Key"))
	var bearer string
	if authz != "" {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(authz), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return "", fmt.Errorf("%w: unsupported Authorization scheme %q (want Bearer)", ErrUnauthenticated, clip(scheme))
		}
		if bearer = strings.TrimSpace(rest); bearer == "" {
			return "", fmt.Errorf("%w: empty bearer token", ErrUnauthenticated)
		}
	}
	if bearer != "" && key != "" && bearer != key {
		return "", fmt.Errorf("%w: both Authorization and X-API-Key given; send one", ErrUnauthenticated)
	}
	if bearer != "" {
		return bearer, nil
	}
	return key, nil
}

// AuthenticateToken returns the principal of a credential given outside
// HTTP headers (a WebSocket connection_init payload: see TokenFromPayload).
// token may carry a "Bearer " prefix. In ModeOff the result is always
// Anonymous(); with no token, it is Anonymous() in ModeOptional and
// ErrUnauthenticated in ModeRequired; a token given is always checked.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string) (Principal, error) {
	if a.mode == ModeOff {
		return Anonymous(), nil
	}
	token = strings.TrimSpace(token)
	if scheme, rest, ok := strings.Cut(token, " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(rest)
	}
	if token == "" {
		if a.mode == ModeOptional {
			return Anonymous(), nil
		}
		return Principal{}, fmt.Errorf("%w: credentials required (Authorization: Bearer <token> or X-API-Key)", ErrUnauthenticated)
	}
	return a.verify(ctx, token)
}

// verify checks one credential by its shape.
func (a *Authenticator) verify(ctx context.Context, token string) (Principal, error) {
	if len(token) > MaxTokenLen {
		return Principal{}, fmt.Errorf("%w: credential longer than %d bytes", ErrUnauthenticated, MaxTokenLen)
	}
	if a.adminHash != nil {
		h := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(h[:], a.adminHash[:]) == 1 {
			return Principal{Tenant: DefaultTenant, Subject: "admin", Method: MethodAdminKey, Admin: true}, nil
		}
	}
	switch {
	case strings.HasPrefix(token, KeyPrefix):
		if a.keys == nil {
			return Principal{}, fmt.Errorf("%w: API keys are not enabled", ErrUnauthenticated)
		}
		return a.keys.Authenticate(ctx, token)
	case strings.Count(token, ".") == 2:
		if a.jwt == nil {
			return Principal{}, fmt.Errorf("%w: JWT bearer tokens are not enabled", ErrUnauthenticated)
		}
		return a.jwt.Verify(token)
	}
	return Principal{}, fmt.Errorf("%w: unrecognised credential (want a JWT or a %s API key)", ErrUnauthenticated, KeyPrefix)
}

// TokenFromPayload returns the credential of a WebSocket connection_init
// payload: "authToken", else "Authorization"/"authorization" (with or
// without "Bearer "), else the same keys under "headers"; "" if none.
func TokenFromPayload(payload map[string]any) string {
	for _, k := range []string{"authToken", "Authorization", "authorization", "X-API-Key", "x-api-key"} {
		if s, ok := payload[k].(string); ok && s != "" {
			return s
		}
	}
	if h, ok := payload["headers"].(map[string]any); ok {
		return TokenFromPayload(h)
	}
	return ""
}

// Middleware authenticates every request: the principal goes into the
// request's context (read it with FromContext); a request that fails gets
// 401 with "WWW-Authenticate: Bearer" and the body
// {"error":{"code":"UNAUTHENTICATED","message":…}} (503 UNAVAILABLE while
// the API keys load).
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r.Context(), r)
		if err != nil {
			a.log.Debug("request not authenticated", "method", r.Method, "path", r.URL.Path, "err", err)
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// Stable error codes written by WriteError.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeUnavailable     = "UNAVAILABLE"
)

// Status returns the HTTP status and stable code of an error of this
// package: 401 UNAUTHENTICATED, 403 FORBIDDEN or 503 UNAVAILABLE; ok is
// false for other errors.
func Status(err error) (status int, code string, ok bool) {
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized, CodeUnauthenticated, true
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden, CodeForbidden, true
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, CodeUnavailable, true
	}
	return 0, "", false
}

// WriteError writes err as a JSON error response (see Middleware).
func WriteError(w http.ResponseWriter, err error) {
	status, code, ok := Status(err)
	if !ok {
		status, code = http.StatusUnauthorized, CodeUnauthenticated
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="circuit-breaker"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message = code, err.Error()
	_ = json.NewEncoder(w).Encode(body)
}
