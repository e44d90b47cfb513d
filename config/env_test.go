package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnvOverrides(t *testing.T) {
	tests := map[string]struct {
		value string
		want  func(*Config)
	}{
		"CIRCUIT_BREAKER_HOST":      {"0.0.0.0", func(c *Config) { c.Server.Host = "0.0.0.0" }},
		"CIRCUIT_BREAKER_PORT":      {"8080", func(c *Config) { c.Server.Port = 8080 }},
		"CIRCUIT_BREAKER_LOG_LEVEL": {"debug", func(c *Config) { c.Server.LogLevel = "debug" }},
		"CIRCUIT_BREAKER_DATA_DIR":  {"/srv/cb", func(c *Config) { c.Server.DataDir = "/srv/cb" }},
		"DATABASE_URL":              {"postgresql://db/cb", func(c *Config) { c.Database.URL = "postgresql://db/cb" }},
		"NATS_URL":                  {"nats://n1:4222", func(c *Config) { c.NATS.URL = "nats://n1:4222" }},
		"NATS_SUBJECT_PREFIX":       {"cb", func(c *Config) { c.NATS.SubjectPrefix = "cb" }},
		"JWT_SECRET":                {jwtSecret, func(c *Config) { c.Security.JWTSecret = jwtSecret }},
		"CIRCUIT_BREAKER_AUTH_MODE": {"off", func(c *Config) { c.Auth.Mode = "off" }},
		"CIRCUIT_BREAKER_ADMIN_KEY": {adminKey, func(c *Config) { c.Auth.AdminKey = adminKey }},
		"API_RATE_LIMIT":            {"50", func(c *Config) { c.Security.APIRateLimit = 50 }},
		"ENABLE_METRICS":            {"false", func(c *Config) { c.Observability.EnableMetrics = false }},
		"METRICS_PORT":              {"9100", func(c *Config) { c.Observability.MetricsPort = 9100 }},
		"JAEGER_ENDPOINT":           {"http://j:14268", func(c *Config) { c.Observability.JaegerEndpoint = "http://j:14268" }},
	}
	if len(tests) != len(Overrides()) {
		t.Errorf("%d cases for %d overrides", len(tests), len(Overrides()))
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Load("", mapEnv(map[string]string{name: tt.value}))
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestOverrideKeys checks that every override names a real key.
func TestOverrideKeys(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range Overrides() {
		if seen[o.Var] {
			t.Errorf("%s registered twice", o.Var)
		}
		seen[o.Var] = true
		rv := reflect.ValueOf(&Config{}).Elem()
		for _, k := range strings.Split(o.Key, ".") {
			f, ok := field(rv, k)
			if !ok {
				t.Fatalf("%s: no key %s", o.Var, o.Key)
			}
			rv = f
		}
	}
}

func TestEnvOverridesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cb.toml")
	if err := os.WriteFile(path, []byte("[server]\nport = 5000\nlog_level = \"warn\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, mapEnv(map[string]string{"CIRCUIT_BREAKER_PORT": "6000", "CIRCUIT_BREAKER_LOG_LEVEL": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Server.Port != 6000 || got.Server.LogLevel != "warn" {
		t.Errorf("port %d, log level %q; want 6000 (env) and warn (file; empty env ignored)", got.Server.Port, got.Server.LogLevel)
	}
}

func TestEnvErrors(t *testing.T) {
	tests := map[string]struct {
		file string // contents of file.toml, or none
		env  map[string]string
		want string
	}{
		"not an integer": {
			env:  map[string]string{"CIRCUIT_BREAKER_PORT": "http"},
			want: `$CIRCUIT_BREAKER_PORT: server.port: not an integer: "http"`,
		},
		"not a boolean": {
			env:  map[string]string{"ENABLE_METRICS": "maybe"},
			want: `$ENABLE_METRICS: observability.enable_metrics: not a boolean: "maybe"`,
		},
		"invalid values": {
			env: map[string]string{"CIRCUIT_BREAKER_PORT": "70000", "CIRCUIT_BREAKER_LOG_LEVEL": "loud", "API_RATE_LIMIT": "1.5"},
			want: `$API_RATE_LIMIT: security.api_rate_limit: not an integer: "1.5"` + "\n" +
				`$CIRCUIT_BREAKER_PORT: server.port: must be between 1 and 65535, got 70000` + "\n" +
				`$CIRCUIT_BREAKER_LOG_LEVEL: server.log_level: must be one of debug, info, warn, error, got "loud"`,
		},
		"file problems first": {
			file: "[server]\nport = 0\nhost = \"${NOPE}\"\n",
			env:  map[string]string{"METRICS_PORT": "-1", "JAEGER_ENDPOINT": "localhost"},
			want: `file.toml:2: server.port: must be between 1 and 65535, got 0` + "\n" +
				`file.toml:3: server.host: environment variable NOPE is not set (write ${NOPE:-default} to give a default)` + "\n" +
				`$METRICS_PORT: observability.metrics_port: must be between 1 and 65535, got -1` + "\n" +
				`$JAEGER_ENDPOINT: observability.jaeger_endpoint: must be an http or https URL, got "localhost"`,
		},
		"env fixes the file": {
			file: "[server]\nport = 0\n",
			env:  map[string]string{"CIRCUIT_BREAKER_PORT": "4001", "NATS_SUBJECT_PREFIX": "a b"},
			want: `$NATS_SUBJECT_PREFIX: nats.subject_prefix: must be a NATS subject without spaces or wildcards, got "a b"`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				t.Chdir(t.TempDir())
				path = "file.toml"
				if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(path, mapEnv(tt.env))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want *Error", err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
