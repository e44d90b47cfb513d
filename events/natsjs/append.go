package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/oklog/ulid/v2"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// MaxEventsPerAppend caps one append (JetStream's atomic batch limit).
const MaxEventsPerAppend = 1000

// commitTimeout bounds one round trip of the committer to JetStream.
const commitTimeout = 30 * time.Second

type appendReq struct {
	stream   string
	expected events.Revision
	evs      []events.Event
	now      time.Time
	done     chan appendRes

	head      head     // resolved by the committer
	msgs      [][]byte // encoded records, filled with revisions once head is known
	published bool     // a publish was attempted: its outcome may be unknown
}

type appendRes struct {
	out events.Appended
	err error
}

// Append implements events.Store. See the package doc for group commit.
// If ctx ends while the append is queued or in flight, Append returns
// ctx.Err() and the append may or may not have happened.
func (s *Store) Append(ctx context.Context, stream string, expected events.Revision, evs ...events.Event) (events.Appended, error) {
	if err := events.ValidateStream(stream); err != nil {
		return events.Appended{}, err
	}
	if len(evs) == 0 {
		return events.Appended{}, fmt.Errorf("%w: append to %s: no events", events.ErrInvalid, stream)
	}
	if len(evs) > MaxEventsPerAppend {
		return events.Appended{}, fmt.Errorf("%w: append to %s: %d events, at most %d per append", events.ErrInvalid, stream, len(evs), MaxEventsPerAppend)
	}
	for i, e := range evs {
		if e.Type == "" {
			return events.Appended{}, fmt.Errorf("%w: append to %s: event %d has no type", events.ErrInvalid, stream, i)
		}
		if len(e.Data) > 0 && !json.Valid(e.Data) {
			return events.Appended{}, fmt.Errorf("%w: append to %s: event %d (%s) data is not valid JSON", events.ErrInvalid, stream, i, e.Type)
		}
	}
	if expected < events.Any {
		return events.Appended{}, fmt.Errorf("%w: append to %s: expected revision %d", events.ErrInvalid, stream, expected)
	}
	// IDs are fixed here: a publish retried after an unknown outcome
	// recognises its own events at the stream's head (see prepare).
	evs = append([]events.Event(nil), evs...)
	for i := range evs {
		if evs[i].ID == "" {
			evs[i].ID = ulid.Make().String()
		}
	}
	r := &appendReq{stream: stream, expected: expected, evs: evs, now: time.Now(), done: make(chan appendRes, 1)}
	select {
	case s.reqs <- r:
	case <-s.stop:
		return events.Appended{}, events.ErrClosed
	case <-ctx.Done():
		return events.Appended{}, ctx.Err()
	}
	select {
	case res := <-r.done:
		return res.out, res.err
	case <-ctx.Done():
		return events.Appended{}, ctx.Err()
	}
}

// commitLoop is the single committer. It owns batching; it exits when the
// store is closed, after answering every queued append.
func (s *Store) commitLoop() {
	defer close(s.done)
	var pending []*appendReq // deferred: same stream as an earlier one in the batch
	lastN := 0               // size of the previous group: the load's recent level
	for {
		var first *appendReq
		if len(pending) > 0 {
			first, pending = pending[0], pending[1:]
		} else {
			select {
			case first = <-s.reqs:
			case <-s.stop:
				s.drain()
				return
			}
		}
		batch := []*appendReq{first}
		inBatch := map[string]bool{first.stream: true}
		n := len(first.evs)
		var later []*appendReq
		take := func(r *appendReq) {
			if inBatch[r.stream] {
				later = append(later, r)
				return
			}
			inBatch[r.stream] = true
			batch = append(batch, r)
			n += len(r.evs)
		}
		for len(pending) > 0 && n < s.opts.MaxBatch {
			r := pending[0]
			pending = pending[1:]
			take(r)
		}
	fill:
		for n < s.opts.MaxBatch {
			select {
			case r := <-s.reqs:
				take(r)
			default:
				break fill
			}
		}
		// Under load, a group smaller than the last one is usually a
		// group whose writers are still on their way back: linger briefly
		// so that one commit serves them all.
		if n < lastN && n < s.opts.MaxBatch {
			t := time.NewTimer(s.opts.Linger)
		linger:
			for n < lastN && n < s.opts.MaxBatch {
				select {
				case r := <-s.reqs:
					take(r)
				case <-t.C:
					break linger
				}
			}
			t.Stop()
		}
		lastN = n
		pending = append(later, pending...)
		s.commit(batch)
	}
}

