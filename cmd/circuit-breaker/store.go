package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"

	"github.com/circuit-breaker/circuit-breaker/config"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs"
)

// openStore opens the event store: on the external NATS cluster named by
// nats.url, or else on an embedded NATS server keeping its files in
// <data_dir>/nats. The embedded data directory is locked so that two
// processes never share it. close releases everything in reverse order.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store *natsjs.Store, close func(), err error) {
	var undo []func()
	release := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	var nc *nats.Conn
	if cfg.NATS.URL != "" {
		nc, err = nats.Connect(cfg.NATS.URL, nats.Name("circuit-breaker"),
			nats.MaxReconnects(cfg.NATS.MaxReconnectAttempts))
		if err != nil {
			return nil, nil, fmt.Errorf("connect to NATS at %s: %w", cfg.NATS.URL, err)
		}
		undo = append(undo, nc.Close)
		log.Info("event store", "nats", cfg.NATS.URL)
	} else {
		dir := cfg.Server.DataDir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("data dir: %w", err)
		}
		unlock, err := lockDir(dir)
		if err != nil {
			return nil, nil, err
		}
		undo = append(undo, unlock)
		srv, err := natsjs.StartEmbedded(natsjs.EmbeddedOptions{Dir: filepath.Join(dir, "nats"), Logger: log.With("component", "nats")})
		if err != nil {
			return nil, nil, fmt.Errorf("start embedded NATS: %w", err)
		}
		undo = append(undo, srv.Shutdown)
		if nc, err = srv.Connect(); err != nil {
			return nil, nil, fmt.Errorf("connect to embedded NATS: %w", err)
		}
		undo = append(undo, nc.Close)
		log.Info("event store", "embedded", filepath.Join(dir, "nats"))
	}
	store, err = natsjs.Open(ctx, nc, natsjs.Options{Prefix: cfg.NATS.SubjectPrefix, Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("open event store: %w", err)
	}
	undo = append(undo, func() {
		if err := store.Close(); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("closing event store", "err", err)
		}
	})
	return store, release, nil
}
