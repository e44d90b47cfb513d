package natsjs

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
)

// replies routes the answers of multi-message requests (batched direct
// gets) to their callers through one wildcard subscription, instead of a
// subscription per request: a sync subscription allocates a 64k-message
// channel, which dominated the cost of small reads.
type replies struct {
	prefix string
	sub    *nats.Subscription

	mu      sync.Mutex
	next    uint64
	waiting map[string]chan *nats.Msg
}

func newReplies(nc *nats.Conn) (*replies, error) {
	r := &replies{prefix: nc.NewInbox(), waiting: make(map[string]chan *nats.Msg)}
	sub, err := nc.Subscribe(r.prefix+".*", r.deliver)
	if err != nil {
		return nil, fmt.Errorf("natsjs: reply subscription: %w", err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, fmt.Errorf("natsjs: reply subscription: %w", err)
	}
	r.sub = sub
	return r, nil
}

// open registers a request that expects at most n replies and returns
// its reply subject and channel. The channel has room for all of them, so
// delivery never blocks other requests.
func (r *replies) open(n int) (string, chan *nats.Msg) {
	ch := make(chan *nats.Msg, n)
	r.mu.Lock()
	r.next++
	id := strconv.FormatUint(r.next, 36)
	r.waiting[id] = ch
	r.mu.Unlock()
	return r.prefix + "." + id, ch
}

func (r *replies) close(subject string) {
	r.mu.Lock()
	delete(r.waiting, subject[len(r.prefix)+1:])
	r.mu.Unlock()
}

func (r *replies) deliver(m *nats.Msg) {
	r.mu.Lock()
	ch := r.waiting[m.Subject[len(r.prefix)+1:]]
	r.mu.Unlock()
	if ch == nil {
		return // the caller gave up
	}
	select {
	case ch <- m:
	default: // more replies than the request allows: the caller times out
	}
}

func (r *replies) stop() { _ = r.sub.Unsubscribe() }
