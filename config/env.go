package config

import (
	"fmt"
	"strconv"
)

// Override is an environment variable that overrides one configuration key.
type Override struct {
	// Var is the environment variable, for example "CIRCUIT_BREAKER_PORT".
	Var string
	// Key is the dotted TOML key it overrides, for example "server.port".
	Key string
	set func(c *Config, v string) error
}

// overrides is the one table of environment overrides.
var overrides = []Override{
	{"CIRCUIT_BREAKER_HOST", "server.host", str(func(c *Config) *string { return &c.Server.Host })},
	{"CIRCUIT_BREAKER_PORT", "server.port", integer(func(c *Config) *int { return &c.Server.Port })},
	{"CIRCUIT_BREAKER_LOG_LEVEL", "server.log_level", str(func(c *Config) *string { return &c.Server.LogLevel })},
	{"CIRCUIT_BREAKER_DATA_DIR", "server.data_dir", str(func(c *Config) *string { return &c.Server.DataDir })},
	{"DATABASE_URL", "database.url", str(func(c *Config) *string { return &c.Database.URL })},
	{"NATS_URL", "nats.url", str(func(c *Config) *string { return &c.NATS.URL })},
	{"NATS_SUBJECT_PREFIX", "nats.subject_prefix", str(func(c *Config) *string { return &c.NATS.SubjectPrefix })},
	{"CIRCUIT_BREAKER_AUTH_MODE", "auth.mode", str(func(c *Config) *string { return &c.Auth.Mode })},
	{"CIRCUIT_BREAKER_ADMIN_KEY", "auth.admin_key", secret(func(c *Config) *Secret { return &c.Auth.AdminKey })},
	{"JWT_SECRET", "security.jwt_secret", secret(func(c *Config) *Secret { return &c.Security.JWTSecret })},
	{"API_RATE_LIMIT", "security.api_rate_limit", integer(func(c *Config) *int { return &c.Security.APIRateLimit })},
	{"ENABLE_METRICS", "observability.enable_metrics", boolean(func(c *Config) *bool { return &c.Observability.EnableMetrics })},
	{"METRICS_PORT", "observability.metrics_port", integer(func(c *Config) *int { return &c.Observability.MetricsPort })},
	{"JAEGER_ENDPOINT", "observability.jaeger_endpoint", str(func(c *Config) *string { return &c.Observability.JaegerEndpoint })},
}

// Overrides returns the environment overrides Load applies, in the order it
// applies them.
func Overrides() []Override { return append([]Override(nil), overrides...) }

// applyEnv applies the overrides set (and not empty) in env and returns, for
// each key overridden, the variable that set it.
func applyEnv(c *Config, env func(string) (string, bool), ps *problems) map[string]string {
	from := map[string]string{}
	for _, o := range overrides {
		v, ok := env(o.Var)
		if !ok || v == "" {
			continue
		}
		if err := o.set(c, v); err != nil {
			ps.add("$"+o.Var, 0, o.Key, err.Error())
			continue
		}
		from[o.Key] = o.Var
	}
	return from
}

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

func secret(field func(*Config) *Secret) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = Secret(v); return nil }
}

func integer(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		*field(c) = n
		return nil
	}
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", v)
		}
		*field(c) = b
		return nil
	}
}
