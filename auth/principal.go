package auth

import (
	"context"
	"strings"
)

// DefaultTenant is the tenant every request runs as when authentication is
// off (the loopback default), and the tenant of the bootstrap admin.
const DefaultTenant = "default"

// Authentication methods, the values of Principal.Method.
const (
	MethodAnonymous = "anonymous"
	MethodAPIKey    = "apikey"
	MethodJWT       = "jwt"
	// MethodAdminKey is the bootstrap admin key of the configuration
	// (auth.admin_key): an admin of every tenant's API keys.
	MethodAdminKey = "adminkey"
)

// ScopeAdmin, among an API key's scopes, makes the key an admin of its
// tenant.
const ScopeAdmin = "admin"

// Principal is who makes a request: the tenant it acts for, the subject
// (user, service or key id) recorded as the events' actor, and how it
// authenticated.
type Principal struct {
	Tenant  string   `json:"tenant"`
	Subject string   `json:"subject"`
	Method  string   `json:"method"` // one of the Method… constants
	Scopes  []string `json:"scopes,omitempty"`
	// Admin may manage the API keys of its tenant; with MethodAdminKey,
	// those of every tenant.
	Admin bool `json:"admin,omitempty"`
}

// Anonymous is the principal of requests when authentication is off, or
// optional and no credentials were given.
func Anonymous() Principal {
	return Principal{Tenant: DefaultTenant, Subject: "anonymous", Method: MethodAnonymous}
}

// KeyID is the id of the API key p authenticated with ("" for other
// methods): what usage and budgets are recorded against.
func (p Principal) KeyID() string {
	if p.Method != MethodAPIKey {
		return ""
	}
	return strings.TrimPrefix(p.Subject, "apikey:")
}

// CanManageKeys reports whether p may create, revoke and list the API keys
// of tenant.
func (p Principal) CanManageKeys(tenant string) bool {
	return p.Admin && (p.Tenant == tenant || p.Method == MethodAdminKey)
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
