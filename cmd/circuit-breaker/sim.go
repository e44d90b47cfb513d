package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// runSim runs the LLM provider simulator until ctx ends.
func runSim(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("sim", "sim [flags]",
		`Runs the LLM provider simulator: one HTTP server that speaks the wire
formats of OpenAI, Azure OpenAI, Anthropic, Gemini, AWS Bedrock, Cohere and
Ollama, for tests, benchmarks and demos. It is never an upstream of the
product. Replies are generated deterministically unless scripted through
POST /_sim/script; GET /_sim/requests lists what it received, POST
/_sim/reset forgets both, PUT /_sim/config changes the flags' settings.
It stops on SIGINT or SIGTERM.
`, stderr)
	addr := fs.String("addr", "127.0.0.1:4010", "`address` to listen on (port 0 picks a free one)")
	addrFile := fs.String("addr-file", "", "write the actual listen address to this `file` once listening")
	latency := fs.Duration("latency", 0, "wait before the response headers")
	ttft := fs.Duration("ttft", 0, "wait after the headers, before the first token")
	tps := fs.Float64("tokens-per-second", 0, "pace output tokens; 0 sends them at once")
	errorRate := fs.Float64("error-rate", 0, "`fraction` (0..1) of requests that fail with a 500")
	rateLimitRate := fs.Float64("rate-limit-rate", 0, "`fraction` (0..1) of requests that fail with a 429")
	retryAfter := fs.Duration("retry-after", time.Second, "Retry-After of the injected 429s")
	apiKey := fs.String("api-key", "", "the only `key` accepted (default: any key)")
	seed := fs.Int64("seed", 0, "seed of the generated replies and injected failures")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *errorRate < 0 || *errorRate > 1:
		return usageErr("--error-rate must be between 0 and 1, got %v", *errorRate)
	case *rateLimitRate < 0 || *rateLimitRate > 1:
		return usageErr("--rate-limit-rate must be between 0 and 1, got %v", *rateLimitRate)
	case *tps < 0:
		return usageErr("--tokens-per-second must not be negative, got %v", *tps)
	case *latency < 0 || *ttft < 0 || *retryAfter < 0:
		return usageErr("--latency, --ttft and --retry-after must not be negative")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	s := sim.New(sim.Config{Latency: *latency, TTFT: *ttft, TokensPerSecond: *tps, ErrorRate: *errorRate,
		RateLimitRate: *rateLimitRate, RetryAfter: *retryAfter, APIKey: *apiKey, Seed: *seed})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Cancelling the requests' context ends streams and hanging replies, so
	// that the shutdown does not wait for them.
	baseCtx, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	// HTTP/2 without TLS too: AWS's JavaScript SDK speaks it to Bedrock
	// endpoints given as http:// URLs.
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Protocols:         &protocols,
	}
	failed := make(chan error, 1)
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- err
		}
		close(failed)
	}()
	url := "http://" + ln.Addr().String()
	log.Info("simulator listening", "url", url)
	for _, f := range [...][2]string{
		{"openai", url + "/v1"},
		{"azure", url},
		{"anthropic", url},
		{"gemini", url},
		{"bedrock", url},
		{"cohere", url},
		{"ollama", url},
	} {
		log.Info("base URL", "format", f[0], "base_url", f[1])
	}
	log.Info("control", "script", "POST "+url+"/_sim/script", "requests", "GET "+url+"/_sim/requests",
		"reset", "POST "+url+"/_sim/reset", "config", "PUT "+url+"/_sim/config")
	if *addrFile != "" {
		if err := writeFileAtomic(*addrFile, ln.Addr().String()+"\n"); err != nil {
			log.Error("writing the address file", "err", err)
		}
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-failed:
		err = fmt.Errorf("http: %w", err)
	}
	cancelRequests()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if serr := hs.Shutdown(sctx); serr != nil {
		_ = hs.Close()
	}
	for range failed { // wait for Serve to return
	}
	log.Info("stopped")
	return err
}
