package auth

import "context"

// DefaultTenant is the tenant every request runs as when authentication is
// off (the loopback default).
const DefaultTenant = "default"

// Principal is who makes a request: the tenant it acts for, the subject
// (user, service or key id) recorded as the events' actor, and how it
// authenticated.
type Principal struct {
	Tenant  string   `json:"tenant"`
	Subject string   `json:"subject"`
	Method  string   `json:"method"` // "apikey", "jwt" or "anonymous"
	Scopes  []string `json:"scopes,omitempty"`
	// Admin may manage API keys and act across tenants' administration.
	Admin bool `json:"admin,omitempty"`
}

// Anonymous is the principal of requests when authentication is off.
func Anonymous() Principal {
	return Principal{Tenant: DefaultTenant, Subject: "anonymous", Method: "anonymous"}
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal ctx carries.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
