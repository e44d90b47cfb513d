package natsjs

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// Subscribe implements events.Store with a JetStream ordered consumer
// starting at position from. The consumer pulls in bounded batches, so a
// subscriber that stops reading holds at most one batch in memory.
func (s *Store) Subscribe(ctx context.Context, from uint64) (events.Subscription, error) {
	if from == 0 {
		from = 1
	}
	cons, err := s.js.OrderedConsumer(ctx, s.opts.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{s.pfx + ">"},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
	})
	if err != nil {
		return nil, fmt.Errorf("natsjs: subscribe from %d: %w", from, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(256))
	if err != nil {
		return nil, fmt.Errorf("natsjs: subscribe from %d: %w", from, err)
	}
	return &subscription{s: s, it: it, next: from}, nil
}

type subscription struct {
	s    *Store
	it   jetstream.MessagesContext
	next uint64 // the position expected next: a guard against gaps and repeats
	once sync.Once
}

func (sub *subscription) Next(ctx context.Context) (events.Envelope, error) {
	for {
		m, err := sub.it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return events.Envelope{}, events.ErrClosed
			}
			if ctxErr := ctx.Err(); ctxErr != nil {
				return events.Envelope{}, ctxErr
			}
			return events.Envelope{}, fmt.Errorf("natsjs: subscription: %w", err)
		}
		md, err := m.Metadata()
		if err != nil {
			return events.Envelope{}, fmt.Errorf("natsjs: subscription: %w", err)
		}
		pos := md.Sequence.Stream
		if pos < sub.next {
			continue // redelivery after a consumer reset: already handed out
		}
		sub.next = pos + 1
		return sub.s.envelope(m.Subject(), pos, m.Data())
	}
}

func (sub *subscription) Close() error {
	sub.once.Do(sub.it.Stop)
	return nil
}
