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
// are spread over GOMAXPROCS goroutines; the next response is pushed only
// once the previous one reached every member, which keeps each member's
// order.

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

// pump fans the group's responses out to its members.
func (m *mux) pump(key string, g *group, src <-chan any, rec *recorder) {
	var sinks []*member
	for v := range src {
		resp, ok := v.(*graphql.Response)
		if !ok {
			continue
		}
		annotate(resp.Errors)
		pos, item := rec.pop() // false: a response not tied to an event (an error)
		sinks = sinks[:0]
		m.mu.Lock()
		for mem := range g.members {
			if item && pos < mem.start {
				continue
			}
			if mem.sink != nil {
				sinks = append(sinks, mem)
				continue
			}
			select {
			case mem.ch <- resp:
			default: // too far behind: drop it, the others go on
				select { // make room for the notice: that event is resent on resume
				case <-mem.ch:
				default:
				}
				select {
				case mem.ch <- dropped:
				default:
				}
				m.remove(g, mem)
			}
		}
		m.mu.Unlock()
		if refused := push(sinks, resp); len(refused) > 0 {
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
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for mem := range g.members {
		m.remove(g, mem)
	}
	m.end(key, g)
}

// pushChunk is the fewest pushes worth a goroutine of their own.
const pushChunk = 256

// push hands resp to every sink, spread over up to GOMAXPROCS goroutines,
// and returns once all are done, with the members that refused it.
func push(sinks []*member, resp *graphql.Response) []*member {
	workers := min(runtime.GOMAXPROCS(0), (len(sinks)+pushChunk-1)/pushChunk)
	if workers <= 1 {
		return pushEach(sinks, resp, nil)
	}
	refused := make([][]*member, workers)
	size := (len(sinks) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ { // owned: joined below
		part := sinks[w*size : min((w+1)*size, len(sinks))]
		wg.Go(func() { refused[w] = pushEach(part, resp, nil) })
	}
	refused[0] = pushEach(sinks[:size], resp, nil)
	wg.Wait()
	return slices.Concat(refused...)
}

func pushEach(sinks []*member, resp *graphql.Response, refused []*member) []*member {
	for _, mem := range sinks {
		if !mem.sink.Push(resp) {
			refused = append(refused, mem)
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
