package gql

import (
	"context"
	"encoding/json"
	"regexp"
	"runtime"
	"slices"
	"sync"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/api/gqlws"
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
//
// Delivery: a member whose transport put a gqlws.Sink in its context gets
// each response pushed straight to its connection (the sink bounds its own
// queue, and refuses once the connection is closing or too far behind: the
// member is then dropped). Its channel carries nothing and only closes when
// the member ends. A push may write to a socket, so a large group's pushes
// are spread over GOMAXPROCS goroutines; the next responses are pushed only
// once the previous ones reached every member, which keeps each member's
// order. Events that queued up meanwhile are pushed together (one write
// per member for the lot).

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
}

type member struct {
	ch     chan *graphql.Response
	sink   gqlws.Sink // nil: responses go to ch
	start  uint64
	closed bool        // ch is closed; guarded by mux.mu
	stop   func() bool // unregisters the leave on ctx end
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
	mem := &member{start: start}
	if sink, ok := gqlws.SinkFrom(ctx); ok {
		mem.sink, mem.ch = sink, make(chan *graphql.Response)
	} else {
		mem.ch = make(chan *graphql.Response, memberQueue)
	}
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
		g = &group{members: map[*member]struct{}{}, cancel: cancel}
		m.groups[key] = g
		go m.pump(key, g, src, rec)
	}
	g.members[mem] = struct{}{}
	// No goroutine waits for the member's end: ctx's end removes it, and
	// the group's end closes every member and unregisters this.
	mem.stop = context.AfterFunc(ctx, func() { m.leave(key, g, mem) })
	m.mu.Unlock()
	return mem.ch, nil
}

// leave removes mem; the last member to leave stops the group.
func (m *mux) leave(key string, g *group, mem *member) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := g.members[mem]; !ok {
		return
	}
	m.remove(g, mem)
	if len(g.members) == 0 {
		m.end(key, g)
	}
}

// remove takes mem out of g and closes its channel; the caller holds m.mu.
func (m *mux) remove(g *group, mem *member) {
	delete(g.members, mem)
	if !mem.closed {
		mem.closed = true
		close(mem.ch)
	}
	if mem.stop != nil {
		mem.stop()
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
}

// maxBatch bounds the responses delivered together.
const maxBatch = 64

// entry is one response of a batch and the event it answers.
type entry struct {
	resp *graphql.Response
	pos  uint64
	item bool // false: a response not tied to an event (an error)
}

// target is a member and the responses of a batch it is to get.
type target struct {
	mem   *member
	resps []*graphql.Response
}

// pump fans the group's responses out to its members. When events queued
// up while it was delivering (the recorder knows of events handed to
// graphql-go whose responses it has not taken yet), it takes them all, up
// to maxBatch, and hands each sink member the whole batch at once: one
// socket write for several events.
func (m *mux) pump(key string, g *group, src <-chan any, rec *recorder) {
	var batch []entry
	var targets []target
	for open := true; open; {
		batch = batch[:0]
		for open && (len(batch) == 0 || len(batch) < maxBatch && rec.pending() > 0) {
			var v any
			if v, open = <-src; !open {
				break
			}
			resp, ok := v.(*graphql.Response)
			if !ok {
				continue
			}
			annotate(resp.Errors)
			pos, item := rec.pop()
			batch = append(batch, entry{resp, pos, item})
		}
		if len(batch) > 0 {
			targets = m.deliver(key, g, batch, targets[:0])
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for mem := range g.members {
		m.remove(g, mem)
	}
	m.end(key, g)
}

// deliver hands batch to every member, in order: to channel members at
// once, to sink members by push. It returns targets for reuse.
func (m *mux) deliver(key string, g *group, batch []entry, targets []target) []target {
	all := make([]*graphql.Response, len(batch))
	first, items := uint64(0), false // the batch's first event (positions increase)
	for i, e := range batch {
		all[i] = e.resp
		if e.item && !items {
			first, items = e.pos, true
		}
	}
	m.mu.Lock()
	for mem := range g.members {
		resps := all
		if items && first < mem.start {
			resps = nil // the member started within or after the batch: only its events
			for _, e := range batch {
				if !e.item || e.pos >= mem.start {
					resps = append(resps, e.resp)
				}
			}
		}
		if len(resps) == 0 {
			continue
		}
		if mem.sink != nil {
			targets = append(targets, target{mem, resps})
			continue
		}
		for _, resp := range resps {
			select {
			case mem.ch <- resp:
				continue
			default: // too far behind: drop it, the others go on
			}
			select { // make room for the notice: that event is resent on resume
			case <-mem.ch:
			default:
			}
			select {
			case mem.ch <- dropped:
			default:
			}
			m.remove(g, mem)
			break
		}
	}
	m.mu.Unlock()
	if refused := push(targets); len(refused) > 0 {
		m.mu.Lock()
		for _, mem := range refused {
			if _, ok := g.members[mem]; ok {
				m.remove(g, mem)
			}
		}
		if len(g.members) == 0 {
			m.end(key, g)
		}
		m.mu.Unlock()
	}
	return targets
}

// pushChunk is the fewest pushes worth a goroutine of their own.
const pushChunk = 256

// push pushes to every target, spread over up to GOMAXPROCS goroutines,
// and returns once all are done, with the members that refused.
func push(targets []target) []*member {
	workers := min(runtime.GOMAXPROCS(0), (len(targets)+pushChunk-1)/pushChunk)
	if workers <= 1 {
		return pushEach(targets)
	}
	refused := make([][]*member, workers)
	size := (len(targets) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ { // owned: joined below
		part := targets[w*size : min((w+1)*size, len(targets))]
		wg.Go(func() { refused[w] = pushEach(part) })
	}
	refused[0] = pushEach(targets[:size])
	wg.Wait()
	return slices.Concat(refused...)
}

func pushEach(targets []target) (refused []*member) {
	for _, t := range targets {
		if !t.mem.sink.Push(t.resps...) {
			refused = append(refused, t.mem)
		}
	}
	return refused
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

// pending is how many items were handed on whose responses were not
// popped yet.
func (r *recorder) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.q)
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
