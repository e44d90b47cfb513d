package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/oklog/ulid/v2"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/agent/tools"
	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// messages of run actors.
type (
	// runCmd is a command and where to answer it.
	runCmd struct {
		reply chan<- runReply // buffered: answering never blocks
		msg   any
	}
	runStartMsg struct {
		caller Caller
		req    StartRun
		def    agent.Definition
	}
	runGetMsg    struct{ caller Caller }
	runCancelMsg struct{ caller Caller }
	runAnswerMsg struct {
		caller Caller
		answer string
	}
	// runKickMsg lets a run continue (Resume; a retry after a store
	// error).
	runKickMsg struct{}
	// modelDoneMsg is the end of a model call; call is a copy of the
	// router's record, complete.
	modelDoneMsg struct {
		gen  uint64
		step int
		resp *llm.Response
		call *router.Call
		err  error
	}
	// toolDoneMsg is the end of one tool call.
	toolDoneMsg struct {
		gen  uint64
		step int
		call llm.ToolCall
		res  tools.Result
	}
	runReply struct {
		view RunView
		err  error
	}
)

// storeRetries are the waits between attempts of an append that failed
// for another reason than a conflict.
var storeRetries = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, time.Second}

// suspendFor is how long a run whose appends keep failing waits before it
// tries again.
const suspendFor = 5 * time.Second

// runActor is the activation of one agent run. It owns the run's state
// (the fold of its stream, agent.Run); its fields are touched only from
// Receive. The slow work — a model stream, tool calls — runs on
// goroutines the actor starts (Agents.goroutine) under a context it
// cancels on Cancel, on stop and at the run's deadline; each result comes
// back as a message, which the actor journals with the revision it knows
// (events.Exact) before it decides the next step with agent.Run.Next. A
// run's actor stops as soon as the run waits for a human or has ended.
type runActor struct {
	ag     *Agents
	key    string // tenant-scoped run id
	id     string
	loaded bool
	run    agent.Run

	// The side effects in flight: one model call, or the tool calls of a
	// step (inTools running, queued waiting for a free slot). gen tells
	// the results of an abandoned batch from the current one.
	gen      uint64
	batch    context.Context
	cancel   context.CancelFunc
	inModel  bool
	inTools  map[string]struct{}
	queued   []llm.ToolCall
	toolStep int
	// interrupted is a model call cut short (cancel, timeout, failure):
	// the terminal event's totals include it.
	interrupted *router.Call

	cancelling bool
	cancelBy   string
	waiters    []chan<- runReply
	stopping   bool
	retry      *time.Timer
}

func (a *runActor) stream() string { return events.AgentRunStreamPrefix + a.key }

func (a *runActor) busy() bool { return a.inModel || len(a.inTools) > 0 }

func (a *runActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		name := strings.TrimPrefix(c.Self().Id, "agentrun/")
		a.key = name[:strings.LastIndex(name, nameSep)]
		_, a.id = events.Unscope(a.key)
	case *actor.Stopping:
		a.stopping = true
		a.abort()
		if a.retry != nil {
			a.retry.Stop()
		}
		for _, w := range a.waiters {
			w <- runReply{err: ErrStopped}
		}
		a.waiters = nil
	case *actor.Stopped:
		a.ag.actorStopped(c.Self().Id)
	case *runCmd:
		a.command(c, m)
	case runKickMsg: // from the retry timer
		a.retry = nil
		a.kicked(c)
	case *modelDoneMsg:
		a.modelDone(c, m)
	case *toolDoneMsg:
		a.toolDone(c, m)
	}
}

