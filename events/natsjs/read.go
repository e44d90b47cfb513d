package natsjs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// readPage is how many events one direct-get batch returns at most.
const readPage = 512

// directReq is a JetStream direct get request.
type directReq struct {
	Seq      uint64 `json:"seq,omitempty"`
	NextFor  string `json:"next_by_subj,omitempty"`
	LastFor  string `json:"last_by_subj,omitempty"`
	Batch    int    `json:"batch,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

// direct runs one direct get and calls fn for each message returned. It
// returns the number of messages and whether the store had more (a batch
// that stopped at its size limit).
func (s *Store) direct(ctx context.Context, req directReq, fn func(subject string, seq uint64, body []byte) error) (int, bool, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return 0, false, err
	}
	inbox, replies := s.replies.open(req.Batch + 2) // the messages and the end-of-batch marker
	defer s.replies.close(inbox)
	if err := s.nc.PublishRequest("$JS.API.DIRECT.GET."+s.opts.Stream, inbox, body); err != nil {
		return 0, false, fmt.Errorf("natsjs: direct get: %w", err)
	}
	n := 0
	for {
		var m *nats.Msg
		select {
		case m = <-replies:
		case <-ctx.Done():
			return n, false, fmt.Errorf("natsjs: direct get: %w", ctx.Err())
		}
		switch status := m.Header.Get("Status"); status {
		case "":
		case "404":
			return n, false, nil
		case "204": // end of batch
			pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
			return n, pending > 0, nil
		default:
			return n, false, fmt.Errorf("natsjs: direct get: status %s %s", status, m.Header.Get("Description"))
		}
		seq, err := strconv.ParseUint(m.Header.Get(nats.JSSequence), 10, 64)
		if err != nil {
			return n, false, fmt.Errorf("natsjs: direct get: bad sequence header: %w", err)
		}
		n++
		if err := fn(m.Header.Get(nats.JSSubject), seq, m.Data); err != nil {
			return n, false, err
		}
		if req.Batch == 0 {
			return n, false, nil
		}
	}
}

// fetchHead reads a stream's last event to learn its head.
func (s *Store) fetchHead(ctx context.Context, stream string) (head, error) {
	var h head
	_, _, err := s.direct(ctx, directReq{LastFor: s.subject(stream)}, func(subject string, seq uint64, body []byte) error {
		var r struct {
			ID       string `json:"id"`
			Revision uint64 `json:"rev"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return fmt.Errorf("natsjs: decode head of %s: %w", stream, err)
		}
		h = head{rev: r.Revision, seq: seq, id: r.ID}
		return nil
	})
	return h, err
}

// ReadStream implements events.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]events.Envelope, error) {
	return s.ReadStreamAfter(ctx, stream, from, 0, limit)
}

// ReadStreamAfter implements events.StreamSeeker: it starts the scan after
// global position after, so that reading a stream's tail past a snapshot
// does not touch the events the snapshot covers.
func (s *Store) ReadStreamAfter(ctx context.Context, stream string, from, after uint64, limit int) ([]events.Envelope, error) {
	if err := events.ValidateStream(stream); err != nil {
		return nil, err
	}
	var out []events.Envelope
	subj := s.subject(stream)
	seq := after + 1
	for {
		page := readPage
		if limit > 0 && limit-len(out) < page {
			page = limit - len(out)
		}
		var last uint64
		n, more, err := s.direct(ctx, directReq{Seq: seq, NextFor: subj, Batch: page}, func(subject string, pos uint64, body []byte) error {
			last = pos
			e, err := s.envelope(subject, pos, body)
			if err != nil {
				return err
			}
			if e.Revision >= from {
				out = append(out, e)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n == 0 || !more || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		seq = last + 1
	}
}

// ReadAll implements events.Store.
func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]events.Envelope, error) {
	if from == 0 {
		from = 1
	}
	if limit <= 0 || limit > readPage {
		limit = readPage
	}
	out := make([]events.Envelope, 0, limit)
	_, _, err := s.direct(ctx, directReq{Seq: from, Batch: limit}, func(subject string, pos uint64, body []byte) error {
		e, err := s.envelope(subject, pos, body)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