// drain answers appends still queued at Close.
func (s *Store) drain() {
	for {
		select {
		case r := <-s.reqs:
			r.done <- appendRes{err: events.ErrClosed}
		default:
			return
		}
	}
}

// commit writes a group of appends to distinct streams.
func (s *Store) commit(batch []*appendReq) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	ready := batch[:0]
	for _, r := range batch {
		if s.prepare(ctx, r) {
			ready = append(ready, r)
		}
	}
	switch {
	case len(ready) == 0:
		return
	case len(ready) == 1:
		s.commitOne(ctx, ready[0])
		return
	case len(ready) < s.opts.MinAtomicBatch && allSingle(ready):
		s.commitSingles(ctx, ready)
		return
	}
	if err := s.publish(ctx, ready); err != nil {
		// One of them conflicted (or the batch failed as a whole): retry
		// each on its own so that only the guilty ones fail.
		for _, r := range ready {
			s.heads.forget(r.stream)
			if s.prepare(ctx, r) {
				s.commitOne(ctx, r)
			}
		}
	}
}

// commitOne writes one append, retrying a stale head for Any.
func (s *Store) commitOne(ctx context.Context, r *appendReq) {
	for attempt := 0; ; attempt++ {
		err := s.publish(ctx, []*appendReq{r})
		if err == nil {
			return
		}
		if !errors.Is(err, errWrongLastSeq) || attempt >= 5 {
			r.done <- appendRes{err: err}
			return
		}
		s.heads.forget(r.stream)
		if !s.prepare(ctx, r) {
			return
		}
	}
}

// prepare resolves the stream's head, checks the expected revision and
// encodes the records. It reports whether r is to be published; when not,
// it has answered r: with an error, or with success when a retried publish
// finds its own events at the head (the earlier attempt had landed).
func (s *Store) prepare(ctx context.Context, r *appendReq) bool {
	h, err := s.resolve(ctx, r)
	if err != nil {
		r.done <- appendRes{err: err}
		return false
	}
	n := uint64(len(r.evs))
	if r.published && h.id == r.evs[n-1].ID && h.rev >= n {
		r.done <- appendRes{out: events.Appended{
			FirstRevision: h.rev - n + 1, LastRevision: h.rev,
			FirstPosition: h.seq - n + 1, LastPosition: h.seq,
		}}
		return false
	}
	if r.expected != events.Any && uint64(r.expected) != h.rev {
		r.done <- appendRes{err: &events.ConflictError{Stream: r.stream, Expected: r.expected, Actual: h.rev}}
		return false
	}
	r.head = h
	r.msgs = r.msgs[:0]
	for i, e := range r.evs {
		b, err := json.Marshal(newRecord(e, h.rev+uint64(i)+1, r.now))
		if err != nil {
			r.done <- appendRes{err: fmt.Errorf("natsjs: encode %s event: %w", e.Type, err)}
			return false
		}
		r.msgs = append(r.msgs, b)
	}
	return true
}

// resolve returns the stream's head from the cache or the store. The cache
// is never ahead of the store but may be behind (another writer): a cached
// head that contradicts the expected revision is confirmed first.
func (s *Store) resolve(ctx context.Context, r *appendReq) (head, error) {
	h, ok := s.heads.get(r.stream)
	if ok && (r.expected == events.Any || uint64(r.expected) == h.rev) {
		return h, nil
	}
	h, err := s.fetchHead(ctx, r.stream)
	if err != nil {
		return head{}, err
	}
	s.heads.put(r.stream, h)
	return h, nil
}

var errWrongLastSeq = errors.New("wrong last sequence")

// pubAck is JetStream's answer to a publish or a batch commit.
type pubAck struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
	Count  uint64 `json:"count"`
	Error  *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// publish writes the appends of reqs as one message (a single event) or one
