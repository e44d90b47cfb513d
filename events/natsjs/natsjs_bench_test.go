package natsjs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/events/natsjs"
)

// Benchmarks of durable appends (see bench/run.sh and STYLE.md point 19).
//
// BenchmarkAppend and BenchmarkRawJetStream run on the same kind of server
// (natsjs.StartEmbedded: in process, no listener, fsync on every write) with
// the same number of concurrent writers, each writing its own stream/subject
// with an optimistic-concurrency check, so that their events/s compare.

var benchWriters = []int{1, 16, 64}

// benchTimeout bounds every benchmark's I/O so that a wedged server fails
// the run instead of hanging it.
const benchTimeout = 5 * time.Minute

// benchServer starts an embedded server (SyncAlways) in a fresh temp dir.
func benchServer(b *testing.B) (*natsjs.Embedded, *nats.Conn) {
	b.Helper()
	srv, err := natsjs.StartEmbedded(natsjs.EmbeddedOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	nc, err := srv.Connect()
	if err != nil {
		srv.Shutdown()
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close(); srv.Shutdown() })
	return srv, nc
}

// benchEventData is the data of a typical StateChanged event.
func benchEventData(stream string) json.RawMessage {
	d, _ := json.Marshal(events.StateChanged{
		ResourceID: stream, WorkflowID: "01J0000000000000000000WFID", Activity: "start_review",
		From: "submitted", To: "under_review", IdempotencyKey: nuid.Next(),
	})
	return d
}

// runWriters runs writers goroutines that together perform b.N operations;
// op(w) performs one operation of writer w. It returns the first error.
func runWriters(b *testing.B, writers int, op func(w int) error) {
	b.Helper()
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := op(w); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatal(err)
	}
}

func reportRate(b *testing.B, n int, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(n)/s, unit)
	}
}

// BenchmarkAppend: durable single-event appends/s through natsjs.Store, each
// writer appending to its own stream with Exact(expected revision).
func BenchmarkAppend(b *testing.B) {
	for _, writers := range benchWriters {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			_, nc := benchServer(b)
			ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
			defer cancel()
			s, err := natsjs.Open(ctx, nc, natsjs.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			streams := make([]string, writers)
			revs := make([]uint64, writers)
			evs := make([]events.Event, writers)
			for w := range writers {
				streams[w] = fmt.Sprintf("resource-bench-%d", w)
				evs[w] = events.Event{Type: events.TypeStateChanged, Version: events.StateChangedVersion, Data: benchEventData(streams[w])}
				// The first event creates the stream, outside the timing,
				// so that the head is cached as it is in steady state.
				if _, err := s.Append(ctx, streams[w], events.NoStream, evs[w]); err != nil {
					b.Fatal(err)
				}
				revs[w] = 1
			}
			b.ReportAllocs()
			in0 := nc.Stats().InMsgs
			b.ResetTimer()
			runWriters(b, writers, func(w int) error {
				out, err := s.Append(ctx, streams[w], events.Exact(revs[w]), evs[w])
				if err != nil {
					return err
				}
				revs[w] = out.LastRevision
				return nil
			})
			b.StopTimer()
			reportRate(b, b.N, "events/s")
			// Every commit (one message or one atomic batch) is answered by
			// one reply on the store's connection: events per reply is the
			// mean group-commit size.
			if replies := nc.Stats().InMsgs - in0; replies > 0 {
				b.ReportMetric(float64(b.N)/float64(replies), "events/commit")
			}
		})
	}
}

