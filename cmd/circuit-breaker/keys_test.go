package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKeysCommand runs a server that requires authentication and manages
// API keys with the bootstrap admin key through the keys command.
func TestKeysCommand(t *testing.T) {
	const admin = "admin-key-for-tests-0123456789abcdef"
	t.Setenv("CIRCUIT_BREAKER_CONFIG", "")
	t.Setenv("NATS_URL", "")
	t.Setenv("CIRCUIT_BREAKER_AUTH_MODE", "required")
	t.Setenv("CIRCUIT_BREAKER_ADMIN_KEY", admin)
	t.Setenv("CIRCUIT_BREAKER_TOKEN", "")
	dir := t.TempDir()
	addrFile := filepath.Join(dir, "addr")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		runCmd(ctx, "serve", "--port", "0", "--data-dir", filepath.Join(dir, "data"), "--addr-file", addrFile)
	})
	defer func() { cancel(); wg.Wait() }()
	var base string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil {
			base = "http://" + strings.TrimSpace(string(b))
			if res, err := http.Get(base + "/ready"); err == nil && res.StatusCode == 200 {
				res.Body.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready")
		}
	}

	if c, _, e := runCmd(ctx, "keys", "list", "--server", base); c != 1 || !strings.Contains(e, "UNAUTHENTICATED") {
		t.Fatalf("keys list without a token: %d %q", c, e)
	}
	c, out, e := runCmd(ctx, "keys", "create", "--name", "ci", "--for-tenant", "acme", "--server", base, "--token", admin)
	m := regexp.MustCompile(`created API key (\S+) for tenant acme \(ci\)\nsecret \(shown once, store it now\): (cb_\S+)\n`).FindStringSubmatch(out)
	if c != 0 || m == nil {
		t.Fatalf("keys create: %d %q %q", c, out, e)
	}
	id, secret := m[1], m[2]
	// The new key acts for acme, and is not an admin.
	req, _ := http.NewRequest("GET", base+"/api/v1/workflows", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("request with the new key: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	if c, _, e := runCmd(ctx, "keys", "list", "--server", base, "--token", secret); c != 1 || !strings.Contains(e, "FORBIDDEN") {
		t.Fatalf("keys list with a plain key: %d %q", c, e)
	}
	c, out, e = runCmd(ctx, "keys", "list", "--for-tenant", "acme", "--server", base, "--token", admin)
	if c != 0 || !strings.Contains(out, id) || !strings.Contains(out, "active") || strings.Contains(out, secret) {
		t.Fatalf("keys list: %d %q %q", c, out, e)
	}
	if c, out, e := runCmd(ctx, "keys", "revoke", id, "--server", base, "--token", admin); c != 0 || !strings.Contains(out, "revoked API key "+id) {
		t.Fatalf("keys revoke: %d %q %q", c, out, e)
	}
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked key: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	if c, _, e := runCmd(ctx, "keys", "create", "--server", base, "--token", admin); c != 2 || !strings.Contains(e, "--name is required") {
		t.Fatalf("keys create without name: %d %q", c, e)
	}
}
