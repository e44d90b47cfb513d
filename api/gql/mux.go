package gql

import (
	"context"
	"encoding/json"
	"regexp"
	"sync"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/auth"
)

// This file shares one execution among identical live subscriptions.
//
// graphql-go resolves every event once per subscriber. Ten thousand
// subscribers of the same operation (same tenant, query and variables)
// would each resolve the same event into the same bytes. The mux runs the
// operation once per distinct key and fans each response out to the
// members of its group. A member joins at a position (the end of the log
// when it subscribes) and receives the responses of events at or after it,
// in order; the group itself started at its first member's position, so no
// member misses an event. Operations that name a start position (`from`)
// replay history of their own and are not shared.
//
// Backpressure: a member has a bounded queue; a member that falls that far
// behind is dropped (its channel closes, the transport completes the
// operation and the client resumes with `from`), never blocking the others.

// memberQueue bounds the responses waiting for one member.
const memberQueue = 512

// dropped is the last response of a member that fell behind.
var dropped = &graphql.Response{Errors: reqErr(apierr.CodeUnavailable,
	"subscription dropped: the client fell %d events behind; resubscribe with from set to the position after the last event it received", memberQueue).Errors}

type mux struct {
	s      *Schema
	mu     sync.Mutex
	groups map[string]*group
}

type group struct {
	members map[*member]struct{}
	cancel  context.CancelFunc
	ended   bool
	endedC  chan struct{} // closed when the group ends
}

type member struct {
	ch     chan *graphql.Response
	start  uint64
	closed bool
}

// fromArg finds a `from:` argument (or an alias named from: either way
// the operation is not shared).
var fromArg = regexp.MustCompile(`(^|[^A-Za-z0-9_])from\s*:`)

// shareable reports whether a subscription may join a shared group: it
// must not name a start position.
func shareable(q string, vars map[string]any) bool {
	_, hasFrom := vars["from"]
	return !hasFrom && !fromArg.MatchString(q)
}

// muxKey identifies identical operations of one tenant.
func muxKey(tenant, q, opName string, vars map[string]any) (string, bool) {
	v, err := json.Marshal(vars) // map keys are sorted: canonical
	if err != nil {
		return "", false
	}
	return tenant + "\x00" + opName + "\x00" + q + "\x00" + string(v), true
}

// join adds a member starting at position start to the group of key,
// starting the group when it has none. The member's channel closes when
// ctx ends, the group ends, or the member falls behind.
func (m *mux) join(ctx context.Context, key string, start uint64, p auth.Principal, q, opName string, vars map[string]any) (<-chan *graphql.Response, error) {
	mem := &member{ch: make(chan *graphql.Response, memberQueue), start: start}
	m.mu.Lock()
	g := m.groups[key]
	if g == nil {
		gctx, cancel := context.WithCancel(auth.WithPrincipal(context.Background(), p))
		rec := &recorder{}
		gctx = context.WithValue(gctx, recorderKey{}, rec)
		gctx = context.WithValue(gctx, startKey{}, start)
		src, err := m.s.gs.Subscribe(gctx, q, opName, vars)
		if err != nil {
			m.mu.Unlock()
			cancel()
			return nil, err
		}
		g = &group{members: map[*member]struct{}{}, cancel: cancel, endedC: make(chan struct{})}
		m.groups[key] = g
		go m.pump(key, g, src, rec)
	}
	g.members[mem] = struct{}{}
	m.mu.Unlock()
	go func() { // owned: ends with the member's ctx or when the group closes it
		select {
		case <-ctx.Done():
		case <-g.endedC:
		}
		m.leave(key, g, mem)
	}()
	return mem.ch, nil
}

// leave removes mem; the last member to leave stops the group.
func (m *mux) leave(key string, g *group, mem *member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := g.members[mem]; !ok {
		return
	}
	delete(g.members, mem)
	if !mem.closed {
		mem.closed = true
		close(mem.ch)
	}
	if len(g.members) == 0 {
		m.end(key, g)
	}
}

// end stops g once; the caller holds m.mu.
func (m *mux) end(key string, g *group) {
	if g.ended {
		return
	}
	g.ended = true
	if m.groups[key] == g {
		delete(m.groups, key)
	}
	g.cancel()
	close(g.endedC)
}

// pump fans the group's responses out to its members.
func (m *mux) pump(key string, g *group, src <-chan any, rec *recorder) {
	for v := range src {
		resp, ok := v.(*graphql.Response)
		if !ok {
			continue
		}
		annotate(resp.Errors)
		pos, item := rec.pop() // false: a response not tied to an event (an error)
		m.mu.Lock()
		for mem := range g.members {
			if item && pos < mem.start {
				continue
			}
			select {
			case mem.ch <- resp:
			default: // too far behind: drop it, the others go on
				delete(g.members, mem)
				mem.closed = true
				select { // make room for the notice: that event is resent on resume
				case <-mem.ch:
				default:
				}
				select {
				case mem.ch <- dropped:
				default:
				}
				close(mem.ch)
			}
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for mem := range g.members {
		if !mem.closed {
			mem.closed = true
			close(mem.ch)
		}
	}
	clear(g.members)
	m.end(key, g)
}

// recorder learns, in order, the log position of every item a subscription
// resolver hands to graphql-go, which answers each item with exactly one
// response in the same order.
type recorder struct {
	mu sync.Mutex
	q  []uint64
}

type recorderKey struct{}

// startKey carries the position a shared group starts at.
type startKey struct{}

func (r *recorder) push(pos uint64) {
	r.mu.Lock()
	r.q = append(r.q, pos)
	r.mu.Unlock()
}

func (r *recorder) pop() (uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.q) == 0 {
		return 0, false
	}
	p := r.q[0]
	r.q = r.q[1:]
	return p, true
}
