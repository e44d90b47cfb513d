// Package metrics exposes Prometheus metrics: HTTP requests by endpoint and
// status, and every LLM call the router makes — by provider, model, outcome
// and fault domain, with tokens by kind, cost, latency, time to first token
// and the router's own added time. The names follow the seed's
// (circuit_breaker_requests_total, circuit_breaker_llm_requests_total,
// circuit_breaker_cost_tracking_total_usd).
//
// Label values are bounded: endpoints are route names, not raw paths; models
// and providers come from the configured deployments (an unknown model is
// refused before it is counted under its name).
package metrics

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// Metrics holds the collectors of one process.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	llmRequests *prometheus.CounterVec
	llmTokens   *prometheus.CounterVec
	llmCost     *prometheus.CounterVec
	llmUnpriced *prometheus.CounterVec
	llmDuration *prometheus.HistogramVec
	llmTTFT     *prometheus.HistogramVec
	llmAdded    prometheus.Histogram
	llmAttempts *prometheus.CounterVec
}

// New registers the collectors (and the Go runtime and process ones) on a
// registry of their own.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "circuit_breaker_requests_total",
			Help: "HTTP requests by method, endpoint and status."}, []string{"method", "endpoint", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "circuit_breaker_request_duration_seconds",
			Help: "HTTP request duration (streams: until the end of the stream).", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)},
			[]string{"endpoint"}),
		llmRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "circuit_breaker_llm_requests_total",
			Help: "LLM calls by provider, model, outcome (ok, error, cancelled) and fault domain (caller, policy, provider, ours)."},
			[]string{"provider", "model", "outcome", "fault"}),
		llmTokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "circuit_breaker_llm_tokens_total",
			Help: "LLM tokens by provider, model and kind (input, cache_read, cache_write, output, reasoning)."},
			[]string{"provider", "model", "kind"}),
		llmCost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "circuit_breaker_cost_tracking_total_usd",
			Help: "Cost of priced LLM calls in USD."}, []string{"provider", "model"}),
		llmUnpriced: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "circuit_breaker_llm_unpriced_requests_total",
			Help: "LLM calls whose cost is unknown (no price for a token kind they used)."}, []string{"provider", "model"}),
		llmDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "circuit_breaker_llm_request_duration_seconds",
			Help: "LLM call latency to the end of the response.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)},
			[]string{"provider"}),
		llmTTFT: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "circuit_breaker_llm_ttft_seconds",
			Help: "Time to first token of streamed LLM calls.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)},
			[]string{"provider"}),
		llmAdded: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "circuit_breaker_llm_added_seconds",
			Help: "The router's own time per LLM call (total minus upstream).", Buckets: prometheus.ExponentialBuckets(0.00005, 2, 14)}),
		llmAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "circuit_breaker_llm_attempts_total",
			Help: "Attempts on deployments by outcome (ok, error, cancelled, skipped) and error kind."},
			[]string{"deployment", "outcome", "kind"}),
	}
	for _, c := range []prometheus.Collector{m.httpRequests, m.httpDuration, m.llmRequests, m.llmTokens, m.llmCost,
		m.llmUnpriced, m.llmDuration, m.llmTTFT, m.llmAdded, m.llmAttempts} {
		f(c)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Record counts one routed LLM call (router.Recorder).
func (m *Metrics) Record(c router.Call) {
	provider, model := c.Provider, c.Model
	if provider == "" {
		provider = "none"
	}
	if model == "" {
		model = "none" // refused before any deployment was chosen
	}
	fault := c.Fault
	if fault == "" {
		fault = "none"
	}
	m.llmRequests.WithLabelValues(provider, model, c.Outcome, fault).Inc()
	for _, t := range [...]struct {
		kind string
		n    int
	}{{"input", c.Usage.Input}, {"cache_read", c.Usage.CacheRead}, {"cache_write", c.Usage.CacheWrite},
		{"output", c.Usage.Output}, {"reasoning", c.Usage.Reasoning}} {
		if t.n > 0 {
			m.llmTokens.WithLabelValues(provider, model, t.kind).Add(float64(t.n))
		}
	}
	if !c.Usage.IsZero() {
		if c.Priced {
			m.llmCost.WithLabelValues(provider, model).Add(c.CostUSD)
		} else {
			m.llmUnpriced.WithLabelValues(provider, model).Inc()
		}
	}
	m.llmDuration.WithLabelValues(provider).Observe(c.Latency.Seconds())
	if c.Stream && c.TTFT > 0 {
		m.llmTTFT.WithLabelValues(provider).Observe(c.TTFT.Seconds())
	}
	m.llmAdded.Observe(c.AddedTime.Seconds())
	for _, a := range c.Route {
		m.llmAttempts.WithLabelValues(a.Deployment, a.Outcome, string(a.ErrorKind)).Inc()
	}
}

var _ router.Recorder = (*Metrics)(nil)

// Middleware counts the requests next serves.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		ep := Endpoint(r.URL.Path)
		m.httpRequests.WithLabelValues(r.Method, ep, strconv.Itoa(sw.status)).Inc()
		m.httpDuration.WithLabelValues(ep).Observe(time.Since(start).Seconds())
	})
}

// statusWriter remembers the status written. It forwards Flush and
// Unwrap so that streaming and WebSocket upgrades keep working.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets WebSocket upgrades take the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("metrics: %T cannot be hijacked", w.ResponseWriter)
	}
	w.status, w.wrote = http.StatusSwitchingProtocols, true
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach the connection (hijack,
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
