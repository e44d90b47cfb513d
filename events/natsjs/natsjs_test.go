package natsjs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs"
	"github.com/circuit-breaker/circuit-breaker/events/storetest"
)

// embedded starts an in-process server on dir and opens a store on it.
func embedded(t *testing.T, dir string, o natsjs.Options) (*natsjs.Store, func()) {
	t.Helper()
	srv, err := natsjs.StartEmbedded(natsjs.EmbeddedOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	s, err := natsjs.Open(context.Background(), nc, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, func() { s.Close(); nc.Close(); srv.Shutdown() }
}

func TestContractEmbedded(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.Store {
		s, stop := embedded(t, t.TempDir(), natsjs.Options{})
		t.Cleanup(stop)
		return s
	})
}

// TestContractExternal runs the contract against a separate NATS server
// reached over TCP: the Debian nats-server binary when installed, else a
// second embedded server listening on a loopback port.
func TestContractExternal(t *testing.T) {
	url := externalServer(t)
	storetest.Run(t, func(t *testing.T) events.Store {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		// A fresh stream per test keeps the cases independent on one server.
		name := fmt.Sprintf("T%d", time.Now().UnixNano())
		s, err := natsjs.Open(context.Background(), nc, natsjs.Options{Stream: name, Prefix: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(); nc.Close() })
		return s
	})
}

func externalServer(t *testing.T) string {
	t.Helper()
	// `make test` builds the nats-server version pinned in go.mod and
	// names it here; Debian's nats-server is too old for the store.
	bin := os.Getenv("NATS_SERVER_BIN")
	if bin == "" {
		t.Log("NATS_SERVER_BIN not set; using a listening embedded server as the external one")
		srv, err := natsjs.StartEmbedded(natsjs.EmbeddedOptions{Dir: t.TempDir(), Listen: true, Port: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		return srv.ClientURL()
	}
	port := freePort(t)
	cmd := exec.Command(bin, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	deadline := time.Now().Add(15 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestReopen checks that acknowledged events survive a restart of the
// embedded server on the same directory, and that heads are relearned.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, stop := embedded(t, dir, natsjs.Options{})
	for i := 0; i < 5; i++ {
		if _, err := s.Append(ctx, "r-1", events.Exact(uint64(i)), events.Event{Type: "N"}); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	s, stop = embedded(t, dir, natsjs.Options{})
	defer stop()
	if _, err := s.Append(ctx, "r-1", events.Exact(4), events.Event{Type: "N"}); err == nil {
		t.Fatal("stale revision accepted after restart")
	}
	if _, err := s.Append(ctx, "r-1", events.Exact(5), events.Event{Type: "N"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadStream(ctx, "r-1", 0, 0)
	if err != nil || len(got) != 6 {
		t.Fatalf("after restart: %d events, %v", len(got), err)
	}
}

func TestUpcastOnRead(t *testing.T) {
	var up events.Upcasters
	up.Register("Renamed", 1, func(d json.RawMessage) (json.RawMessage, error) {
		var v struct{ Name string }
		if err := json.Unmarshal(d, &v); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]string{"fullName": v.Name})
	})
	s, stop := embedded(t, t.TempDir(), natsjs.Options{Upcasters: &up})
	defer stop()
	ctx := context.Background()
	if _, err := s.Append(ctx, "u-1", events.NoStream,
		events.Event{Type: "Renamed", Version: 1, Data: json.RawMessage(`{"Name":"Ada"}`)},
		events.Event{Type: "Renamed", Version: 2, Data: json.RawMessage(`{"fullName":"Bob"}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadStream(ctx, "u-1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`{"fullName":"Ada"}`, `{"fullName":"Bob"}`} {
		if got[i].Version != 2 || string(got[i].Data) != want {
			t.Errorf("event %d = v%d %s, want v2 %s", i, got[i].Version, got[i].Data, want)
		}
	}
}

func TestReadStreamAfter(t *testing.T) {
	s, stop := embedded(t, t.TempDir(), natsjs.Options{})
	defer stop()
	ctx := context.Background()
	var pos []uint64
	for i := 0; i < 10; i++ {
		s.Append(ctx, "other", events.Any, events.Event{Type: "O"})
		a, err := s.Append(ctx, "seek-1", events.Any, events.Event{Type: "N"})
		if err != nil {
			t.Fatal(err)
		}
		pos = append(pos, a.FirstPosition)
	}
	got, err := s.ReadStreamAfter(ctx, "seek-1", 8, pos[6], 0)
	if err != nil || len(got) != 3 || got[0].Revision != 8 {
		t.Fatalf("ReadStreamAfter = %d events from %v, %v", len(got), got, err)
	}
}

func TestOldServerRefused(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("no nats-server on PATH to try an old version with")
	}
	out, _ := exec.Command(bin, "--version").Output()
	if !strings.Contains(string(out), "v2.9.") && !strings.Contains(string(out), "v2.10.") {
		t.Skipf("nats-server on PATH is %s, not an old one", out)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var nc *nats.Conn
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if nc, err = nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", port)); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, err = natsjs.Open(context.Background(), nc, natsjs.Options{})
	if err == nil || !strings.Contains(err.Error(), "too old") {
		t.Fatalf("Open on %s: err = %v, want a too-old error", out, err)
	}
}

func TestPrefix(t *testing.T) {
	srv, err := natsjs.StartEmbedded(natsjs.EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, bad := range []string{"a..b", "a.*", "a b", ".a"} {
		if _, err := natsjs.Open(context.Background(), nc, natsjs.Options{Prefix: bad}); err == nil || !strings.Contains(err.Error(), "subject prefix") {
			t.Errorf("prefix %q: err = %v", bad, err)
		}
	}
	// Two deployments on one server do not see each other's events.
	a, err := natsjs.Open(context.Background(), nc, natsjs.Options{Prefix: "circuit-breaker"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := natsjs.Open(context.Background(), nc, natsjs.Options{Prefix: "other.env"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if _, err := a.Append(ctx, "s-1", events.NoStream, events.Event{Type: "A"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.ReadAll(ctx, 0, 0); len(got) != 0 {
		t.Fatalf("other deployment reads %d events", len(got))
	}
	if got, _ := a.ReadAll(ctx, 0, 0); len(got) != 1 || got[0].Stream != "s-1" {
		t.Fatalf("own events = %+v", got)
	}
}