func (a *runActor) command(c actor.Context, cmd *runCmd) {
	if a.stopping {
		return // unanswered: the caller retries on a new activation
	}
	switch m := cmd.msg.(type) {
	case *runStartMsg:
		v, err := a.start(m)
		cmd.reply <- runReply{view: v, err: err}
		a.advance(c)
	case *runGetMsg:
		v, err := a.get(m.caller)
		cmd.reply <- runReply{view: v, err: err}
		a.advance(c)
	case *runAnswerMsg:
		v, err := a.answer(m)
		cmd.reply <- runReply{view: v, err: err}
		a.advance(c)
	case *runCancelMsg:
		a.cancelRun(c, m, cmd.reply)
	case runKickMsg:
		cmd.reply <- runReply{}
		a.kicked(c)
	default:
		cmd.reply <- runReply{err: fmt.Errorf("agent run: unknown command %T", m)}
	}
}

func (a *runActor) kicked(c actor.Context) {
	if err := a.ensure(); err != nil {
		a.suspend(c, err)
		return
	}
	a.advance(c)
}

func opTimeout(a *runActor) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.ag.sys.opts.RequestTimeout)
}

// ensure loads the run on first use.
func (a *runActor) ensure() error {
	if a.loaded {
		return nil
	}
	return a.reload()
}

// reload catches up with the run's stream from the revision it knows.
func (a *runActor) reload() error {
	ctx, cancel := opTimeout(a)
	defer cancel()
	evs, err := a.ag.store.ReadStream(ctx, a.stream(), a.run.Revision+1, 0)
	if err != nil {
		return fmt.Errorf("load agent run %s: %w", a.key, err)
	}
	for _, e := range evs {
		if err := a.run.Apply(e); err != nil {
			return fmt.Errorf("load agent run %s: %w", a.key, err)
		}
	}
	a.loaded = true
	return nil
}

func (a *runActor) owns(c Caller) bool { return a.run.Revision > 0 && a.run.Tenant == c.Tenant }

func (a *runActor) notFound() error { return fmt.Errorf("agent run %q: %w", a.id, ErrNotFound) }

func (a *runActor) get(c Caller) (RunView, error) {
	if err := a.ensure(); err != nil {
		return RunView{}, err
	}
	if !a.owns(c) {
		return RunView{}, a.notFound()
	}
	return viewOf(&a.run), nil
}

func (a *runActor) start(m *runStartMsg) (RunView, error) {
	if err := a.ensure(); err != nil {
		return RunView{}, err
	}
	if a.run.Revision > 0 {
		if !a.owns(m.caller) {
			return RunView{}, fmt.Errorf("agent run %q: %w", a.id, ErrAlreadyExists)
		}
		return viewOf(&a.run), nil // the same id again: the first start
	}
	def := m.def
	body, err := json.Marshal(def)
	if err != nil {
		return RunView{}, fmt.Errorf("encode agent: %w", err)
	}
	now := time.Now().UTC()
	data := events.AgentRunStarted{
		RunID: a.id, AgentID: def.ID, AgentVersion: def.Version, Definition: body,
		Input: m.req.Input, Data: m.req.Data, ResourceID: m.req.ResourceID, Activity: m.req.Activity,
		IdempotencyKey: m.req.IdempotencyKey, MaxSteps: def.MaxSteps, Deadline: now.Add(def.Timeout()),
	}
	if err := a.append(events.TypeAgentRunStarted, events.AgentRunStartedVersion, data, m.caller); err != nil {
		if errors.Is(err, events.ErrConflict) {
			if rerr := a.reload(); rerr != nil {
				return RunView{}, rerr
			}
			if a.owns(m.caller) {
				return viewOf(&a.run), nil
			}
		}
		return RunView{}, err
	}
	return viewOf(&a.run), nil
}

func (a *runActor) answer(m *runAnswerMsg) (RunView, error) {
	if err := a.ensure(); err != nil {
		return RunView{}, err
	}
	if !a.owns(m.caller) {
		return RunView{}, a.notFound()
	}
	if a.run.Status != agent.StatusWaiting || a.run.Waiting == nil {
		return RunView{}, fmt.Errorf("agent run %q is %s: %w", a.id, a.run.Status, ErrNotWaiting)
	}
	data := events.AgentRunAnswered{RunID: a.id, ToolCallID: a.run.Waiting.ToolCallID, Answer: m.answer, By: m.caller.Actor}
	if err := a.append(events.TypeAgentRunAnswered, events.AgentRunAnsweredVersion, data, m.caller); err != nil {
		if errors.Is(err, events.ErrConflict) {
			_ = a.reload()
		}
		return RunView{}, err
	}
	return viewOf(&a.run), nil
}