// atomic batch, and answers every request on success. It answers none on
// failure: the caller decides.
func (s *Store) publish(ctx context.Context, reqs []*appendReq) error {
	total := 0
	for _, r := range reqs {
		total += len(r.msgs)
	}
	batchID := ""
	if total > 1 {
		batchID = nuid.Next()
	}
	var reply *nats.Msg
	i := 0
	for _, r := range reqs {
		r.published = true
		subj := s.subject(r.stream)
		for j, body := range r.msgs {
			i++
			m := &nats.Msg{Subject: subj, Data: body, Header: nats.Header{}}
			if j == 0 {
				m.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(r.head.seq, 10))
			}
			if batchID != "" {
				m.Header.Set("Nats-Batch-Id", batchID)
				m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i))
			}
			if i < total {
				if err := s.nc.PublishMsg(m); err != nil {
					return fmt.Errorf("natsjs: publish: %w", err)
				}
				continue
			}
			if batchID != "" {
				m.Header.Set("Nats-Batch-Commit", "1")
			}
			var err error
			if reply, err = s.nc.RequestMsgWithContext(ctx, m); err != nil {
				return fmt.Errorf("natsjs: publish: %w", err)
			}
		}
	}
	var ack pubAck
	if err := json.Unmarshal(reply.Data, &ack); err != nil {
		return fmt.Errorf("natsjs: bad publish ack %q: %w", reply.Data, err)
	}
	if ack.Error != nil {
		if ack.Error.ErrCode == 10071 || ack.Error.ErrCode == 10164 {
			return fmt.Errorf("natsjs: %s: %w", ack.Error.Description, errWrongLastSeq)
		}
		return fmt.Errorf("natsjs: publish rejected: %s (code %d)", ack.Error.Description, ack.Error.ErrCode)
	}
	// Batch messages are stored contiguously, ending at ack.Seq.
	seq := ack.Seq - uint64(total) + 1
	for _, r := range reqs {
		n := uint64(len(r.msgs))
		out := events.Appended{
			FirstRevision: r.head.rev + 1, LastRevision: r.head.rev + n,
			FirstPosition: seq, LastPosition: seq + n - 1,
		}
		seq += n
		s.heads.put(r.stream, head{rev: out.LastRevision, seq: out.LastPosition, id: r.evs[len(r.evs)-1].ID})
		r.done <- appendRes{out: out}
	}
	return nil
}

func allSingle(rs []*appendReq) bool {
	for _, r := range rs {
		if len(r.msgs) != 1 {
			return false
		}
	}
	return true
}

// commitSingles writes one-event appends as individual messages, all sent
// before any ack is awaited (each is atomic on its own and carries its own
// expected sequence). It is cheaper than an atomic batch for small groups:
// JetStream stages every atomic batch in a store of its own first.
func (s *Store) commitSingles(ctx context.Context, rs []*appendReq) {
	futs := make([]jetstream.PubAckFuture, len(rs))
	for i, r := range rs {
		r.published = true
		m := nats.NewMsg(s.subject(r.stream))
		m.Data = r.msgs[0]
		m.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(r.head.seq, 10))
		f, err := s.js.PublishMsgAsync(m)
		if err != nil {
			r.done <- appendRes{err: fmt.Errorf("natsjs: publish: %w", err)}
			continue
		}
		futs[i] = f
	}
	for i, f := range futs {
		if f == nil {
			continue
		}
		r := rs[i]
		select {
		case ack := <-f.Ok():
			out := events.Appended{FirstRevision: r.head.rev + 1, LastRevision: r.head.rev + 1, FirstPosition: ack.Sequence, LastPosition: ack.Sequence}
			s.heads.put(r.stream, head{rev: out.LastRevision, seq: ack.Sequence, id: r.evs[0].ID})
			r.done <- appendRes{out: out}
		case <-f.Err():
			// A stale head or another failure: the one-by-one path
			// re-checks the head, and retries or reports a conflict.
			s.heads.forget(r.stream)
			if s.prepare(ctx, r) {
				s.commitOne(ctx, r)
			}
		case <-ctx.Done():
			r.done <- appendRes{err: ctx.Err()}
		}
	}
}
