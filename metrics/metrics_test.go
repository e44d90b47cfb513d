package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/metrics"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestRecordCountsCallsTokensAndCost(t *testing.T) {
	m := metrics.New()
	m.Record(router.Call{Provider: "openai", Model: "gpt-4o", Outcome: router.OutcomeOK, Priced: true, CostUSD: 0.25,
		Usage: llm.Usage{Input: 100, CacheRead: 20, Output: 7}, Latency: 80 * time.Millisecond, AddedTime: 100 * time.Microsecond,
		Route: []router.Attempt{{Deployment: "openai", Outcome: "error", ErrorKind: llm.KindRateLimit}, {Deployment: "openai", Outcome: "ok"}}})
	m.Record(router.Call{Provider: "local", Model: "llama", Outcome: router.OutcomeError, Fault: "provider", Usage: llm.Usage{Input: 5}})
	out := scrape(t, m)
	for _, want := range []string{
		`circuit_breaker_llm_requests_total{fault="none",model="gpt-4o",outcome="ok",provider="openai"} 1`,
		`circuit_breaker_llm_requests_total{fault="provider",model="llama",outcome="error",provider="local"} 1`,
		`circuit_breaker_llm_tokens_total{kind="cache_read",model="gpt-4o",provider="openai"} 20`,
		`circuit_breaker_cost_tracking_total_usd{model="gpt-4o",provider="openai"} 0.25`,
		`circuit_breaker_llm_unpriced_requests_total{model="llama",provider="local"} 1`,
		`circuit_breaker_llm_attempts_total{deployment="openai",kind="rate_limit",outcome="error"} 1`,
		`circuit_breaker_llm_added_seconds_count 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(out, `circuit_breaker_cost_tracking_total_usd{model="llama"`) {
		t.Error("an unpriced call was counted as a cost")
	}
}

func TestMiddlewareCountsByRouteAndKeepsUpgrades(t *testing.T) {
	m := metrics.New()
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte("hi"))
		c.Close()
	})
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	srv := httptest.NewServer(m.Middleware(mux))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", nil)
	if err != nil {
		t.Fatalf("upgrade through the middleware: %v", err)
	}
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "hi" {
		t.Fatalf("read %q %v", msg, err)
	}
	c.Close()
	for _, p := range []string{"/v1/models/gpt-4o", "/no/such/thing"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	out := scrape(t, m)
	for _, want := range []string{
		`circuit_breaker_requests_total{endpoint="/graphql",method="GET",status="101"} 1`,
		`circuit_breaker_requests_total{endpoint="/v1/models",method="GET",status="404"} 1`,
		`circuit_breaker_requests_total{endpoint="other",method="GET",status="404"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, grep(out, "circuit_breaker_requests_total"))
		}
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestEndpoint(t *testing.T) {
	for path, want := range map[string]string{
		"/v1/chat/completions": "/v1/chat/completions", "/v1/models/a/b": "/v1/models", "/v1/modelsx": "other",
		"/api/v1/resources/r1/history": "/api/v1/resources", "/": "other", "/graphql": "/graphql",
	} {
		if got := metrics.Endpoint(path); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", path, got, want)
		}
	}
}