func (a *runActor) cancelRun(c actor.Context, m *runCancelMsg, reply chan<- runReply) {
	if err := a.ensure(); err != nil {
		reply <- runReply{err: err}
		a.advance(c)
		return
	}
	if !a.owns(m.caller) {
		reply <- runReply{err: a.notFound()}
		a.advance(c)
		return
	}
	if a.run.Status.Terminal() {
		reply <- runReply{view: viewOf(&a.run)}
		a.advance(c)
		return
	}
	a.waiters = append(a.waiters, reply)
	a.cancelling, a.cancelBy = true, m.caller.Actor
	if a.busy() {
		a.cancel() // the results come back cancelled; finishCancel then
		return
	}
	a.finishCancel(c)
}

// finishCancel appends AgentRunCancelled once nothing is in flight and
// answers every Cancel waiting for it.
func (a *runActor) finishCancel(c actor.Context) {
	if a.busy() {
		return
	}
	var err error
	for attempt := 0; attempt < maxConflictRetries; attempt++ {
		if a.run.Status.Terminal() {
			break
		}
		steps, usage, cost, priced, callID := a.totals()
		err = a.append(events.TypeAgentRunCancelled, events.AgentRunCancelledVersion, events.AgentRunCancelled{
			RunID: a.id, By: a.cancelBy, Steps: steps, Usage: usage, CostUSD: cost, Priced: priced, CallID: callID,
		}, Caller{Tenant: a.run.Tenant, Actor: a.cancelBy})
		if err == nil {
			a.ag.notifyEnded(viewOf(&a.run))
			break
		}
		if !errors.Is(err, events.ErrConflict) {
			break
		}
		if err = a.reload(); err != nil {
			break
		}
	}
	for _, w := range a.waiters {
		if err != nil {
			w <- runReply{err: err}
		} else {
			w <- runReply{view: viewOf(&a.run)}
		}
	}
	a.waiters, a.cancelling, a.cancelBy = nil, false, ""
	if err != nil {
		a.suspend(c, err)
		return
	}
	a.advance(c)
}

// advance executes the run's decisions until one starts a side effect,
// parks the run or ends it; a parked or ended run's actor stops.
func (a *runActor) advance(c actor.Context) {
	for i := 0; i < 64; i++ {
		if a.stopping || a.busy() {
			return
		}
		if !a.loaded {
			if a.retry == nil { // a failed load: the next command tries again
				a.passivate(c)
			}
			return // suspended: the retry timer kicks the run
		}
		if a.cancelling {
			a.finishCancel(c)
			return
		}
		if a.run.Revision == 0 {
			a.passivate(c)
			return
		}
		switch d := a.run.Next(time.Now()).(type) {
		case agent.CallModel:
			a.callModel(c, d)
			return
		case agent.CallTools:
			a.callTools(c, d)
			return
		case agent.Escalate:
			if !a.commit(c, events.TypeAgentRunWaiting, events.AgentRunWaitingVersion, events.AgentRunWaiting{
				RunID: a.id, Step: d.Step, ToolCallID: d.Call.ID, Question: d.Question}) {
				return
			}
		case agent.Complete:
			steps, usage, cost, priced, _ := a.totals()
			if !a.commit(c, events.TypeAgentRunCompleted, events.AgentRunCompletedVersion, events.AgentRunCompleted{
				RunID: a.id, Output: d.Output, OutputJSON: d.OutputJSON, Steps: steps, Usage: usage, CostUSD: cost, Priced: priced}) {
				return
			}
			a.endedIfTerminal()
		case agent.Fail:
			if !a.fail(c, d.Kind, d.Error) {
				return
			}
		case agent.Wait, agent.Done:
			a.passivate(c)
			return
		}
	}
	a.ag.log.Error("agent run made no progress", "run", a.key)
	a.suspend(c, errors.New("no progress"))
}

