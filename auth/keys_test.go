package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
)

var bootstrap = auth.Principal{Tenant: auth.DefaultTenant, Subject: "admin", Method: auth.MethodAdminKey, Admin: true}

func loadedKeys(t *testing.T, store events.Store) *auth.Keys {
	t.Helper()
	k := auth.NewKeys(store, auth.KeysOptions{})
	if err := k.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeysLifecycle(t *testing.T) {
	ctx := context.Background()
	store := natsjstest.Open(t, "")
	k := loadedKeys(t, store)

	idA, secretA, err := k.Create(ctx, bootstrap, "tenant-a", "ci", []string{"workflows:read"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secretA, auth.KeyPrefix) || len(secretA) != 46 {
		t.Fatalf("secret %q: want cb_ and 43 base64url characters", secretA)
	}
	idB, secretB, err := k.Create(ctx, bootstrap, "tenant-b", "ops", []string{auth.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	// Key events belong to no tenant, so no tenant's event feed shows
	// their hashes.
	if evs, err := store.ReadStream(ctx, events.APIKeyStream(idA), 0, 0); err != nil || len(evs) != 1 || evs[0].Tenant != "" {
		t.Fatalf("key events: %+v, %v", evs, err)
	}

	tests := map[string]struct {
		secret string
		want   auth.Principal
	}{
		"tenant A": {secretA, auth.Principal{Tenant: "tenant-a", Subject: "apikey:" + idA, Method: auth.MethodAPIKey, Scopes: []string{"workflows:read"}}},
		"tenant B": {secretB, auth.Principal{Tenant: "tenant-b", Subject: "apikey:" + idB, Method: auth.MethodAPIKey, Scopes: []string{"admin"}, Admin: true}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := k.Authenticate(ctx, tt.secret)
			if err != nil {
				t.Fatal(err)
			}
			if p.Tenant != tt.want.Tenant || p.Subject != tt.want.Subject || p.Method != tt.want.Method ||
				p.Admin != tt.want.Admin || strings.Join(p.Scopes, ",") != strings.Join(tt.want.Scopes, ",") {
				t.Errorf("principal %+v, want %+v", p, tt.want)
			}
		})
	}

	// Wrong secrets.
	for name, s := range map[string]string{
		"one character changed": secretA[:len(secretA)-1] + flip(secretA[len(secretA)-1]),
		"truncated":             secretA[:20],
		"not base64url":         secretA[:len(secretA)-1] + "!",
		"other prefix":          "xx_" + secretA[3:],
	} {
		if _, err := k.Authenticate(ctx, s); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%s: got %v, want ErrUnauthenticated", name, err)
		}
	}

	// List: only the tenant's keys, never the secret or the hash.
	list, err := k.List(ctx, bootstrap, "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != idA || list[0].Name != "ci" || list[0].Prefix != secretA[:8] || list[0].CreatedBy != "admin" {
		t.Fatalf("List = %+v", list)
	}
	b, _ := json.Marshal(list)
	if strings.Contains(string(b), secretA) || strings.Contains(strings.ToLower(string(b)), "hash") {
		t.Errorf("List leaks: %s", b)
	}
	// Nor does the store hold the secret.
	evs, err := store.ReadStream(ctx, events.APIKeyStream(idA), 1, 0)
	if err != nil || len(evs) != 1 || strings.Contains(string(evs[0].Data), secretA) {
		t.Fatalf("stored events %v, %v", evs, err)
	}

	// Tenant B's admin key manages tenant B only.
	adminB, _ := k.Authenticate(ctx, secretB)
	if _, _, err := k.Create(ctx, adminB, "tenant-a", "sneaky", nil); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("cross-tenant Create: got %v, want ErrForbidden", err)
	}
	if _, err := k.List(ctx, adminB, "tenant-a"); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("cross-tenant List: got %v, want ErrForbidden", err)
	}
	if err := k.Revoke(ctx, adminB, idA); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("cross-tenant Revoke: got %v, want ErrNotFound", err)
	}
	userA, _ := k.Authenticate(ctx, secretA)
	if _, _, err := k.Create(ctx, userA, "tenant-a", "self", nil); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("non-admin Create: got %v, want ErrForbidden", err)
	}

	// Revoke: refused at once on this node; revoking twice is fine.
	if err := k.Revoke(ctx, bootstrap, idA); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Authenticate(ctx, secretA); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked key: got %v, want ErrUnauthenticated", err)
	}
	if err := k.Revoke(ctx, bootstrap, idA); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	if err := k.Revoke(ctx, bootstrap, "no-such-key"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("unknown key: got %v, want ErrNotFound", err)
	}
	if list, _ := k.List(ctx, bootstrap, "tenant-a"); len(list) != 1 || !list[0].Revoked {
		t.Errorf("List after revoke = %+v", list)
	}

	// A restart rebuilds the same index from the store.
	k2 := loadedKeys(t, store)
	if _, err := k2.Authenticate(ctx, secretA); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("revoked key after reload: got %v", err)
	}
	if p, err := k2.Authenticate(ctx, secretB); err != nil || p.Tenant != "tenant-b" {
		t.Errorf("key B after reload: %+v, %v", p, err)
	}
}

func TestKeysBadArguments(t *testing.T) {
	k := loadedKeys(t, natsjstest.Open(t, ""))
	tests := map[string]struct {
		tenant, name string
		scopes       []string
	}{
		"empty tenant":     {"", "n", nil},
		"tenant with /":    {"a/b", "n", nil},
		"empty name":       {"t", " ", nil},
		"scope with space": {"t", "n", []string{"a b"}},
		"empty scope":      {"t", "n", []string{""}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := k.Create(context.Background(), bootstrap, tt.tenant, tt.name, tt.scopes); !errors.Is(err, auth.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
}

// TestKeysFollowOtherNode: a second Keys on the same store, running, sees
// keys created and revoked by the first.
func TestKeysFollowOtherNode(t *testing.T) {
	ctx := context.Background()
	store := natsjstest.Open(t, "")
	node1 := loadedKeys(t, store)
	node2 := auth.NewKeys(store, auth.KeysOptions{})
	if _, err := node2.Authenticate(ctx, "cb_"+strings.Repeat("a", 43)); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("before Load: got %v, want ErrUnavailable", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- node2.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	id, secret, err := node1.Create(ctx, bootstrap, "acme", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { _, err := node2.Authenticate(ctx, secret); return err == nil })
	if err := node1.Revoke(ctx, bootstrap, id); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		_, err := node2.Authenticate(ctx, secret)
		return errors.Is(err, auth.ErrUnauthenticated)
	})
}

func eventually(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
