package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// checker reports validation problems against the source of each key: the
// environment variable that set it, else its line in the file, else nothing
// (a default).
type checker struct {
	file string
	pos  positions
	from map[string]string
	ps   *problems
}

// fail records a problem with key, unless decoding it failed already (the
// value checked is then a leftover, not what the user wrote).
func (ch *checker) fail(key, format string, args ...any) {
	if ch.ps.keys[key] {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if v, ok := ch.from[key]; ok {
		ch.ps.add("$"+v, 0, key, msg)
		return
	}
	if l, ok := ch.pos[key]; ok {
		ch.ps.add(ch.file, l, key, msg)
		return
	}
	ch.ps.add("", 0, key, msg)
}

func (ch *checker) port(key string, v int) {
	if v < 1 || v > 65535 {
		ch.fail(key, "must be between 1 and 65535, got %d", v)
	}
}

func (ch *checker) min(key string, v, lo int) {
	if v < lo {
		ch.fail(key, "must be %d or more, got %d", lo, v)
	}
}

func (ch *checker) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		ch.fail(key, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}

func (ch *checker) nonEmpty(key, v string) {
	if strings.TrimSpace(v) == "" {
		ch.fail(key, "must not be empty")
	}
}

// httpURL checks that v, if set, is an absolute http or https URL.
func (ch *checker) httpURL(key, v string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ch.fail(key, "must be an http or https URL, got %q", v)
	}
}

func validate(c *Config, ch *checker) {
	s := c.Server
	ch.nonEmpty("server.host", s.Host)
	ch.port("server.port", s.Port)
	ch.min("server.workers", s.Workers, 0)
	ch.nonEmpty("server.data_dir", s.DataDir)
	ch.oneOf("server.log_level", s.LogLevel, "debug", "info", "warn", "error")
	ch.oneOf("server.log_format", s.LogFormat, "text", "json")

	ch.min("database.max_connections", c.Database.MaxConnections, 0)
	ch.min("database.timeout_seconds", c.Database.TimeoutSeconds, 0)

	ch.min("llm.max_concurrent_requests", c.LLM.MaxConcurrentRequests, 0)
	ch.min("llm.request_timeout_seconds", c.LLM.RequestTimeoutSeconds, 0)
	for _, name := range sortedKeys(c.LLM.Providers) {
		p := c.LLM.Providers[name]
		base := keyString([]string{"llm", "providers", name})
		ch.httpURL(base+".base_url", p.BaseURL)
		if p.Format != "" {
			ch.oneOf(base+".format", p.Format, LLMFormats...)
		}
		for i, m := range p.Models {
			ch.nonEmpty(keyString([]string{"llm", "providers", name, "models", elem(i)}), m)
		}
		ch.min(base+".weight", p.Weight, 0)
		for _, m := range sortedKeys(p.Prices) {
			pr := p.Prices[m]
			for i, v := range []*float64{pr.Input, pr.Output, pr.CacheRead, pr.CacheWrite, pr.Reasoning} {
				if v != nil && *v < 0 {
					field := [...]string{"input", "output", "cache_read", "cache_write", "reasoning"}[i]
					ch.fail(keyString([]string{"llm", "providers", name, "prices", m, field}), "must be 0 or more, got %g", *v)
				}
			}
		}
	}
	for _, name := range sortedKeys(c.LLM.VirtualModels) {
		v := c.LLM.VirtualModels[name]
		base := keyString([]string{"llm", "virtual_models", name})
		if v.Strategy != "" {
			ch.oneOf(base+".strategy", v.Strategy, "fallback", "weighted", "cheapest", "fastest")
		}
		if len(v.Models) == 0 {
			ch.fail(base+".models", "must list at least one model")
		}
		for i, m := range v.Models {
			ch.nonEmpty(keyString([]string{"llm", "virtual_models", name, "models", elem(i)}), m)
		}
		if len(v.Weights) > 0 && len(v.Weights) != len(v.Models) {
			ch.fail(base+".weights", "must give one weight per model (%d models, %d weights)", len(v.Models), len(v.Weights))
		}
	}
	r := c.LLM.Routing
	ch.min("llm.routing.max_attempts", r.MaxAttempts, 1)
	ch.min("llm.routing.breaker_failures", r.BreakerFailures, 1)
	if r.RetryMaxDelay < r.RetryBaseDelay {
		ch.fail("llm.routing.retry_max_delay", "must be at least retry_base_delay (%s), got %s", r.RetryBaseDelay, r.RetryMaxDelay)
	}

	for _, u := range strings.Split(c.NATS.URL, ",") {
		if c.NATS.URL == "" {
			break
		}
		if p, err := url.Parse(strings.TrimSpace(u)); err != nil || p.Scheme == "" || p.Host == "" {
			ch.fail("nats.url", "must be a comma-separated list of URLs like nats://host:4222, got %q", c.NATS.URL)
			break
		}
	}
	if sp := c.NATS.SubjectPrefix; sp == "" || strings.ContainsAny(sp, " \t\r\n*>") ||
		strings.HasPrefix(sp, ".") || strings.HasSuffix(sp, ".") || strings.Contains(sp, "..") {
		ch.fail("nats.subject_prefix", "must be a NATS subject without spaces or wildcards, got %q", sp)
	}
	ch.min("nats.max_reconnect_attempts", c.NATS.MaxReconnectAttempts, -1)

	ch.min("security.api_rate_limit", c.Security.APIRateLimit, 0)
	for i, o := range c.Security.AllowedOrigins {
		key := keyString([]string{"security", "allowed_origins", elem(i)})
		if o == "" {
			ch.fail(key, "must not be empty")
		} else if o != "*" {
			ch.httpURL(key, o)
		}
	}
	ch.min("security.rate_limiting.requests_per_minute", c.Security.RateLimiting.RequestsPerMinute, 0)
	ch.min("security.rate_limiting.burst_size", c.Security.RateLimiting.BurstSize, 0)

	ch.port("observability.metrics_port", c.Observability.MetricsPort)
	ch.httpURL("observability.jaeger_endpoint", c.Observability.JaegerEndpoint)

	ch.min("events.snapshot_every", c.Events.SnapshotEvery, 0)
	if d := time.Duration(c.Actors.PassivateAfter); d <= 0 {
		ch.fail("actors.passivate_after", "must be more than 0, got %s", d)
	}
	validateAuth(c, ch)
}

// LLMFormats are the wire formats a deployment may use.
var LLMFormats = []string{"openai", "azure", "anthropic", "gemini", "bedrock", "cohere", "ollama"}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