// BenchmarkRawJetStream: the same load as BenchmarkAppend through plain
// js.Publish, one message and one fsync per publish, each writer checking
// the last sequence of its own subject. The stream is configured as
// natsjs.Open configures its own (file storage, dedup window; a message ID
// is set, as natsjs sets Nats-Msg-Id), the bodies are the same size.
func BenchmarkRawJetStream(b *testing.B) {
	for _, writers := range benchWriters {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			_, nc := benchServer(b)
			ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
			defer cancel()
			js, err := jetstream.New(nc)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
				Name: "RAW", Subjects: []string{"raw.ev.>"}, Storage: jetstream.FileStorage,
				Retention: jetstream.LimitsPolicy, Replicas: 1, AllowDirect: true,
				Discard: jetstream.DiscardNew, Duplicates: 2 * time.Minute,
			}); err != nil {
				b.Fatal(err)
			}
			subjects := make([]string, writers)
			bodies := make([][]byte, writers)
			lastSeq := make([]uint64, writers)
			for w := range writers {
				subjects[w] = fmt.Sprintf("raw.ev.resource-bench-%d", w)
				// Same shape and size as a natsjs record.
				bodies[w], _ = json.Marshal(map[string]any{
					"id": nuid.Next() + "xxxx", "type": events.TypeStateChanged, "v": 1, "rev": 1,
					"t": time.Now().UTC(), "data": benchEventData(subjects[w]),
				})
				ack, err := js.Publish(ctx, subjects[w], bodies[w], jetstream.WithExpectLastSequencePerSubject(0), jetstream.WithMsgID(nuid.Next()))
				if err != nil {
					b.Fatal(err)
				}
				lastSeq[w] = ack.Sequence
			}
			b.ReportAllocs()
			b.ResetTimer()
			runWriters(b, writers, func(w int) error {
				ack, err := js.Publish(ctx, subjects[w], bodies[w],
					jetstream.WithExpectLastSequencePerSubject(lastSeq[w]), jetstream.WithMsgID(nuid.Next()))
				if err != nil {
					return err
				}
				lastSeq[w] = ack.Sequence
				return nil
			})
			b.StopTimer()
			reportRate(b, b.N, "events/s")
		})
	}
}

// BenchmarkRawAtomicBatch measures the server's cost of one JetStream atomic
// batch of size messages (distinct subjects, each with an expected last
// subject sequence, as natsjs's group commit sends them), committed one
// after the other: the floor under natsjs's group commit.
func BenchmarkRawAtomicBatch(b *testing.B) {
	for _, size := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			_, nc := benchServer(b)
			ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
			defer cancel()
			js, err := jetstream.New(nc)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
				Name: "RAW", Subjects: []string{"raw.ev.>"}, Storage: jetstream.FileStorage,
				Retention: jetstream.LimitsPolicy, Replicas: 1, AllowDirect: true, AllowAtomicPublish: true,
				Discard: jetstream.DiscardNew, Duplicates: 2 * time.Minute,
			}); err != nil {
				b.Fatal(err)
			}
			subjects := make([]string, size)
			lastSeq := make([]uint64, size)
			body, _ := json.Marshal(map[string]any{
				"id": nuid.Next() + "xxxx", "type": events.TypeStateChanged, "v": 1, "rev": 1,
				"t": time.Now().UTC(), "data": benchEventData("resource-bench-0"),
			})
			for i := range size {
				subjects[i] = fmt.Sprintf("raw.ev.resource-bench-%d", i)
			}
			publish := func() error {
				id := nuid.Next()
				var reply *nats.Msg
				for i := range size {
					m := &nats.Msg{Subject: subjects[i], Data: body, Header: nats.Header{}}
					m.Header.Set("Nats-Msg-Id", nuid.Next())
					m.Header.Set("Nats-Expected-Last-Subject-Sequence", fmt.Sprint(lastSeq[i]))
					if size > 1 {
						m.Header.Set("Nats-Batch-Id", id)
						m.Header.Set("Nats-Batch-Sequence", fmt.Sprint(i+1))
					}
					if i < size-1 {
						if err := nc.PublishMsg(m); err != nil {
							return err
						}
						continue
					}
					if size > 1 {
						m.Header.Set("Nats-Batch-Commit", "1")
					}
					var err error
					if reply, err = nc.RequestMsgWithContext(ctx, m); err != nil {
						return err
					}
				}
				var ack struct {
					Seq   uint64          `json:"seq"`
					Error json.RawMessage `json:"error"`
				}
				if err := json.Unmarshal(reply.Data, &ack); err != nil || ack.Error != nil {
					return fmt.Errorf("batch ack %s: %v", reply.Data, err)
				}
				for i := range size {
					lastSeq[i] = ack.Seq - uint64(size-1-i)
				}
				return nil
			}
			if err := publish(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := publish(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportRate(b, b.N*size, "events/s")
		})
	}
}