// fail appends AgentRunFailed; false when the append failed (the run is
// suspended).
func (a *runActor) fail(c actor.Context, kind, msg string) bool {
	steps, usage, cost, priced, callID := a.totals()
	if !a.commit(c, events.TypeAgentRunFailed, events.AgentRunFailedVersion, events.AgentRunFailed{
		RunID: a.id, Error: msg, Kind: kind, Steps: steps, Usage: usage, CostUSD: cost, Priced: priced, CallID: callID}) {
		return false
	}
	a.endedIfTerminal()
	return true
}

func (a *runActor) endedIfTerminal() {
	if a.run.Status.Terminal() {
		a.interrupted = nil
		a.ag.notifyEnded(viewOf(&a.run))
	}
}

// totals are the run's totals for a terminal event: its journaled model
// calls plus the one cut short, if any.
func (a *runActor) totals() (steps int, usage events.LlmTokens, cost float64, priced bool, callID string) {
	u, cost, priced := a.run.Usage, a.run.CostUSD, a.run.Priced
	if ic := a.interrupted; ic != nil {
		u, cost, priced, callID = u.Add(ic.Usage), cost+ic.CostUSD, priced && ic.Priced, ic.ID
	}
	return a.run.Steps, agent.Tokens(u), cost, priced, callID
}

// commit appends a decision's event. On a conflict it catches up with the
// stream and returns true: the caller decides again from what is there.
// On any other failure the run is suspended and commit returns false.
func (a *runActor) commit(c actor.Context, typ string, version int, data any) bool {
	err := a.append(typ, version, data, Caller{Tenant: a.run.Tenant, Actor: "agent"})
	if err == nil {
		return true
	}
	if errors.Is(err, events.ErrConflict) {
		a.abort()
		if err = a.reload(); err == nil {
			return true
		}
	}
	a.suspend(c, err)
	return false
}

// append writes one event at the revision the actor knows, applies it and
// publishes it to watchers. Failures other than conflicts are retried a
// few times.
func (a *runActor) append(typ string, version int, data any, by Caller) error {
	ev, err := events.NewEvent(typ, version, data)
	if err != nil {
		return err
	}
	ev.ID, ev.Time, ev.Tenant, ev.Actor = ulid.Make().String(), time.Now().UTC(), by.Tenant, by.Actor
	var out events.Appended
	for attempt := 0; ; attempt++ {
		ctx, cancel := opTimeout(a)
		out, err = a.ag.store.Append(ctx, a.stream(), events.Exact(a.run.Revision), ev)
		cancel()
		if err == nil || errors.Is(err, events.ErrConflict) || attempt >= len(storeRetries) || a.stopping {
			break
		}
		time.Sleep(storeRetries[attempt])
	}
	if err != nil {
		return fmt.Errorf("append %s to %s: %w", typ, a.stream(), err)
	}
	env := events.Envelope{
		ID: ev.ID, Stream: a.stream(), Type: ev.Type, Version: ev.Version, Revision: out.LastRevision,
		Position: out.LastPosition, Time: ev.Time, Tenant: ev.Tenant, Actor: ev.Actor, Data: ev.Data,
	}
	if err := a.run.Apply(env); err != nil {
		return err
	}
	a.ag.publish(a.key, hubMsg{env: &env})
	return nil
}

// suspend gives up for now after a store failure: nothing is in flight,
// and the run tries again later (or on the next start, by Resume).
func (a *runActor) suspend(c actor.Context, err error) {
	a.ag.log.Error("agent run suspended", "run", a.key, "retry_in", suspendFor, "err", err)
	a.abort()
	a.loaded = false // re-read the stream before deciding again
	self, sys := c.Self(), a.ag.sys.as
	if a.retry != nil {
		a.retry.Stop()
	}
	a.retry = time.AfterFunc(suspendFor, func() { sys.Root.Send(self, runKickMsg{}) })
}

