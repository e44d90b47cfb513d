package router

import (
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/oklog/ulid/v2"
)

// Outcomes of a call and of an attempt.
const (
	OutcomeOK        = "ok"
	OutcomeError     = "error"
	OutcomeCancelled = "cancelled"
	// OutcomeSkipped marks an attempt not made because the deployment's
	// circuit was open.
	OutcomeSkipped = "skipped"
)

// Caller is who a call is made for.
type Caller struct {
	Tenant  string `json:"tenant"`
	KeyID   string `json:"keyId,omitempty"`
	User    string `json:"user,omitempty"`
	Project string `json:"project,omitempty"`
}

// Attempt is one call to one deployment, or one deployment skipped.
type Attempt struct {
	Deployment string `json:"deployment"`
	Model      string `json:"model"`
	// Outcome is OutcomeOK, OutcomeError, OutcomeCancelled or
	// OutcomeSkipped.
	Outcome   string        `json:"outcome"`
	ErrorKind llm.ErrorKind `json:"errorKind,omitempty"`
	// Status is the upstream HTTP status: 200 for success, the provider's
	// status for an error it sent, the router's status otherwise.
	Status    int     `json:"status,omitempty"`
	LatencyMs float64 `json:"latencyMs"`
}

// Call is the record of one routed call, from the request to the end of
// the response (the end of the stream for a streamed call).
type Call struct {
	// ID is unique (a ULID).
	ID string `json:"id"`
	Caller
	// RequestedModel is the model the caller asked for.
	RequestedModel string `json:"requestedModel"`
	// Provider (catalogue id), Deployment and Model (upstream id) are
	// the last deployment tried: the one that answered on success.
	Provider   string `json:"provider,omitempty"`
	Deployment string `json:"deployment,omitempty"`
	Model      string `json:"model,omitempty"`
	// Route lists every attempt in order.
	Route []Attempt `json:"route"`
	Usage llm.Usage `json:"usage"`
	// UsageEstimated is set when the provider reported no usage (a stream
	// cut short, or one without a usage event) and Usage is the router's
	// estimate: four bytes of text a token, prompt and output.
	UsageEstimated bool `json:"usageEstimated,omitempty"`
	// CostUSD is Usage at the deployment's prices; Priced is false when a
	// needed price is unknown, and CostUSD is then 0 but not free.
	CostUSD float64 `json:"costUsd"`
	Priced  bool    `json:"priced"`
	// Latency is from the request to the end of the response; TTFT to the
	// first generated token of a stream.
	Latency time.Duration `json:"latencyNs"`
	TTFT    time.Duration `json:"ttftNs,omitempty"`
	// AddedTime is the router's own share of the time to the response
	// (headers, for a stream): elapsed minus time spent waiting on
	// deployments. Backoff waits count as added. For response headers.
	AddedTime time.Duration `json:"addedTimeNs"`
	Stream    bool          `json:"stream"`
	// Outcome is OutcomeOK, OutcomeError or OutcomeCancelled.
	Outcome   string        `json:"outcome"`
	ErrorKind llm.ErrorKind `json:"errorKind,omitempty"`
	Fault     string        `json:"fault,omitempty"`
	// Error is the error's message.
	Error     string    `json:"error,omitempty"`
	StartedAt time.Time `json:"startedAt"`
}

// Recorder receives every call once, when it ends: before Chat returns,
// and for a stream when it reaches its end, fails or is closed. The router
// calls Record on the response's path, so Record must not block: it
// buffers and writes elsewhere (the event appender does). The Call and its
// Route must not be modified.
type Recorder interface {
	Record(Call)
}

func (r *Router) newCall(req *llm.Request, who Caller, start time.Time, stream bool) *Call {
	return &Call{ID: newID(start), Caller: who, RequestedModel: req.Model, StartedAt: start,
		Stream: stream, Route: make([]Attempt, 0, 2)}
}

// Call ids are ULIDs: the start time, then 80 bits of entropy made of a
// random per-process prefix and a counter from a random start, so ids are
// unique in the process without a lock and unique across processes with
// high probability.
var (
	idPrefix = uint16(rand.Uint32())
	idSeq    atomic.Uint64
)

func init() { idSeq.Store(rand.Uint64()) }

func newID(t time.Time) string {
	var id ulid.ULID
	if t.Before(time.UnixMilli(0)) || id.SetTime(ulid.Timestamp(t)) != nil {
		_ = id.SetTime(0)
	}
	var e [10]byte
	binary.BigEndian.PutUint16(e[:2], idPrefix)
	binary.BigEndian.PutUint64(e[2:], idSeq.Add(1))
	_ = id.SetEntropy(e[:])
	return id.String()
}

// attempt appends an attempt to the route.
func (c *Call) attempt(cand *candidate, outcome string, e *llm.Error, took time.Duration) {
	a := Attempt{Deployment: cand.dep.Name, Model: cand.upstream, Outcome: outcome, LatencyMs: ms(took)}
	switch {
	case e != nil:
		a.ErrorKind = e.Kind
		a.Status = e.UpstreamStatus
		if a.Status == 0 {
			a.Status = e.Status
		}
	case outcome == OutcomeOK:
		a.Status = http.StatusOK
	}
	c.Route = append(c.Route, a)
	c.Deployment, c.Provider, c.Model = cand.dep.Name, cand.dep.Provider, cand.upstream
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// bill sets the call's usage and cost.
func (r *Router) bill(c *Call, cand *candidate, u llm.Usage) {
	c.Usage = u
	p, ok := r.price(cand.dep, cand.public, cand.upstream)
	if !ok {
		c.CostUSD, c.Priced = 0, false
		return
	}
	c.CostUSD, c.Priced = p.Cost(u)
}

// fail ends the call with an error.
func (c *Call) fail(e *llm.Error) {
	c.Outcome = OutcomeError
	if e.Kind == llm.KindCancelled {
		c.Outcome = OutcomeCancelled
	}
	c.ErrorKind, c.Fault, c.Error = e.Kind, e.Fault().String(), e.Message
}

func (r *Router) record(c *Call) {
	if r.cfg.Recorder != nil {
		r.cfg.Recorder.Record(*c)
	}
}

// Recorders hands every call to each recorder in turn.
func Recorders(rs ...Recorder) Recorder { return recorders(rs) }

type recorders []Recorder

func (rs recorders) Record(c Call) {
	for _, r := range rs {
		r.Record(c)
	}
}
