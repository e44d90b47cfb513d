package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.bad.err from the current errors")

// mapEnv returns an env lookup function backed by m.
func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestGoodFiles(t *testing.T) {
	seedEnv := map[string]string{"JWT_SECRET": jwtSecret, "OPENAI_API_KEY": "sk-openai", "ANTHROPIC_API_KEY": "sk-ant"}
	tests := map[string]struct {
		env  map[string]string
		want func() Config
	}{
		"empty": {want: Default},
		"seed": {env: seedEnv, want: func() Config {
			c := Default()
			c.Server.Host, c.Server.Workers = "0.0.0.0", 4
			c.Database = Database{URL: "postgresql://user:pass@localhost:5432/circuitbreaker", MaxConnections: 20, TimeoutSeconds: 30}
			c.LLM.DefaultProvider = "openai"
			c.LLM.Providers = map[string]Provider{
				"openai":    {APIKey: "sk-openai", BaseURL: "https://api.openai.com/v1", Models: []string{"gpt-4", "gpt-3.5-turbo"}},
				"anthropic": {APIKey: "sk-ant", BaseURL: "https://api.anthropic.com", Models: []string{"claude-3-opus-20240229", "claude-3-sonnet-20240229"}},
			}
			c.NATS.URL = "nats://localhost:4222"
			c.Security.JWTSecret, c.Security.EnableCORS = jwtSecret, true
			c.Security.AllowedOrigins = []string{"http://localhost:3000"}
			c.Observability = Observability{EnableMetrics: true, MetricsPort: 9090, EnableTracing: true, JaegerEndpoint: "http://localhost:14268/api/traces"}
			return c
		}},
		"full": {env: map[string]string{"ANTHROPIC_API_KEY": "sk-ant", "DB_PASSWORD": ""}, want: func() Config {
			return Config{
				Server: Server{Host: "::1", Port: 8080, Workers: 8, DataDir: "/var/lib/circuit-breaker/data",
					LogLevel: "debug", LogFormat: "json", AllowInsecurePublicBind: true},
				Database: Database{URL: "postgresql://user:pass@localhost:5432/circuitbreaker", MaxConnections: 5, TimeoutSeconds: 10},
				LLM: LLM{DefaultProvider: "anthropic", MaxConcurrentRequests: 10, RequestTimeoutSeconds: 30,
					Providers: map[string]Provider{
						"ollama": {BaseURL: "http://localhost:11434", Models: []string{"llama3"}},
						"anthropic": {APIKey: "sk-ant", Models: []string{"claude-3-opus-20240229"},
							Prices: map[string]Price{"claude-3-opus-20240229": {Input: ptr(12.5), CacheRead: ptr(1.25)}}},
					},
					VirtualModels: map[string]VirtualModel{
						"smart-gpt4": {Strategy: "fallback", Models: []string{"gpt-4", "anthropic/claude-3-opus-20240229"}},
					},
					Routing: Routing{MaxAttempts: 3, RetryBaseDelay: Duration(100 * time.Millisecond), RetryMaxDelay: Duration(2 * time.Second),
						BreakerFailures: 4, BreakerOpenFor: Duration(time.Minute)},
				},
				NATS: NATS{URL: "nats://n1:4222,nats://n2:4222", SubjectPrefix: "cb.prod", MaxReconnectAttempts: -1},
				Security: Security{JWTSecret: "literal ${NOT_A_VAR} and $HOME, long enough", EnableCORS: true,
					AllowedOrigins: []string{"*", "https://app.example.com"},
					RateLimiting:   RateLimiting{RequestsPerMinute: 600, BurstSize: 20, EnablePerUserLimits: true}},
				Observability: Observability{MetricsPort: 9100, EnableTracing: true, JaegerEndpoint: "http://jaeger:14268/api/traces"},
				Events:        Events{SnapshotEvery: 0},
				Actors:        Actors{PassivateAfter: Duration(90 * time.Minute)},
				Auth: Auth{Mode: "required", AdminKey: "0123456789abcdef0123456789abcdef", JWT: JWT{
					HS256Secret: "an HS256 secret of at least 32 bytes",
					PublicKeys: []PublicKey{
						{KID: "2024-01", File: "/etc/circuit-breaker/jwt-rs256.pem"},
						{PEM: "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"},
					},
					Issuer: "https://issuer.example.com", Audience: "circuit-breaker",
					TenantClaim: "org", RolesClaim: "groups", AdminRole: "cb-admins", Leeway: Duration(10 * time.Second),
				}},
			}
		}},
	}
	files, _ := filepath.Glob("testdata/*.good.toml")
	if len(files) != len(tests) {
		t.Errorf("%d good files, %d test cases", len(files), len(tests))
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Load("testdata/"+name+".good.toml", mapEnv(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want(), got); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBadFiles loads every testdata/*.bad.toml and compares the whole error
// text with the golden file beside it (x.bad.toml → x.bad.err).
func TestBadFiles(t *testing.T) {
	env := mapEnv(map[string]string{"CB_HOST": "0.0.0.0"})
	files, _ := filepath.Glob("testdata/*.bad.toml")
	if len(files) == 0 {
		t.Fatal("no bad files")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".bad.toml"), func(t *testing.T) {
			_, err := Load(file, env)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load: got %v, want *Error", err)
			}
			golden := strings.TrimSuffix(file, ".toml") + ".err"
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("%v (run with -update to create it)", rerr)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			for _, p := range ce.Problems {
				if p.File != file || p.Line < 1 {
					t.Errorf("problem %q: want file %s and a line", p, file)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope.toml", mapEnv(nil))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want os.ErrNotExist", err)
	}
}

func TestLoadNoFile(t *testing.T) {
	got, err := Load("", mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAddrAndLoopback(t *testing.T) {
	tests := map[string]struct {
		host     string
		addr     string
		loopback bool
	}{
		"default":     {"127.0.0.1", "127.0.0.1:4000", true},
		"127/8":       {"127.1.2.3", "127.1.2.3:4000", true},
		"localhost":   {"LocalHost", "LocalHost:4000", true},
		"ipv6":        {"::1", "[::1]:4000", true},
		"bracketed":   {"[::1]", "[[::1]]:4000", true},
		"any":         {"0.0.0.0", "0.0.0.0:4000", false},
		"any6":        {"::", "[::]:4000", false},
		"public":      {"192.0.2.1", "192.0.2.1:4000", false},
		"name":        {"example.com", "example.com:4000", false},
		"all (empty)": {"", ":4000", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c := Default()
			c.Server.Host = tt.host
			if got := c.Addr(); got != tt.addr {
				t.Errorf("Addr() = %q, want %q", got, tt.addr)
			}
			if got := c.IsLoopback(); got != tt.loopback {
				t.Errorf("IsLoopback() = %v, want %v", got, tt.loopback)
			}
		})
	}
}

func TestDefaultIsValidAndLoopback(t *testing.T) {
	c := Default()
	ps := &problems{}
	validate(&c, &checker{pos: positions{}, ps: ps})
	if err := ps.err(); err != nil {
		t.Fatal(err)
	}
	if !c.IsLoopback() {
		t.Error("default host is not loopback")
	}
}

func TestSecretDoesNotPrint(t *testing.T) {
	c := Default()
	c.Security.JWTSecret = "hunter2"
	for _, s := range []string{
		c.Security.JWTSecret.String(),
		strings.Join([]string{c.Security.JWTSecret.GoString()}, ""),
		c.Security.JWTSecret.LogValue().String(),
	} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("secret leaked: %q", s)
		}
	}
}

func ptr[T any](v T) *T { return &v }
