package natsjs

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedOptions configures an in-process NATS server.
type EmbeddedOptions struct {
	// Dir is where JetStream keeps its file store.
	Dir string
	// Listen makes the server accept TCP clients on Host:Port (Port -1 picks
	// a free port). By default it only accepts in-process connections.
	Listen bool
	Host   string
	Port   int
	// Logger receives the server's notices and errors; nil discards them.
	Logger *slog.Logger
}

// Embedded is a NATS server with JetStream running inside this process.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded starts a NATS server with JetStream in process. Every write
// is fsynced before it is acknowledged (sync_interval: always).
func StartEmbedded(o EmbeddedOptions) (*Embedded, error) {
	if o.Dir == "" {
		return nil, errors.New("natsjs: embedded server needs a data directory")
	}
	opts := &server.Options{
		ServerName: "circuit-breaker",
		JetStream:  true,
		StoreDir:   o.Dir,
		SyncAlways: true,
		NoSigs:     true,
		NoLog:      o.Logger == nil,
		DontListen: !o.Listen,
		Host:       "127.0.0.1",
		Port:       -1,
		// Large enough for an atomic batch of our biggest group commit.
		MaxPayload: 8 << 20,
	}
	if o.Listen {
		if o.Host != "" {
			opts.Host = o.Host
		}
		if o.Port != 0 {
			opts.Port = o.Port
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsjs: start embedded server: %w", err)
	}
	if o.Logger != nil {
		srv.SetLoggerV2(slogAdapter{o.Logger}, false, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("natsjs: embedded server did not become ready within 30s")
	}
	return &Embedded{srv: srv}, nil
}

// Connect opens a client connection to the server: in process when the
// server does not listen, over TCP otherwise.
func (e *Embedded) Connect() (*nats.Conn, error) {
	nc, err := nats.Connect(e.srv.ClientURL(), nats.InProcessServer(e.srv), nats.Name("circuit-breaker"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("natsjs: connect to embedded server: %w", err)
	}
	return nc, nil
}

// ClientURL is the URL TCP clients use (only meaningful with Listen).
func (e *Embedded) ClientURL() string { return e.srv.ClientURL() }

// Shutdown stops the server and waits for it.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// slogAdapter routes the NATS server's log lines to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Noticef(format string, v ...any) { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Warnf(format string, v ...any)   { a.l.Warn(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Fatalf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Errorf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Debugf(format string, v ...any)  { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Tracef(format string, v ...any)  {}
