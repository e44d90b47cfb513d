package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/config"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
)

const adminSecret = "an admin key of at least 32 bytes"

func TestMiddlewareModes(t *testing.T) {
	ctx := context.Background()
	keys := loadedKeys(t, natsjstest.Open(t, ""))
	_, apiKey, err := keys.Create(ctx, bootstrap, "acme", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	jv, err := auth.NewJWTVerifier(auth.JWTOptions{HS256Secret: []byte(hsSecret), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	token := sign(t, jwt.SigningMethodHS256, []byte(hsSecret), "", jwt.MapClaims{"sub": "u", "tid": "globex", "exp": now.Add(time.Hour).Unix()})

	type req struct {
		authz, apiKey string
	}
	tests := map[string]struct {
		mode       auth.Mode
		req        req
		wantStatus int
		wantTenant string
		wantMethod string
		wantMsg    string
	}{
		"off, nothing":            {mode: auth.ModeOff, wantStatus: 200, wantTenant: "default", wantMethod: "anonymous"},
		"off, bad token ignored":  {mode: auth.ModeOff, req: req{authz: "Bearer junk"}, wantStatus: 200, wantTenant: "default", wantMethod: "anonymous"},
		"optional, nothing":       {mode: auth.ModeOptional, wantStatus: 200, wantTenant: "default", wantMethod: "anonymous"},
		"optional, API key":       {mode: auth.ModeOptional, req: req{apiKey: apiKey}, wantStatus: 200, wantTenant: "acme", wantMethod: "apikey"},
		"optional, bad token":     {mode: auth.ModeOptional, req: req{authz: "Bearer junk"}, wantStatus: 401, wantMsg: "unrecognised credential"},
		"required, nothing":       {mode: auth.ModeRequired, wantStatus: 401, wantMsg: "credentials required"},
		"required, bearer key":    {mode: auth.ModeRequired, req: req{authz: "Bearer " + apiKey}, wantStatus: 200, wantTenant: "acme", wantMethod: "apikey"},
		"required, JWT":           {mode: auth.ModeRequired, req: req{authz: "bearer " + token}, wantStatus: 200, wantTenant: "globex", wantMethod: "jwt"},
		"required, admin key":     {mode: auth.ModeRequired, req: req{apiKey: adminSecret}, wantStatus: 200, wantTenant: "default", wantMethod: "adminkey"},
		"required, basic auth":    {mode: auth.ModeRequired, req: req{authz: "Basic dTpw"}, wantStatus: 401, wantMsg: "unsupported Authorization scheme"},
		"required, two creds":     {mode: auth.ModeRequired, req: req{authz: "Bearer " + token, apiKey: apiKey}, wantStatus: 401, wantMsg: "both"},
		"required, unknown key":   {mode: auth.ModeRequired, req: req{apiKey: "cb_" + strings.Repeat("x", 43)}, wantStatus: 401, wantMsg: "unknown or revoked API key"},
		"required, empty bearer":  {mode: auth.ModeRequired, req: req{authz: "Bearer "}, wantStatus: 401, wantMsg: "empty bearer"},
		"required, expired token": {mode: auth.ModeRequired, req: req{authz: "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(hsSecret), "", jwt.MapClaims{"sub": "u", "tid": "g", "exp": now.Add(-time.Hour).Unix()})}, wantStatus: 401, wantMsg: "expired"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			a, err := auth.New(auth.Options{Mode: tt.mode, AdminKey: adminSecret, Keys: keys, JWT: jv})
			if err != nil {
				t.Fatal(err)
			}
			h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p, ok := auth.FromContext(r.Context())
				if !ok {
					t.Error("no principal in context")
				}
				_ = json.NewEncoder(w).Encode(p)
			}))
			r := httptest.NewRequest("POST", "/graphql", nil)
			if tt.req.authz != "" {
				r.Header.Set("Authorization", tt.req.authz)
			}
			if tt.req.apiKey != "" {
				r.Header.Set("X-API-Key", tt.req.apiKey)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantStatus != 200 {
				var body struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				if body.Error.Code != "UNAUTHENTICATED" || !strings.Contains(body.Error.Message, tt.wantMsg) {
					t.Errorf("body %s, want UNAUTHENTICATED with %q", w.Body, tt.wantMsg)
				}
				if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", w.Header().Get("WWW-Authenticate"))
				}
				if strings.Contains(w.Body.String(), apiKey) || strings.Contains(w.Body.String(), token) {
					t.Errorf("body leaks the credential: %s", w.Body)
				}
				return
			}
			var p auth.Principal
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Tenant != tt.wantTenant || p.Method != tt.wantMethod {
				t.Errorf("principal %+v, want tenant %s method %s", p, tt.wantTenant, tt.wantMethod)
			}
		})
	}
}

func TestAuthenticateToken(t *testing.T) {
	ctx := context.Background()
	a, err := auth.New(auth.Options{Mode: auth.ModeRequired, AdminKey: adminSecret})
	if err != nil {
		t.Fatal(err)
	}
	payloads := map[string]map[string]any{
		"authToken":             {"authToken": adminSecret},
		"Authorization":         {"Authorization": "Bearer " + adminSecret},
		"headers.Authorization": {"headers": map[string]any{"authorization": "Bearer " + adminSecret}},
	}
	for name, pl := range payloads {
		p, err := a.AuthenticateToken(ctx, auth.TokenFromPayload(pl))
		if err != nil || !p.Admin || p.Method != auth.MethodAdminKey {
			t.Errorf("%s: %+v, %v", name, p, err)
		}
	}
	if _, err := a.AuthenticateToken(ctx, auth.TokenFromPayload(map[string]any{})); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("no token: got %v", err)
	}
	if _, err := a.AuthenticateToken(ctx, "cb_"+strings.Repeat("a", 43)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("API key without Keys: got %v", err)
	}
}

func TestNewRefusesRequiredWithoutSource(t *testing.T) {
	if _, err := auth.New(auth.Options{Mode: auth.ModeRequired}); err == nil {
		t.Error("New succeeded")
	}
	if _, err := auth.New(auth.Options{Mode: "strict"}); err == nil {
		t.Error("New accepted an unknown mode")
	}
}

func TestFromConfig(t *testing.T) {
	k := newTestKeys(t)
	c := config.Default()
	c.Auth.Mode = config.AuthRequired
	c.Auth.AdminKey = adminSecret
	c.Auth.JWT.PublicKeys = []config.PublicKey{{KID: "rsa-1", PEM: string(k.rsaPEM)}}
	a, err := auth.FromConfig(c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode() != auth.ModeRequired {
		t.Errorf("mode %s", a.Mode())
	}
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "rsa-1", jwt.MapClaims{"sub": "u", "tenant": "acme", "exp": time.Now().Add(time.Hour).Unix()})
	if p, err := a.AuthenticateToken(context.Background(), tok); err != nil || p.Tenant != "acme" {
		t.Errorf("RS256 via config: %+v, %v", p, err)
	}
	c.Auth.JWT.PublicKeys = []config.PublicKey{{File: "testdata/does-not-exist.pem"}}
	if _, err := auth.FromConfig(c, nil, nil); err == nil || !strings.Contains(err.Error(), "auth.jwt.public_keys[0]") {
		t.Errorf("missing key file: got %v", err)
	}
}
