package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/api"
	"github.com/circuit-breaker/circuit-breaker/api/gql"
	"github.com/circuit-breaker/circuit-breaker/auth"
	"github.com/circuit-breaker/circuit-breaker/config"
	"github.com/circuit-breaker/circuit-breaker/events/feed"
	"github.com/circuit-breaker/circuit-breaker/metrics"
	"github.com/circuit-breaker/circuit-breaker/projections"
	"github.com/circuit-breaker/circuit-breaker/providers/journal"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// shutdownTimeout bounds the graceful shutdown of the HTTP server and the
// actors.
const shutdownTimeout = 15 * time.Second

func serve(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("serve", "serve [flags]",
		`Runs the server: the event store (embedded NATS in <data-dir>/nats unless
NATS_URL or nats.url names a cluster), the workflow actors, the projections
and the HTTP API. Flags override the configuration file and the environment.
The server refuses a non-loopback host unless authentication is required
(auth.mode = "required" with an admin key or JWT keys) or
server.allow_insecure_public_bind is true. It stops gracefully on SIGINT
or SIGTERM.
`, stderr)
	cf := addConfigFlags(fs)
	host := fs.String("host", "", "`address` to listen on (overrides server.host)")
	port := fs.Int("port", 0, "TCP `port` to listen on; 0 picks a free one (overrides server.port)")
	addrFile := fs.String("addr-file", "", "write the actual listen address to this `file` once listening")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(fs, stderr)
	if err != nil {
		return err
	}
	if isSet(fs, "host") {
		cfg.Server.Host = *host
	}
	if isSet(fs, "port") {
		if *port < 0 || *port > 65535 {
			return usageErr("--port must be between 0 and 65535, got %d", *port)
		}
		cfg.Server.Port = *port
	}
	if !cfg.IsLoopback() && !cfg.AuthConfigured() && !cfg.Server.AllowInsecurePublicBind {
		return usageErr("refusing to listen on %s without authentication: beyond loopback (127.0.0.1, ::1, localhost) "+
			"set auth.mode = \"required\" with auth.admin_key or auth.jwt keys, "+
			"or, to expose the API unauthenticated anyway, server.allow_insecure_public_bind = true", cfg.Addr())
	}
	return (&server{cfg: cfg, log: newLogger(cfg, stderr), addrFile: *addrFile}).run(ctx)
}

// server is one run of the serve command.
type server struct {
	cfg      config.Config
	log      *slog.Logger
	addrFile string
}