// abort abandons the side effects in flight: their contexts are
// cancelled and their results will be ignored.
func (a *runActor) abort() {
	if a.cancel != nil {
		a.cancel()
	}
	a.gen = a.ag.gens.Add(1)
	a.inModel, a.queued, a.batch, a.cancel = false, nil, nil, nil
	clear(a.inTools)
}

// passivate stops the actor; the next command reactivates the run.
func (a *runActor) passivate(c actor.Context) {
	if a.retry != nil {
		a.retry.Stop()
	}
	a.ag.deactivate(a.key, c.Self())
	c.Stop(c.Self())
}

// newBatch starts a context for the next side effects, ending at the
// run's deadline.
func (a *runActor) newBatch() (context.Context, uint64) {
	if a.cancel != nil {
		a.cancel()
	}
	a.gen = a.ag.gens.Add(1)
	if a.run.Deadline.IsZero() {
		a.batch, a.cancel = context.WithCancel(context.Background())
	} else {
		a.batch, a.cancel = context.WithDeadline(context.Background(), a.run.Deadline)
	}
	return a.batch, a.gen
}

func (a *runActor) callModel(c actor.Context, d agent.CallModel) {
	if a.ag.llm == nil {
		a.fail(c, events.AgentFailModel, "no LLM is configured")
		a.advance(c)
		return
	}
	ctx, gen := a.newBatch()
	project := a.run.AgentID
	if project == "" {
		project = "inline"
	}
	who := router.Caller{Tenant: a.run.Tenant, Project: "agent:" + project}
	self, key, step, req := c.Self(), a.key, d.Step, d.Request
	a.inModel = true
	if !a.ag.goroutine(func() {
		resp, call, err := a.ag.streamModel(ctx, key, step, req, who)
		a.ag.sys.as.Root.Send(self, &modelDoneMsg{gen: gen, step: step, resp: resp, call: call, err: err})
	}) {
		a.inModel = false
	}
}

// streamModel makes one model call, publishing its deltas to the run's
// watchers, and returns the answer and a copy of the router's record.
func (a *Agents) streamModel(ctx context.Context, key string, step int, req *llm.Request, who router.Caller) (*llm.Response, *router.Call, error) {
	s, call, err := a.llm.Stream(ctx, req, who)
	if err != nil {
		return nil, copyCall(call), err
	}
	var acc llm.Accumulator
	for {
		ev, err := s.Recv()
		if err == io.EOF {
			break
		}
		if err == nil {
			err = acc.Add(ev)
		}
		if err != nil {
			s.Close()
			return acc.Response(), copyCall(call), err
		}
		switch {
		case ev.Type == llm.EventText && ev.Text != "":
			a.publish(key, hubMsg{ev: RunEvent{Type: RunEventToken, Step: step, Text: ev.Text}})
		case ev.Type == llm.EventThinking && ev.Text != "":
			a.publish(key, hubMsg{ev: RunEvent{Type: RunEventThinking, Step: step, Text: ev.Text}})
		}
	}
	s.Close()
	return acc.Response(), copyCall(call), nil
}

func copyCall(c *router.Call) *router.Call {
	if c == nil {
		return nil
	}
	cp := *c
	return &cp
}

