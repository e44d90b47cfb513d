package gql

import (
	"context"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/auth"
)

// apiKey resolves ApiKey.
type apiKey struct{ k auth.Key }

func (a apiKey) ID() graphql.ID           { return graphql.ID(a.k.ID) }
func (a apiKey) Tenant() string           { return a.k.Tenant }
func (a apiKey) Name() string             { return a.k.Name }
func (a apiKey) Prefix() string           { return a.k.Prefix }
func (a apiKey) Scopes() []string         { return append([]string{}, a.k.Scopes...) }
func (a apiKey) CreatedAt() *graphql.Time { return gtime(a.k.CreatedAt) }
func (a apiKey) CreatedBy() *string {
	if a.k.CreatedBy == "" {
		return nil
	}
	return &a.k.CreatedBy
}
func (a apiKey) Revoked() bool            { return a.k.Revoked }
func (a apiKey) RevokedAt() *graphql.Time { return gtime(a.k.RevokedAt) }

type createdAPIKey struct {
	key    apiKey
	secret string
}

func (c createdAPIKey) Key() apiKey    { return c.key }
func (c createdAPIKey) Secret() string { return c.secret }

// principal returns the request's principal (anonymous without one).
func principal(ctx context.Context) auth.Principal {
	if p, ok := auth.FromContext(ctx); ok {
		return p
	}
	return auth.Anonymous()
}

func (c *core) keysEnabled() error {
	if c.keys == nil {
		return newError(apierr.CodeUnavailable, "API keys are not enabled on this server")
	}
	return nil
}

func tenantOr(t *string, p auth.Principal) string {
	if t != nil && *t != "" {
		return *t
	}
	return p.Tenant
}

func (q *query) ApiKeys(ctx context.Context, args struct{ Tenant *string }) ([]apiKey, error) {
	if err := q.c.keysEnabled(); err != nil {
		return nil, err
	}
	p := principal(ctx)
	keys, err := q.c.keys.List(ctx, p, tenantOr(args.Tenant, p))
	if err != nil {
		return nil, wrap(q.c.log, "tenant", err)
	}
	out := make([]apiKey, len(keys))
	for i, k := range keys {
		out[i] = apiKey{k}
	}
	return out, nil
}

func (m *mutation) CreateApiKey(ctx context.Context, args struct {
	Tenant *string
	Name   string
	Scopes *[]string
}) (createdAPIKey, error) {
	if err := m.c.keysEnabled(); err != nil {
		return createdAPIKey{}, err
	}
	p := principal(ctx)
	tenant := tenantOr(args.Tenant, p)
	var scopes []string
	if args.Scopes != nil {
		scopes = *args.Scopes
	}
	id, secret, err := m.c.keys.Create(ctx, p, tenant, args.Name, scopes)
	if err != nil {
		return createdAPIKey{}, wrap(m.c.log, "", err)
	}
	keys, err := m.c.keys.List(ctx, p, tenant)
	if err != nil {
		return createdAPIKey{}, wrap(m.c.log, "", err)
	}
	for _, k := range keys {
		if k.ID == id {
			return createdAPIKey{key: apiKey{k}, secret: secret}, nil
		}
	}
	return createdAPIKey{key: apiKey{auth.Key{ID: id, Tenant: tenant, Name: args.Name, Scopes: scopes}}, secret: secret}, nil
}

func (m *mutation) RevokeApiKey(ctx context.Context, args struct{ ID graphql.ID }) (apiKey, error) {
	if err := m.c.keysEnabled(); err != nil {
		return apiKey{}, err
	}
	p := principal(ctx)
	if err := m.c.keys.Revoke(ctx, p, string(args.ID)); err != nil {
		return apiKey{}, wrap(m.c.log, "id", err)
	}
	// Revoke checked that p may manage the key; show it when it is of p's
	// own tenant (the bootstrap admin may revoke other tenants' keys).
	if keys, err := m.c.keys.List(ctx, p, p.Tenant); err == nil {
		for _, k := range keys {
			if k.ID == string(args.ID) {
				return apiKey{k}, nil
			}
		}
	}
	return apiKey{auth.Key{ID: string(args.ID), Revoked: true}}, nil
}
