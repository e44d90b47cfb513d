// Package natsjstest gives tests a real event store: an embedded NATS
// server with JetStream on a temporary directory, and a natsjs.Store on it.
package natsjstest

import (
	"context"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/events/natsjs"
)

// Open starts an embedded NATS server keeping its files in dir (a new
// temporary directory when dir is "") and opens a store on it. The store,
// its connection and the server are closed when the test ends, after the
// cleanups registered later (which may still use the store).
func Open(t testing.TB, dir string) *natsjs.Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	srv, err := natsjs.StartEmbedded(natsjs.EmbeddedOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := srv.Connect()
	if err != nil {
		srv.Shutdown()
		t.Fatal(err)
	}
	s, err := natsjs.Open(context.Background(), nc, natsjs.Options{})
	if err != nil {
		nc.Close()
		srv.Shutdown()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); nc.Close(); srv.Shutdown() })
	return s
}
