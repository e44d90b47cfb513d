package config

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of a Circuit Breaker node. Its zero value
// is not useful; start from [Default] or [Load].
type Config struct {
	Server        Server        `toml:"server"`
	Database      Database      `toml:"database"`
	LLM           LLM           `toml:"llm"`
	NATS          NATS          `toml:"nats"`
	Security      Security      `toml:"security"`
	Observability Observability `toml:"observability"`
	Events        Events        `toml:"events"`
	Actors        Actors        `toml:"actors"`
	Auth          Auth          `toml:"auth"`
}

// Server configures the HTTP/GraphQL listener and the process itself.
type Server struct {
	// Host is the address to listen on. The default is loopback; binding
	// elsewhere is a deliberate choice (see AllowInsecurePublicBind).
	Host string `toml:"host"`
	// Port is the TCP port to listen on, 1..65535.
	Port int `toml:"port"`
	// Workers bounds request-handling parallelism; 0 lets the server choose.
	Workers int `toml:"workers"`
	// DataDir holds the embedded event store and other local state.
	DataDir string `toml:"data_dir"`
	// LogLevel is one of "debug", "info", "warn", "error".
	LogLevel string `toml:"log_level"`
	// LogFormat is "text" or "json".
	LogFormat string `toml:"log_format"`
	// AllowInsecurePublicBind records the operator's consent to listen on a
	// non-loopback host without authentication. Config only carries the
	// flag; the server enforces it (see [Config.IsLoopback]).
	AllowInsecurePublicBind bool `toml:"allow_insecure_public_bind"`
}

// Database configures an external SQL database. It is accepted for
// compatibility with existing configuration files and not used yet.
type Database struct {
	URL            string `toml:"url"`
	MaxConnections int    `toml:"max_connections"`
	TimeoutSeconds int    `toml:"timeout_seconds"`
}

// LLM configures the LLM router.
type LLM struct {
	// DefaultProvider names the provider used when a request names none;
	// empty lets the router choose.
	DefaultProvider       string `toml:"default_provider"`
	MaxConcurrentRequests int    `toml:"max_concurrent_requests"`
	RequestTimeoutSeconds int    `toml:"request_timeout_seconds"`
	// Providers holds per-deployment settings, keyed by deployment name
	// ([llm.providers.<name>]). A name that is a catalogue provider
	// ("openai", "groq", …) takes its format, base URL and key variable
	// from the catalogue; any other name needs format and base_url.
	Providers map[string]Provider `toml:"providers"`
	// VirtualModels are model names that route to other models
	// ([llm.virtual_models.<name>]).
	VirtualModels map[string]VirtualModel `toml:"virtual_models"`
	// Routing tunes retries and circuit breakers.
	Routing Routing `toml:"routing"`
	// FromEnv adds a deployment for every catalogue provider whose key
	// variable is set (OPENAI_API_KEY, ANTHROPIC_API_KEY, …) and that is
	// not configured under providers. On by default.
	FromEnv *bool `toml:"from_env"`
}

// Provider configures one LLM deployment.
type Provider struct {
	// Format is the wire format: openai, azure, anthropic, gemini, bedrock,
	// cohere or ollama. Empty takes the catalogue provider's.
	Format string `toml:"format"`
	// Provider is the catalogue provider whose prices apply; empty means
	// the deployment's name.
	Provider string `toml:"provider"`
	APIKey   Secret `toml:"api_key"`
	// BaseURL overrides the provider's default endpoint; empty keeps it.
	BaseURL string `toml:"base_url"`
	// Models lists the models offered through this deployment; empty offers
	// every catalogue model of the provider.
	Models []string `toml:"models"`
	// ModelMap renames public model names to the upstream's ids (an Azure
	// deployment name, a Bedrock inference profile).
	ModelMap map[string]string `toml:"model_map"`
	// Headers are sent with every upstream request.
	Headers map[string]string `toml:"headers"`
	// APIVersion is Azure's api-version (or Anthropic's version header).
	APIVersion string `toml:"api_version"`
	// Region and the AWS credentials sign Bedrock requests.
	Region          string `toml:"region"`
	AccessKeyID     string `toml:"access_key_id"`
	SecretAccessKey Secret `toml:"secret_access_key"`
	SessionToken    Secret `toml:"session_token"`
	// Weight is the deployment's share when several serve one model.
	Weight int `toml:"weight"`
	// Prices override the catalogue's, per model, in USD per 1M tokens.
	Prices map[string]Price `toml:"prices"`
}

// Price is a model's price in USD per 1M tokens. A field left out keeps
// the catalogue's value.
type Price struct {
	Input      *float64 `toml:"input"`
	Output     *float64 `toml:"output"`
	CacheRead  *float64 `toml:"cache_read"`
	CacheWrite *float64 `toml:"cache_write"`
	Reasoning  *float64 `toml:"reasoning"`
}

// VirtualModel is a model name that routes to others.
type VirtualModel struct {
	// Strategy is fallback (in order), weighted, cheapest or fastest.
	Strategy string `toml:"strategy"`
	// Models are the targets, "model" or "deployment/model".
	Models []string `toml:"models"`
	// Weights, for the weighted strategy, one per model.
	Weights []int `toml:"weights"`
}

