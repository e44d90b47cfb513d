package llmload

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/api/gateway"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs/natsjstest"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/journal"
	_ "github.com/circuit-breaker/circuit-breaker/providers/openai"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// body is bench/llm.sh's request, "stream" filled in.
func body(stream bool) []byte {
	s := "false"
	if stream {
		s = "true"
	}
	return []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},` +
		`{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32,"stream":` + s + `}`)
}

// discard drops the calls (router.Recorder).
type discard struct{}

func (discard) Record(router.Call) {}

// gatewayServer serves the /v1 routes over one openai deployment on the
// simulator at simURL, recording calls to rec.
func gatewayServer(b *testing.B, simURL string, rec router.Recorder) *httptest.Server {
	b.Helper()
	client, err := providers.New(providers.Config{Name: "openai", Format: "openai", BaseURL: simURL + "/v1", APIKey: "sk-bench"})
	if err != nil {
		b.Fatal(err)
	}
	r, err := router.New(router.Config{
		Deployments: []router.Deployment{{Name: "openai", Provider: "openai", Client: client, Models: []string{"gpt-4o"}}},
		Recorder:    rec,
	})
	if err != nil {
		b.Fatal(err)
	}
	h := gateway.New(gateway.Deps{Router: r, Timeout: time.Minute,
		Authenticate: func(*http.Request) (auth.Principal, error) { return auth.Anonymous(), nil }})
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkGateway(b *testing.B) {
	simSrv := httptest.NewServer(sim.New(sim.Config{}))
	b.Cleanup(simSrv.Close)
	for _, target := range []string{"direct", "via", "via-journal"} {
		for _, stream := range []bool{false, true} {
			name := target + "/plain"
			if stream {
				name = target + "/stream"
			}
			b.Run(name, func(b *testing.B) {
				url := simSrv.URL
				switch target {
				case "via":
					url = gatewayServer(b, simSrv.URL, discard{}).URL
				case "via-journal":
					j := journal.New(natsjstest.Open(b, ""), journal.Options{})
					ctx, cancel := context.WithCancel(context.Background())
					done := make(chan struct{})
					go func() { defer close(done); _ = j.Run(ctx) }()
					b.Cleanup(func() {
						cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
						defer ccancel()
						_ = j.Close(cctx)
						cancel()
						<-done
					})
					url = gatewayServer(b, simSrv.URL, j).URL
				}
				post(b, url+"/v1/chat/completions", body(stream)) // warm the connection pools
				b.ReportAllocs()
				for b.Loop() {
					post(b, url+"/v1/chat/completions", body(stream))
				}
			})
		}
	}
}

// post sends one request and reads the whole answer.
func post(b *testing.B, url string, payload []byte) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-bench")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || n == 0 {
		b.Fatalf("status %d, %d bytes, %v", resp.StatusCode, n, err)
	}
}