// run starts every part, serves until ctx ends or a part fails, then stops
// them in reverse order: HTTP, actors, projections, event store.
func (s *server) run(ctx context.Context) (err error) {
	log := s.log
	if !s.cfg.IsLoopback() && !s.cfg.AuthConfigured() {
		log.Warn("listening on a non-loopback address WITHOUT required authentication", "host", s.cfg.Server.Host)
	}
	store, closeStore, err := openStore(ctx, s.cfg, log)
	if err != nil {
		return err
	}
	defer closeStore()

	snapEvery := s.cfg.Events.SnapshotEvery
	if snapEvery == 0 {
		snapEvery = -1 // config: 0 disables; actors: negative disables
	}
	// The projection runner: owned here, started below, stopped after the
	// HTTP server. The LLM router reads its views (tenants' virtual models).
	runner := projections.NewRunner(store, store, projections.NewViews(), projections.RunnerOptions{Logger: log.With("component", "projections")})

	// The LLM router: every call's event goes through the journal, which
	// appends off the response path (its Run starts below) and is drained
	// after the HTTP server. Agent runs call models through it too.
	calls := journal.New(store, journal.Options{Logger: log.With("component", "journal")})
	var mets *metrics.Metrics
	var rec router.Recorder = calls
	if s.cfg.Observability.EnableMetrics {
		mets = metrics.New()
		rec = router.Recorders(calls, mets)
	}
	llmRouter, err := newRouter(s.cfg.LLM, os.Getenv, rec, gql.TenantModels{Views: runner.Views()}, log.With("component", "router"))
	if err != nil {
		return fmt.Errorf("llm router: %w", err)
	}
	logDeployments(log, llmRouter)

	sys := actors.New(store, actors.Options{
		PassivateAfter: time.Duration(s.cfg.Actors.PassivateAfter),
		SnapshotEvery:  snapEvery,
		Logger:         log.With("component", "actors"),
		LLM:            llmRouter,
	})

	runCtx, stopRunner := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	failed := make(chan error, 3)
	wg.Go(func() {
		// Run may report runCtx's end as an error when it ends during start-up.
		if err := runner.Run(runCtx); err != nil && runCtx.Err() == nil {
			failed <- fmt.Errorf("projections: %w", err)
		}
	})
	defer func() {
		stopRunner()
		wg.Wait()
	}()
	wg.Go(func() { s.logWhenReady(runCtx, runner) })

	// Workflow automation: automatic activities, agent activities' runs,
	// human waits and their timeouts. It follows the log from its
	// checkpoint; sys.Stop stops it before the actors.
	automation := actors.NewAutomation(sys, actors.AutomationOptions{Logger: log.With("component", "automation")})
	wg.Go(func() {
		if err := automation.Run(runCtx); err != nil && runCtx.Err() == nil {
			failed <- fmt.Errorf("automation: %w", err)
		}
	})

	// API keys: the index is loaded before serving, then follows the log.
	keys := auth.NewKeys(store, auth.KeysOptions{Logger: log.With("component", "auth")})
	if err := keys.Load(ctx); err != nil {
		stopActors(sys, log)
		return fmt.Errorf("load API keys: %w", err)
	}
	wg.Go(func() {
		if err := keys.Run(runCtx); err != nil && runCtx.Err() == nil {
			failed <- fmt.Errorf("api keys: %w", err)
		}
	})
	authn, err := auth.FromConfig(s.cfg, keys, log.With("component", "auth"))
	if err != nil {
		stopActors(sys, log)
		return fmt.Errorf("auth: %w", err)
	}
	log.Info("authentication", "mode", authn.Mode())

	// One store subscription fans out to every subscription and event tail.
	hub := feed.New(store, feed.Options{Logger: log.With("component", "feed")})
	wg.Go(func() {
		if err := hub.Run(runCtx); err != nil && runCtx.Err() == nil {
			failed <- fmt.Errorf("event feed: %w", err)
		}
	})
	// The journal of LLM calls: drained after the HTTP server.
	wg.Go(func() { _ = calls.Run(runCtx) })
	defer func() {
		jctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := calls.Close(jctx); err != nil {
			log.Error("llm calls not journaled at shutdown", "err", err, "stats", calls.Stats())
		}
	}()
	apiSrv, err := api.NewServer(api.Deps{System: sys, Runner: runner, Store: store, Feed: hub,
		Auth: authn, Keys: keys, Logger: log.With("component", "api"),
		Metrics: mets, LLM: llmRouter, LLMTimeout: time.Duration(s.cfg.LLM.RequestTimeoutSeconds) * time.Second})
	if err != nil {
		stopActors(sys, log)
		return err
	}

	// Agent runs cut short by a stop or a crash continue from their last
	// journaled step: a model or tool call whose result is journaled is
	// never made again.
	if err := sys.Agents.Resume(ctx); err != nil {
		stopActors(sys, log)
		return fmt.Errorf("resume agent runs: %w", err)
	}

	ln, err := net.Listen("tcp", s.cfg.Addr())
	if err != nil {
		stopActors(sys, log)
		return fmt.Errorf("listen: %w", err)
	}
	addr := ln.Addr().String()
	baseCtx, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	hs := &http.Server{
		Handler:           apiSrv,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	wg.Go(func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("http: %w", err)
		}
	})
	log.Info("listening", "addr", addr)
	if s.addrFile != "" {
		if err := writeFileAtomic(s.addrFile, addr+"\n"); err != nil {
			log.Error("writing the address file", "err", err)
		}
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-failed:
		log.Error("shutting down after a failure", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if serr := apiSrv.Shutdown(sctx); serr != nil { // completes subscriptions
		log.Warn("closing subscriptions", "err", serr)
	}
	cancelRequests() // ends event feeds that follow the log
	if herr := hs.Shutdown(sctx); herr != nil {
		log.Warn("http shutdown", "err", herr)
		_ = hs.Close()
	}
	stopActors(sys, log)
	log.Info("stopped")
	return err
}

func stopActors(sys *actors.System, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := sys.Stop(ctx); err != nil {
		log.Warn("stopping actors", "err", err)
	}
}

// logWhenReady logs once the projections have caught up.
func (s *server) logWhenReady(ctx context.Context, r *projections.Runner) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !r.CaughtUp() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	s.log.Info("ready", "position", r.Views().Position())
}

// writeFileAtomic writes data to path through a temporary file and a rename,
// so a reader never sees a partial file.
func writeFileAtomic(path, data string) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