func (a *runActor) modelDone(c actor.Context, m *modelDoneMsg) {
	if m.gen != a.gen || !a.inModel {
		return // abandoned
	}
	batchErr := a.batch.Err()
	a.cancel()
	a.inModel = false
	switch {
	case a.cancelling:
		a.interrupted = m.call
		a.finishCancel(c)
		return
	case m.err != nil:
		a.interrupted = m.call
		if errors.Is(batchErr, context.DeadlineExceeded) || !time.Now().Before(a.run.Deadline) {
			a.fail(c, events.AgentFailTimeout, fmt.Sprintf("the run did not finish within its timeout of %ds", a.run.Definition.TimeoutSeconds))
		} else {
			a.fail(c, events.AgentFailModel, "model call failed: "+m.err.Error())
		}
		a.advance(c)
		return
	}
	data := events.AgentModelCalled{RunID: a.id, Step: m.step, Parts: agent.EventParts(m.resp.Parts),
		StopReason: string(m.resp.StopReason)}
	if call := m.call; call != nil {
		data.CallID, data.Model, data.Provider, data.Deployment = call.ID, call.Model, call.Provider, call.Deployment
		data.Usage, data.CostUSD, data.Priced = agent.Tokens(call.Usage), call.CostUSD, call.Priced
	} else {
		data.Model, data.Usage = m.resp.Model, agent.Tokens(m.resp.Usage)
	}
	if a.commit(c, events.TypeAgentModelCalled, events.AgentModelCalledVersion, data) {
		a.advance(c)
	}
}

func (a *runActor) callTools(c actor.Context, d agent.CallTools) {
	a.newBatch()
	if a.inTools == nil {
		a.inTools = make(map[string]struct{}, len(d.Calls))
	}
	a.toolStep = d.Step
	a.queued = append(a.queued[:0], d.Calls...)
	a.dispatch(c)
}

// dispatch starts queued tool calls while fewer than the limit run.
func (a *runActor) dispatch(c actor.Context) {
	for len(a.queued) > 0 && len(a.inTools) < a.ag.maxTools {
		call := a.queued[0]
		if _, dup := a.inTools[call.ID]; dup {
			return // a second call with the same id waits for the first
		}
		a.queued = a.queued[1:]
		def, _ := a.run.Definition.Tool(call.Name)
		tc := tools.Call{Tenant: a.run.Tenant, RunID: a.id, AgentID: a.run.AgentID, Step: a.toolStep,
			ToolCallID: call.ID, Name: call.Name, Arguments: call.Arguments, Tool: def}
		reg := a.ag.registryFor(def)
		ctx, gen, self, step := a.batch, a.gen, c.Self(), a.toolStep
		a.inTools[call.ID] = struct{}{}
		if !a.ag.goroutine(func() {
			res := reg.Run(ctx, tc)
			a.ag.sys.as.Root.Send(self, &toolDoneMsg{gen: gen, step: step, call: call, res: res})
		}) {
			delete(a.inTools, call.ID)
			return
		}
	}
}

// registryFor is the registry that serves def: the caller's, or ours for
// a built-in the caller's registry does not serve.
func (a *Agents) registryFor(def agent.Tool) *tools.Registry {
	if def.Kind == agent.KindBuiltin && !a.tools.HasBuiltin(def.Name) {
		return a.builtins
	}
	return a.tools
}

func (a *runActor) toolDone(c actor.Context, m *toolDoneMsg) {
	if m.gen != a.gen {
		return // abandoned
	}
	if _, ok := a.inTools[m.call.ID]; !ok {
		return
	}
	delete(a.inTools, m.call.ID)
	if batchErr := a.batch.Err(); a.cancelling || batchErr != nil {
		// Cancelled or timed out: the result is not journaled.
		if a.busy() {
			return
		}
		a.queued = nil
		a.cancel()
		switch {
		case a.cancelling:
			a.finishCancel(c)
		case errors.Is(batchErr, context.DeadlineExceeded):
			a.fail(c, events.AgentFailTimeout, fmt.Sprintf("the run did not finish within its timeout of %ds", a.run.Definition.TimeoutSeconds))
			a.advance(c)
		}
		return
	}
	if !a.commit(c, events.TypeAgentToolCalled, events.AgentToolCalledVersion, events.AgentToolCalled{
		RunID: a.id, Step: m.step, ToolCallID: m.call.ID, Name: m.call.Name, Arguments: m.call.Arguments,
		Result: m.res.Content, IsError: m.res.IsError}) {
		return
	}
	if a.batch == nil {
		a.advance(c) // a conflict abandoned the batch: decide again
		return
	}
	a.dispatch(c)
	if !a.busy() {
		a.cancel()
		a.advance(c)
	}
}
