package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// API key format: "cb_" followed by 32 random bytes in unpadded base64url.
const (
	KeyPrefix    = "cb_"
	keyRandBytes = 32
	keyLen       = len(KeyPrefix) + 43 // base64.RawURLEncoding of 32 bytes
	// DisplayPrefixLen is how many leading characters of a secret are kept
	// (Key.Prefix) to recognise it in lists.
	DisplayPrefixLen = 8
)

// Limits on what a key may be created with.
const (
	maxNameLen   = 200
	maxScopes    = 64
	maxScopeLen  = 100
	maxTenantLen = 100
)

// Key is an API key as List shows it: never its secret nor its hash.
type Key struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	Scopes    []string  `json:"scopes,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy,omitempty"`
	Revoked   bool      `json:"revoked,omitempty"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}

type keyState struct {
	Key
	hash [sha256.Size]byte
	rev  uint64 // last revision of the key's stream applied
}

// Keys manages API keys, stored as events in the streams "apikey-<id>", and
// authenticates them against an in-memory index.
//
// Lifecycle: NewKeys → Load(ctx) (reads every API key event of the store;
// call it before serving) → Run(ctx) (follows the store until ctx ends, so
// that keys created or revoked on other nodes take effect within moments).
// Create and Revoke update the index of their own node before returning,
// so a revoked key fails there immediately. Instead of Run, a caller that
// already follows the store in order may feed every event to Apply.
//
// Authenticate before Load has finished fails with ErrUnavailable.
type Keys struct {
	store events.Store
	log   *slog.Logger
	now   func() time.Time

	mu       sync.RWMutex
	byID     map[string]*keyState
	byPrefix map[string][]*keyState
	pos      uint64 // last store position read by Load or Run
	loaded   bool
}

// KeysOptions configures Keys. The zero value is usable.
type KeysOptions struct {
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewKeys returns the API keys kept in store. Call Load before use.
func NewKeys(store events.Store, o KeysOptions) *Keys {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Keys{store: store, log: o.Logger, now: o.Now, byID: map[string]*keyState{}, byPrefix: map[string][]*keyState{}}
}

// readPage is how many events Load reads at a time.
const readPage = 1000

// Load reads the store from the start (or from where the last Load or Run
// stopped) to its end and indexes every API key event.
func (k *Keys) Load(ctx context.Context) error {
	last, err := k.store.LastPosition(ctx)
	if err != nil {
		return fmt.Errorf("auth: load API keys: %w", err)
	}
	k.mu.RLock()
	from := k.pos + 1
	k.mu.RUnlock()
	for from <= last {
		page, err := k.store.ReadAll(ctx, from, readPage)
		if err != nil {
			return fmt.Errorf("auth: load API keys: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			k.applyAt(e)
		}
		from = page[len(page)-1].Position + 1
	}
	k.mu.Lock()
	k.loaded = true
	n := len(k.byID)
	k.mu.Unlock()
	k.log.Debug("API keys loaded", "keys", n, "position", last)
	return nil
}

// Run loads the keys if Load has not, then follows the store, applying API
// key events as they are appended, until ctx ends (it then returns nil) or
// the subscription fails.
func (k *Keys) Run(ctx context.Context) error {
	k.mu.RLock()
	loaded := k.loaded
	k.mu.RUnlock()
	if !loaded {
		if err := k.Load(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	k.mu.RLock()
	from := k.pos + 1
	k.mu.RUnlock()
	sub, err := k.store.Subscribe(ctx, from)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("auth: follow API keys: %w", err)
	}
	defer sub.Close()
	for {
		e, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("auth: follow API keys: %w", err)
		}
		k.applyAt(e)
	}
}

// applyAt applies e and records its position as read.
func (k *Keys) applyAt(e events.Envelope) {
	k.Apply(e)
	k.mu.Lock()
	if e.Position > k.pos {
		k.pos = e.Position
	}
	k.mu.Unlock()
}

// Apply indexes e if it is an API key event and ignores it otherwise.
// Applying an event twice is harmless. It does not mark the index loaded.
func (k *Keys) Apply(e events.Envelope) {
	if !strings.HasPrefix(e.Stream, events.APIKeyStreamPrefix) {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch e.Type {
	case events.TypeAPIKeyCreated:
		var d events.APIKeyCreated
		if err := e.Decode(&d); err != nil {
			k.log.Warn("skipping undecodable API key event", "stream", e.Stream, "err", err)
			return
		}
		if _, ok := k.byID[d.KeyID]; ok {
			return
		}
		h, err := hex.DecodeString(d.Hash)
		if err != nil || len(h) != sha256.Size || len(d.Prefix) != DisplayPrefixLen {
			k.log.Warn("skipping API key event with a bad hash or prefix", "stream", e.Stream)
			return
		}
		s := &keyState{Key: Key{
			ID: d.KeyID, Tenant: d.Tenant, Name: d.Name, Prefix: d.Prefix,
			Scopes: d.Scopes, CreatedAt: d.CreatedAt, CreatedBy: e.Actor,
		}, rev: e.Revision}
		copy(s.hash[:], h)
		k.byID[d.KeyID] = s
		k.byPrefix[d.Prefix] = append(k.byPrefix[d.Prefix], s)
	case events.TypeAPIKeyRevoked:
		var d events.APIKeyRevoked
		if err := e.Decode(&d); err != nil {
			k.log.Warn("skipping undecodable API key event", "stream", e.Stream, "err", err)
			return
		}
		s, ok := k.byID[d.KeyID]
		if !ok || s.Revoked {
			return
		}
		s.Revoked, s.RevokedAt = true, d.RevokedAt
		s.rev = max(s.rev, e.Revision)
		// Drop it from the lookup index: it can never authenticate again.
		k.byPrefix[s.Prefix] = slices.DeleteFunc(k.byPrefix[s.Prefix], func(o *keyState) bool { return o == s })
		if len(k.byPrefix[s.Prefix]) == 0 {
			delete(k.byPrefix, s.Prefix)
		}
	}
}

// Create makes a new API key for tenant and returns its id and its secret.
// The secret is returned only here: the store keeps its SHA-256 hash. admin
// must be an admin of tenant, or the bootstrap admin. A scope "admin" makes
// the key an admin of its tenant.
func (k *Keys) Create(ctx context.Context, admin Principal, tenant, name string, scopes []string) (id, secret string, err error) {
	if !admin.CanManageKeys(tenant) {
		return "", "", fmt.Errorf("%w: %s may not create API keys for tenant %q", ErrForbidden, admin.Subject, tenant)
	}
	if err := validateKeyArgs(tenant, name, scopes); err != nil {
		return "", "", err
	}
	var raw [keyRandBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", fmt.Errorf("auth: generate API key: %w", err)
	}
	secret = KeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(secret))
	id = ulid.Make().String()
	data := events.APIKeyCreated{
		KeyID: id, Tenant: tenant, Name: name, Prefix: secret[:DisplayPrefixLen],
		Hash: hex.EncodeToString(sum[:]), Scopes: slices.Clone(scopes), CreatedAt: k.now().UTC(),
	}
	ev, err := events.NewEvent(events.TypeAPIKeyCreated, events.APIKeyCreatedVersion, data)
	if err != nil {
		return "", "", fmt.Errorf("auth: %w", err)
	}
	// Key events belong to no tenant (the key's tenant is in the data):
	// no tenant's event feed shows them, hashes included.
	ev.Tenant, ev.Actor = "", admin.Subject
	if err := k.append(ctx, events.APIKeyStream(id), events.NoStream, ev); err != nil {
		return "", "", err
	}
	return id, secret, nil
}

// Revoke revokes the API key id: it stops authenticating at once on this
// node and, through Run, within moments on the others. Revoking a revoked
// key does nothing. A key of a tenant admin may not manage reads as
// ErrNotFound.
func (k *Keys) Revoke(ctx context.Context, admin Principal, id string) error {
	stream := events.APIKeyStream(id)
	if err := events.ValidateStream(stream); err != nil {
		return fmt.Errorf("%w: API key %q", ErrNotFound, id)
	}
	evs, err := k.store.ReadStream(ctx, stream, 1, 0)
	if err != nil {
		return fmt.Errorf("auth: revoke API key: %w", err)
	}
	if len(evs) == 0 || evs[0].Type != events.TypeAPIKeyCreated {
		return fmt.Errorf("%w: API key %q", ErrNotFound, id)
	}
	var created events.APIKeyCreated
	if err := evs[0].Decode(&created); err != nil {
		return fmt.Errorf("auth: revoke API key: %w", err)
	}
	if !admin.CanManageKeys(created.Tenant) {
		return fmt.Errorf("%w: API key %q", ErrNotFound, id)
	}
	for _, e := range evs[1:] {
		if e.Type == events.TypeAPIKeyRevoked {
			k.Apply(e)
			return nil
		}
	}
	ev, err := events.NewEvent(events.TypeAPIKeyRevoked, events.APIKeyRevokedVersion,
		events.APIKeyRevoked{KeyID: id, RevokedAt: k.now().UTC()})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	ev.Tenant, ev.Actor = "", admin.Subject // see Create
	err = k.append(ctx, stream, events.Exact(evs[len(evs)-1].Revision), ev)
	if errors.Is(err, events.ErrConflict) {
		return k.Revoke(ctx, admin, id) // raced another revocation: re-read
	}
	return err
}

// append appends ev and applies it to this node's index at once.
func (k *Keys) append(ctx context.Context, stream string, expected events.Revision, ev events.Event) error {
	app, err := k.store.Append(ctx, stream, expected, ev)
	if err != nil {
		return fmt.Errorf("auth: store API key event: %w", err)
	}
	k.Apply(events.Envelope{
		ID: ev.ID, Stream: stream, Type: ev.Type, Version: ev.Version,
		Revision: app.FirstRevision, Position: app.FirstPosition,
		Tenant: ev.Tenant, Actor: ev.Actor, Data: ev.Data,
	})
	return nil
}

// List returns the API keys of tenant, revoked ones included, oldest
// first. It never returns secrets or hashes.
func (k *Keys) List(ctx context.Context, admin Principal, tenant string) ([]Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !admin.CanManageKeys(tenant) {
		return nil, fmt.Errorf("%w: %s may not list API keys of tenant %q", ErrForbidden, admin.Subject, tenant)
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []Key
	for _, s := range k.byID {
		if s.Tenant == tenant {
			c := s.Key
			c.Scopes = slices.Clone(c.Scopes)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Key) int { return strings.Compare(a.ID, b.ID) }) // ULIDs: creation order
	return out, nil
}

// Authenticate returns the principal of the API key secret: its tenant, the
// subject "apikey:<id>", its scopes, admin if a scope is "admin". An
// unknown, revoked or malformed key fails with ErrUnauthenticated.
func (k *Keys) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if err := ctx.Err(); err != nil {
		return Principal{}, err
	}
	if !wellFormedKey(secret) {
		return Principal{}, fmt.Errorf("%w: malformed API key", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(secret))
	k.mu.RLock()
	defer k.mu.RUnlock()
	if !k.loaded {
		return Principal{}, fmt.Errorf("%w: API keys are still loading", ErrUnavailable)
	}
	var found *keyState
	// The prefix is not secret; the hash is compared in constant time.
	for _, s := range k.byPrefix[secret[:DisplayPrefixLen]] {
		if subtle.ConstantTimeCompare(s.hash[:], sum[:]) == 1 {
			found = s
		}
	}
	if found == nil || found.Revoked {
		return Principal{}, fmt.Errorf("%w: unknown or revoked API key", ErrUnauthenticated)
	}
	return Principal{
		Tenant: found.Tenant, Subject: "apikey:" + found.ID, Method: MethodAPIKey,
		Scopes: slices.Clone(found.Scopes), Admin: slices.Contains(found.Scopes, ScopeAdmin),
	}, nil
}

// wellFormedKey reports whether s has the shape of an API key secret.
func wellFormedKey(s string) bool {
	if len(s) != keyLen || !strings.HasPrefix(s, KeyPrefix) {
		return false
	}
	for i := len(KeyPrefix); i < len(s); i++ {
		if !isB64URL(s[i]) {
			return false
		}
	}
	return true
}

func isB64URL(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// ValidTenant checks a tenant name: 1–100 characters of letters, digits,
// '-', '_', '.' and ':'.
func ValidTenant(t string) error {
	if t == "" || len(t) > maxTenantLen {
		return fmt.Errorf("%w: tenant must be 1 to %d characters", ErrInvalid, maxTenantLen)
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !isB64URL(c) && c != '.' && c != ':' {
			return fmt.Errorf("%w: tenant %q: character %q not allowed", ErrInvalid, t, c)
		}
	}
	return nil
}

func validateKeyArgs(tenant, name string, scopes []string) error {
	if err := ValidTenant(tenant); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" || len(name) > maxNameLen {
		return fmt.Errorf("%w: key name must be 1 to %d characters", ErrInvalid, maxNameLen)
	}
	if len(scopes) > maxScopes {
		return fmt.Errorf("%w: at most %d scopes", ErrInvalid, maxScopes)
	}
	for _, s := range scopes {
		if s == "" || len(s) > maxScopeLen || strings.ContainsAny(s, " \t\r\n") {
			return fmt.Errorf("%w: scope %q: must be 1 to %d characters without spaces", ErrInvalid, s, maxScopeLen)
		}
	}
	return nil
}