// Routing tunes retries and circuit breakers.
type Routing struct {
	// MaxAttempts per deployment for retryable errors (429, 5xx, timeouts).
	MaxAttempts int `toml:"max_attempts"`
	// RetryBaseDelay and RetryMaxDelay bound the jittered backoff.
	RetryBaseDelay Duration `toml:"retry_base_delay"`
	RetryMaxDelay  Duration `toml:"retry_max_delay"`
	// BreakerFailures consecutive provider failures open a deployment's
	// breaker for BreakerOpenFor.
	BreakerFailures int      `toml:"breaker_failures"`
	BreakerOpenFor  Duration `toml:"breaker_open_for"`
}

// NATS configures the event store and bus.
type NATS struct {
	// URL of an external NATS cluster (comma-separated server URLs); empty
	// runs the embedded server with its file store in Server.DataDir.
	URL           string `toml:"url"`
	SubjectPrefix string `toml:"subject_prefix"`
	// MaxReconnectAttempts for an external cluster; -1 retries forever.
	MaxReconnectAttempts int `toml:"max_reconnect_attempts"`
}

// Security configures authentication, CORS and rate limits.
type Security struct {
	JWTSecret Secret `toml:"jwt_secret"`
	// APIRateLimit is requests per minute across the API; 0 disables it.
	APIRateLimit   int          `toml:"api_rate_limit"`
	EnableCORS     bool         `toml:"enable_cors"`
	AllowedOrigins []string     `toml:"allowed_origins"`
	RateLimiting   RateLimiting `toml:"rate_limiting"`
}

// RateLimiting configures the token-bucket rate limiter.
type RateLimiting struct {
	RequestsPerMinute   int  `toml:"requests_per_minute"`
	BurstSize           int  `toml:"burst_size"`
	EnablePerUserLimits bool `toml:"enable_per_user_limits"`
}

// Observability configures metrics and tracing.
type Observability struct {
	EnableMetrics bool `toml:"enable_metrics"`
	MetricsPort   int  `toml:"metrics_port"`
	EnableTracing bool `toml:"enable_tracing"`
	// JaegerEndpoint is the trace collector's URL; empty disables export.
	JaegerEndpoint string `toml:"jaeger_endpoint"`
}

// Events configures the event store.
type Events struct {
	// SnapshotEvery is how many events a stream may grow by before its actor
	// writes a snapshot; 0 disables snapshots.
	SnapshotEvery int `toml:"snapshot_every"`
}

// Actors configures virtual actors.
type Actors struct {
	// PassivateAfter is how long an idle actor stays in memory.
	PassivateAfter Duration `toml:"passivate_after"`
}

// Default returns the default configuration: loopback on port 4000, data in
// ./data, info logs as text, embedded NATS.
func Default() Config {
	return Config{
		Server: Server{
			Host:      "127.0.0.1",
			Port:      4000,
			DataDir:   "./data",
			LogLevel:  "info",
			LogFormat: "text",
		},
		Database: Database{MaxConnections: 20, TimeoutSeconds: 30},
		LLM: LLM{MaxConcurrentRequests: 100, RequestTimeoutSeconds: 60, Routing: Routing{
			MaxAttempts: 2, RetryBaseDelay: Duration(200 * time.Millisecond), RetryMaxDelay: Duration(5 * time.Second),
			BreakerFailures: 5, BreakerOpenFor: Duration(30 * time.Second),
		}},
		NATS: NATS{SubjectPrefix: "circuit-breaker", MaxReconnectAttempts: 10},
		Security: Security{
			APIRateLimit: 1000,
			RateLimiting: RateLimiting{RequestsPerMinute: 1000, BurstSize: 100},
		},
		Observability: Observability{EnableMetrics: true, MetricsPort: 9090},
		Events:        Events{SnapshotEvery: 100},
		Actors:        Actors{PassivateAfter: Duration(2 * time.Minute)},
		Auth:          DefaultAuth(),
	}
}

// Addr returns the listen address, host:port.
func (c Config) Addr() string {
	return net.JoinHostPort(c.Server.Host, strconv.Itoa(c.Server.Port))
}

// IsLoopback reports whether the server listens on loopback only: "localhost",
// an address in 127.0.0.0/8, or ::1.
func (c Config) IsLoopback() bool {
	h := strings.TrimSuffix(strings.TrimPrefix(c.Server.Host, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// SlogLevel returns LogLevel as a slog.Level; it assumes a validated config
// and returns slog.LevelInfo for anything it does not know.
func (s Server) SlogLevel() slog.Level {
	switch s.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Duration is a time.Duration written in TOML as a string such as "2m" or
// "1h30m".
type Duration time.Duration

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q, want one like \"90s\", \"2m\" or \"1h30m\"", b)
	}
	*d = Duration(v)
	return nil
}

// Secret is a string that does not print: fmt, slog and text encoders show
// "[redacted]" (or "" when empty). Use string(s) for the value.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString is like String, for %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler, redacted.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
