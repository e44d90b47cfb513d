package e2e

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// llmCall is the data of an LlmCallCompleted event, as documented in
// events/catalog_llm.go (decoded independently of the product's type).
type llmCall struct {
	CallID         string `json:"callId"`
	Tenant         string `json:"tenant"`
	KeyID          string `json:"keyId"`
	User           string `json:"user"`
	Project        string `json:"project"`
	RequestedModel string `json:"requestedModel"`
	Provider       string `json:"provider"`
	Deployment     string `json:"deployment"`
	Model          string `json:"model"`
	Route          []struct {
		Deployment string `json:"deployment"`
		Model      string `json:"model"`
		Outcome    string `json:"outcome"`
		ErrorKind  string `json:"errorKind"`
		Status     int    `json:"status"`
	} `json:"route"`
	Stream bool `json:"stream"`
	Tokens struct {
		Input      int `json:"input"`
		CacheRead  int `json:"cacheRead"`
		CacheWrite int `json:"cacheWrite"`
		Output     int `json:"output"`
		Reasoning  int `json:"reasoning"`
	} `json:"tokens"`
	Estimated bool    `json:"tokensEstimated"`
	CostUSD   float64 `json:"costUsd"`
	Priced    bool    `json:"priced"`
	Outcome   string  `json:"outcome"`
	ErrorKind string  `json:"errorKind"`
	Error     string  `json:"error"`
}

// loggedEvent is an event of the GraphQL events query.
type loggedEvent struct {
	Position int             `json:"position"`
	Stream   string          `json:"stream"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
}

// gqlAs runs a GraphQL request as tenant (the X-Tenant header; the server
// has authentication off) or with token (when it starts with "cb_" or is
// the admin key), and decodes its data into out. It fails the test on any
// error.
func (s *llmServer) gqlAs(t *testing.T, tenant, query string, vars map[string]any, out any) gqlResp {
	t.Helper()
	r := s.do(t, http.MethodPost, "/graphql", map[string]any{"query": query, "variables": vars}, credHeaders(tenant)...)
	var g gqlResp
	g.Status, g.Body = r.Status, r.Body
	if r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, &g); err != nil {
			t.Fatalf("GraphQL answer %s: %v", r.Body, err)
		}
	}
	if out != nil {
		if g.Status != http.StatusOK || len(g.Errors) > 0 {
			t.Fatalf("GraphQL request failed: %d %s\nquery: %s", g.Status, g.Body, query)
		}
		if err := json.Unmarshal(g.Data, out); err != nil {
			t.Fatalf("decoding %s: %v", g.Data, err)
		}
	}
	return g
}

// credHeaders are the headers that make a request act for who: an API key
// or the admin key as a bearer token, else a tenant name in X-Tenant
// (authentication off).
func credHeaders(who string) []string {
	switch {
	case who == "":
		return nil
	case strings.HasPrefix(who, "cb_") || who == adminKey:
		return []string{"Authorization", "Bearer " + who}
	default:
		return []string{"X-Tenant", who}
	}
}

// llmCalls returns the LlmCallCompleted events of stream that who sees in
// the audit log (the GraphQL events query, position 1 onwards), keyed by
// call id.
func (s *llmServer) llmCalls(t *testing.T, who, stream string) map[string]llmCall {
	t.Helper()
	var out struct {
		Events []loggedEvent `json:"events"`
	}
	s.gqlAs(t, who, `{ events(from: 1, limit: 1000) { position stream type data } }`, nil, &out)
	calls := map[string]llmCall{}
	for _, e := range out.Events {
		if e.Stream != stream || e.Type != "LlmCallCompleted" {
			continue
		}
		var c llmCall
		if err := json.Unmarshal(e.Data, &c); err != nil {
			t.Fatalf("event %d data %s: %v", e.Position, e.Data, err)
		}
		if _, dup := calls[c.CallID]; dup {
			t.Fatalf("call %s recorded twice", c.CallID)
		}
		calls[c.CallID] = c
	}
	return calls
}

// waitCalls polls who's audit log until stream holds every call of ids
// (the journal appends off the response path) and returns them. It fails
// after 20 s.
func (s *llmServer) waitCalls(t *testing.T, who, stream string, ids ...string) map[string]llmCall {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		calls := s.llmCalls(t, who, stream)
		missing := 0
		for _, id := range ids {
			if _, ok := calls[id]; !ok {
				missing++
			}
		}
		if missing == 0 {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d calls %v not in %s after 20s; have %d:\n%+v\nserver log:\n%s", missing, len(ids), ids, stream, len(calls), calls, s.serverLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// catalogPrice is a model's price in USD per 1M tokens, read from the
// catalogue file the binary embeds.
type catalogPrice struct {
	Input      float64  `json:"input"`
	Output     float64  `json:"output"`
	CacheRead  *float64 `json:"cache_read"`
	CacheWrite *float64 `json:"cache_write"`
	Reasoning  *float64 `json:"reasoning"`
}

var (
	catalogOnce sync.Once
	catalogData struct {
		PriceUnit string `json:"price_unit"`
		Providers map[string]struct {
			Models map[string]struct {
				Cost *catalogPrice `json:"cost"`
			} `json:"models"`
		} `json:"providers"`
	}
	catalogErr error
)

// priceOf reads provider's model price from providers/catalog/models-dev.json.
func priceOf(t *testing.T, provider, model string) catalogPrice {
	t.Helper()
	catalogOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("..", "providers", "catalog", "models-dev.json"))
		if err != nil {
			catalogErr = err
			return
		}
		catalogErr = json.Unmarshal(b, &catalogData)
	})
	if catalogErr != nil {
		t.Fatal(catalogErr)
	}
	if catalogData.PriceUnit != "USD per 1M tokens" {
		t.Fatalf("catalogue price unit %q", catalogData.PriceUnit)
	}
	m, ok := catalogData.Providers[provider].Models[model]
	if !ok || m.Cost == nil {
		t.Fatalf("catalogue has no price for %s/%s", provider, model)
	}
	return *m.Cost
}

// cost is what tokens cost at p, in USD.
func (p catalogPrice) cost(t *testing.T, input, cacheRead, cacheWrite, output int) float64 {
	t.Helper()
	usd := float64(input)*p.Input + float64(output)*p.Output
	if cacheRead > 0 {
		if p.CacheRead == nil {
			t.Fatal("no cache_read price")
		}
		usd += float64(cacheRead) * *p.CacheRead
	}
	if cacheWrite > 0 {
		if p.CacheWrite == nil {
			t.Fatal("no cache_write price")
		}
		usd += float64(cacheWrite) * *p.CacheWrite
	}
	return usd / 1e6
}

// reasoningCost is what reasoning tokens cost at p: the reasoning price,
// else the output price (reasoning is output).
func (p catalogPrice) reasoningCost(tokens int) float64 {
	if p.Reasoning != nil {
		return float64(tokens) * *p.Reasoning / 1e6
	}
	return float64(tokens) * p.Output / 1e6
}

// sameUSD reports whether two costs agree to float noise.
func sameUSD(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12+1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// callStream is the stored name of a tenant's stream of LLM calls, as the
// events query shows it; the tenant itself reads it as "llm-calls".
func callStream(tenant string) string { return "llm-" + tenant + ":calls" }
