package natsjs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// Options configures a Store.
type Options struct {
	// Prefix is the subject prefix (default "cb"): one or more tokens of
	// letters, digits, '-' and '_' separated by dots. Deployments sharing
	// a NATS cluster use different prefixes.
	Prefix string
	// Stream is the JetStream stream name (default: the prefix in upper
	// case with "_EVENTS", e.g. "CB_EVENTS").
	Stream string
	// Replicas is the JetStream replication factor (default 1; use 3 on a
	// NATS cluster).
	Replicas int
	// MaxBatch caps the events of one group commit (default 256).
	MaxBatch int
	// MinAtomicBatch is the smallest group of one-event appends written
	// as one atomic batch; smaller groups are pipelined as single
	// messages (default 12, the break-even measured on a local disk).
	MinAtomicBatch int
	// Linger is how long the committer may wait for a group to fill up
	// when the load was higher a moment ago (default 500µs).
	Linger time.Duration
	// Upcasters are applied to every event read.
	Upcasters *events.Upcasters
	// Logger receives warnings; nil uses slog.Default().
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Prefix == "" {
		o.Prefix = "cb"
	}
	if o.Stream == "" {
		o.Stream = streamName(o.Prefix)
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.MinAtomicBatch <= 0 {
		o.MinAtomicBatch = 12
	}
	if o.Linger <= 0 {
		o.Linger = 500 * time.Microsecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Store is an events.Store and events.Snapshots on NATS JetStream.
type Store struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	opts Options
	pfx  string // "<prefix>.ev."
	kv   jetstream.KeyValue
	obj  jetstream.ObjectStore // snapshots too large for a KV value

	replies *replies

	heads headCache
	reqs  chan *appendReq
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

var (
	_ events.Store     = (*Store)(nil)
	_ events.Snapshots = (*Store)(nil)
)

// Open creates (or updates) the JetStream stream and snapshot bucket and
// starts the committer. Close stops it; the connection stays the caller's.
func Open(ctx context.Context, nc *nats.Conn, o Options) (*Store, error) {
	o.defaults()
	if err := validPrefix(o.Prefix); err != nil {
		return nil, err
	}
	if !serverAtLeast(nc.ConnectedServerVersion(), 2, 12) {
		return nil, fmt.Errorf("natsjs: NATS server %s is too old: the event store needs 2.12 or newer (atomic batch publish, batched direct get)", nc.ConnectedServerVersion())
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsjs: %w", err)
	}
	cfg := jetstream.StreamConfig{
		Name:               o.Stream,
		Subjects:           []string{o.Prefix + ".ev.>"},
		Storage:            jetstream.FileStorage,
		Retention:          jetstream.LimitsPolicy,
		Replicas:           o.Replicas,
		AllowDirect:        true,
		AllowAtomicPublish: true,
		Discard:            jetstream.DiscardNew,
	}
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("natsjs: create stream %s: %w", o.Stream, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   o.Stream + "_SNAPSHOTS",
		History:  1,
		Storage:  jetstream.FileStorage,
		Replicas: o.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("natsjs: create snapshot bucket: %w", err)
	}
	obj, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:   o.Stream + "_BLOBS",
		Storage:  jetstream.FileStorage,
		Replicas: o.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("natsjs: create snapshot blob bucket: %w", err)
	}
	rep, err := newReplies(nc)
	if err != nil {
		return nil, err
	}
	s := &Store{
		nc: nc, js: js, opts: o, pfx: o.Prefix + ".ev.", kv: kv, obj: obj, replies: rep,
		heads: newHeadCache(1 << 20),
		reqs:  make(chan *appendReq, 4096),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go s.commitLoop()
	return s, nil
}

// Close stops the committer after the appends already queued are answered.
func (s *Store) Close() error {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	s.replies.stop()
	return nil
}

func (s *Store) subject(stream string) string { return s.pfx + stream }

// record is the body of one stored message.
type record struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Version     int             `json:"v"`
	Revision    uint64          `json:"rev"`
	Time        time.Time       `json:"t"`
	Tenant      string          `json:"tenant,omitempty"`
	Correlation string          `json:"corr,omitempty"`
	Causation   string          `json:"cause,omitempty"`
	Actor       string          `json:"actor,omitempty"`
	Data        json.RawMessage `json:"data"`
}

func newRecord(e events.Event, rev uint64, now time.Time) record {
	id := e.ID
	if id == "" {
		id = ulid.Make().String()
	}
	t := e.Time
	if t.IsZero() {
		t = now
	}
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	return record{
		ID: id, Type: e.Type, Version: e.Version, Revision: rev, Time: t.UTC(),
		Tenant: e.Tenant, Correlation: e.CorrelationID, Causation: e.CausationID,
		Actor: e.Actor, Data: data,
	}
}

// envelope decodes a stored message body.
func (s *Store) envelope(subject string, seq uint64, body []byte) (events.Envelope, error) {
	var r record
	if err := json.Unmarshal(body, &r); err != nil {
		return events.Envelope{}, fmt.Errorf("natsjs: decode event at position %d: %w", seq, err)
	}
	if len(subject) < len(s.pfx) {
		return events.Envelope{}, fmt.Errorf("natsjs: event at position %d has foreign subject %q", seq, subject)
	}
	e := events.Envelope{
		ID: r.ID, Stream: subject[len(s.pfx):], Type: r.Type, Version: r.Version,
		Revision: r.Revision, Position: seq, Time: r.Time, Tenant: r.Tenant,
		CorrelationID: r.Correlation, CausationID: r.Causation, Actor: r.Actor, Data: r.Data,
	}
	return s.opts.Upcasters.Apply(e)
}

// LastPosition returns the stream's last sequence.
func (s *Store) LastPosition(ctx context.Context) (uint64, error) {
	st, err := s.js.Stream(ctx, s.opts.Stream)
	if err != nil {
		return 0, fmt.Errorf("natsjs: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("natsjs: stream info: %w", err)
	}
	return info.State.LastSeq, nil
}

// maxInlineSnapshot is the largest snapshot kept as a KV value; larger ones
// (projection checkpoints) go to the object store, in chunks, with a small
// pointer in the KV bucket.
const maxInlineSnapshot = 256 << 10

// blobPointer is the KV value of a snapshot kept in the object store.
var blobPointer = []byte(`{"blob":true}`)

// SaveSnapshot stores a snapshot in the snapshot bucket (or, when large,
// the blob bucket).
func (s *Store) SaveSnapshot(ctx context.Context, snap events.Snapshot) error {
	if err := events.ValidateStream(snap.Stream); err != nil {
		return err
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("natsjs: encode snapshot: %w", err)
	}
	key := snapKey(snap.Stream)
	if len(b) > maxInlineSnapshot {
		// The blob first: a crash between the two writes leaves the older
		// pointer or inline snapshot, both valid.
		if _, err := s.obj.PutBytes(ctx, key, b); err != nil {
			return fmt.Errorf("natsjs: save snapshot of %s (%d bytes): %w", snap.Stream, len(b), err)
		}
		b = blobPointer
	}
	if _, err := s.kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("natsjs: save snapshot of %s: %w", snap.Stream, err)
	}
	return nil
}

// LoadSnapshot loads the latest snapshot of stream.
func (s *Store) LoadSnapshot(ctx context.Context, stream string) (events.Snapshot, bool, error) {
	if err := events.ValidateStream(stream); err != nil {
		return events.Snapshot{}, false, err
	}
	key := snapKey(stream)
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return events.Snapshot{}, false, nil
	}
	if err != nil {
		return events.Snapshot{}, false, fmt.Errorf("natsjs: load snapshot of %s: %w", stream, err)
	}
	b := e.Value()
	if bytes.Equal(b, blobPointer) {
		if b, err = s.obj.GetBytes(ctx, key); err != nil {
			return events.Snapshot{}, false, fmt.Errorf("natsjs: load snapshot of %s: %w", stream, err)
		}
	}
	var snap events.Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return events.Snapshot{}, false, fmt.Errorf("natsjs: decode snapshot of %s: %w", stream, err)
	}
	return snap, true, nil
}

// snapKey maps a stream name to a KV key (':' is not allowed in keys).
func snapKey(stream string) string {
	b := []byte(stream)
	for i, c := range b {
		if c == ':' {
			b[i] = '='
		}
	}
	return string(b)
}

// serverAtLeast reports whether a NATS server version string ("2.15.2",
// "v2.12.0-beta") is at least major.minor.
func serverAtLeast(version string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(strings.TrimPrefix(version, "v"), "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// validPrefix checks a subject prefix.
func validPrefix(p string) error {
	for _, tok := range strings.Split(p, ".") {
		if tok == "" {
			return fmt.Errorf("natsjs: subject prefix %q: empty token", p)
		}
		for _, c := range tok {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("natsjs: subject prefix %q: character %q not allowed", p, c)
			}
		}
	}
	return nil
}

// streamName derives the JetStream stream name from a subject prefix.
func streamName(prefix string) string {
	b := []byte(strings.ToUpper(prefix))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b) + "_EVENTS"
}
