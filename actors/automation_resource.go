package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

var (
	// ErrWaiting is returned when an activity cannot fire because the
	// resource waits: for a human (it is parked; answer with
	// ResumeResource), or for the agent run of another activity.
	ErrWaiting = errors.New("resource is waiting")
	// ErrNotParked is returned by ResumeResource for a resource that is
	// not parked (or parked on another wait than the one named).
	ErrNotParked = errors.New("resource is not waiting for a human")
)

// ResumeResource answers the human wait a resource is parked on.
type ResumeResource struct {
	Caller
	ResourceID string
	// WaitID is optional: when set, the resource must be parked on this
	// wait, and a retry after success returns the first result.
	WaitID string
	// Answer is the human's answer, any JSON value. A waitForHuman
	// activity then fires with the answer merged under its OutputKey; an
	// agent run that escalated gets it as the result of its
	// escalate_to_human call (a string as it is, other values as JSON).
	Answer any
}

// ResumeResource records a human's answer to the wait resource
// cmd.ResourceID is parked on, and returns the resulting transition (for
// an agent's escalation, the resource stays in its state: To equals From
// and AgentRunID names the run that continues).
func (s *System) ResumeResource(ctx context.Context, cmd ResumeResource) (Transition, error) {
	r, err := s.request(ctx, cmd.Tenant, cmd.ResourceID, &resumeMsg{cmd: cmd})
	return r.trans, err
}

// Messages of automation to a resource actor. Each is idempotent: the
// actor checks the resource's state before it appends anything.
type (
	autoMsg interface {
		handle(a *resourceActor) reply
	}
	resumeMsg struct{ cmd ResumeResource }
	// enterMsg: the resource entered its state at revision rev.
	enterMsg struct {
		c   Caller
		rev uint64
	}
	// runEndedMsg: the agent run ended; status is completed, failed or
	// cancelled.
	runEndedMsg struct {
		c       Caller
		runID   string
		status  string
		output  any
		problem string
	}
	// runWaitingMsg: the agent run asked a human.
	runWaitingMsg struct {
		c                           Caller
		runID, toolCallID, question string
	}
	// runAnsweredMsg: the agent run got the human's answer.
	runAnsweredMsg struct {
		c                             Caller
		runID, toolCallID, answer, by string
	}
	// timeoutMsg: the wait's deadline passed.
	timeoutMsg struct {
		c      Caller
		waitID string
	}
	// ensureRunMsg: make sure the recorded run exists (after a restart).
	ensureRunMsg struct {
		c     Caller
		runID string
	}
)

// errRunNotPending answers an ensureRunMsg for a run the resource no
// longer waits for.
var errRunNotPending = errors.New("the resource does not wait for this run")

// Run statuses of runEndedMsg.
const (
	runCompleted = "completed"
	runFailed    = "failed"
	runCancelled = "cancelled"
)

// outcome is what a command decided: the events to append (none: nothing
// to do), the result, and the agent run to start once they are durable.
type outcome struct {
	evs   []events.Event
	t     Transition
	start *pendingRun
}

// command loads the resource, checks that it is c's, and appends what
// decide decides, deciding again after a conflict with another writer.
// A run to start is started after the append; when it cannot start, its
// failure is recorded (and returned).
func (a *resourceActor) command(c Caller, decide func(ctx context.Context) (outcome, error)) (Transition, error) {
	ctx, cancel := opCtx(a.sys.opts.RequestTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		if err := a.load(ctx, attempt > 0); err != nil {
			return Transition{}, err
		}
		if !a.st.exists() || a.st.Tenant != c.Tenant {
			return Transition{}, fmt.Errorf("resource %q: %w", a.id, ErrNotFound)
		}
		o, err := decide(ctx)
		if err != nil || len(o.evs) == 0 {
			return o.t, err
		}
		t, err := a.commit(ctx, c, o)
		if errors.Is(err, events.ErrConflict) {
			if attempt < maxConflictRetries {
				continue
			}
			return Transition{}, fmt.Errorf("resource %s: %w", a.id, ErrBusy)
		}
		return t, err
	}
}

// commit appends o's events as c and starts o's run.
func (a *resourceActor) commit(ctx context.Context, c Caller, o outcome) (Transition, error) {
	for i := range o.evs {
		o.evs[i].Tenant, o.evs[i].Actor = c.Tenant, c.Actor
	}
	if len(o.evs) > 0 {
		if err := a.append(ctx, o.evs...); err != nil {
			return Transition{}, err
		}
	}
	t := o.t
	t.ResourceID, t.Revision, t.Position = a.id, a.st.Revision, a.st.Position
	if o.start == nil {
		return t, nil
	}
	if err := a.startRun(ctx, c, *o.start); err != nil {
		a.sys.log.Warn("agent run not started", "resource", a.key, "run", o.start.RunID, "err", err)
		f, ferr := events.NewEvent(events.TypeResourceActivityFailed, events.ResourceActivityFailedVersion, events.ResourceActivityFailed{
			ResourceID: a.id, Activity: o.start.Activity, Kind: events.ActivityFailAgent,
			Error: "agent run not started: " + err.Error(), RunID: o.start.RunID,
		})
		if ferr == nil {
			f.Tenant, f.Actor = c.Tenant, c.Actor
			ferr = a.append(ctx, f)
		}
		if ferr != nil {
			a.sys.log.Error("agent run failure not recorded", "resource", a.key, "run", o.start.RunID, "err", ferr)
		}
		return Transition{}, fmt.Errorf("activity %q: start agent run: %w", o.start.Activity, err)
	}
	return t, nil
}

// stateChanged is the event of the transition d with input.
func (a *resourceActor) stateChanged(d workflow.Decision, input map[string]any, key string) (events.Event, Transition, error) {
	ev, err := events.NewEvent(events.TypeStateChanged, events.StateChangedVersion, events.StateChanged{
		ResourceID: a.id, WorkflowID: a.st.WorkflowID, Activity: d.ActivityID,
		From: d.From, To: d.To, Input: input, IdempotencyKey: key,
	})
	return ev, Transition{Activity: d.ActivityID, From: d.From, To: d.To}, err
}

// deferred reports whether firing act defers its transition: to the end
// of its agent run, or to a human's answer.
func deferred(act *workflow.Activity) bool {
	return act != nil && (act.AgentConfig != nil || act.WaitForHuman != nil)
}

// fireWaiting answers a fire while the resource is parked: firing the
// activity it waits on again returns the wait; anything else is refused.
func (a *resourceActor) fireWaiting(cmd FireActivity) (Transition, error) {
	w := a.st.Wait
	if cmd.ActivityID == w.Activity && w.RunID == "" {
		return Transition{ResourceID: a.id, Activity: w.Activity, From: a.st.State, To: a.st.State,
			WaitID: w.ID, Revision: a.st.Revision, Position: a.st.Position, Replayed: true}, nil
	}
	return Transition{}, fmt.Errorf("activity %q: resource %q is parked on wait %q of activity %q until a human answers: %w",
		cmd.ActivityID, a.id, w.ID, w.Activity, ErrWaiting)
}

// fireDeferred fires act, which fire has checked may fire, for cmd: it
// records the agent run (and starts it) or parks the resource. An append
// conflict is returned as it is, for fire to decide again.
func (a *resourceActor) fireDeferred(ctx context.Context, cmd FireActivity, act *workflow.Activity) (Transition, error) {
	o, err := a.deferredOutcome(act, cmd.Input, time.Now())
	if err != nil || len(o.evs) == 0 {
		return o.t, err
	}
	for i := range o.evs {
		o.evs[i].CorrelationID, o.evs[i].CausationID = cmd.CorrelationID, cmd.IdempotencyKey
	}
	return a.commit(ctx, cmd.Caller, o)
}

// deferredOutcome decides the firing of the deferred activity act with
// input: a ResourceAgentStarted (and the run to start) or a
// ResourceParked. When the resource already works on the same activity it
// returns that run or wait, with nothing to append.
func (a *resourceActor) deferredOutcome(act *workflow.Activity, input map[string]any, now time.Time) (outcome, error) {
	st := &a.st
	base := Transition{ResourceID: a.id, Activity: act.ID, From: st.State, To: st.State, Revision: st.Revision, Position: st.Position}
	for _, r := range st.Runs {
		if r.Activity == act.ID {
			base.AgentRunID, base.Replayed = r.RunID, true
			return outcome{t: base}, nil
		}
	}
	if len(st.Runs) > 0 {
		return outcome{}, fmt.Errorf("activity %q: agent run %q of activity %q works for resource %q: %w",
			act.ID, st.Runs[0].RunID, st.Runs[0].Activity, a.id, ErrWaiting)
	}
	if act.AgentConfig != nil {
		run := pendingRun{RunID: RunID(a.id, act.ID, st.Revision), Activity: act.ID, Input: input}
		ev, err := events.NewEvent(events.TypeResourceAgentStarted, events.ResourceAgentStartedVersion, events.ResourceAgentStarted{
			ResourceID: a.id, Activity: act.ID, RunID: run.RunID, AgentID: act.AgentConfig.AgentID, Input: input,
		})
		base.AgentRunID = run.RunID
		return outcome{evs: []events.Event{ev}, t: base, start: &run}, err
	}
	h := act.WaitForHuman
	p := events.ResourceParked{
		ResourceID: a.id, WaitID: waitID(act.ID, st.Revision), Activity: act.ID, Prompt: h.Prompt,
		TimeoutActivity: h.TimeoutActivity, Input: input,
	}
	if h.TimeoutSeconds > 0 {
		p.Deadline = now.UTC().Add(h.Timeout())
	}
	ev, err := events.NewEvent(events.TypeResourceParked, events.ResourceParkedVersion, p)
	base.WaitID = p.WaitID
	return outcome{evs: []events.Event{ev}, t: base}, err
}

func (m *resumeMsg) handle(a *resourceActor) reply {
	cmd := m.cmd
	t, err := a.command(cmd.Caller, func(ctx context.Context) (outcome, error) {
		st := &a.st
		if cmd.WaitID != "" {
			if t, ok := st.seen("resume:" + cmd.WaitID); ok {
				t.ResourceID, t.Replayed = a.id, true
				return outcome{t: t}, nil
			}
		}
		w := st.Wait
		switch {
		case w == nil:
			return outcome{}, fmt.Errorf("resource %q: %w", a.id, ErrNotParked)
		case cmd.WaitID != "" && cmd.WaitID != w.ID:
			return outcome{}, fmt.Errorf("resource %q waits on %q, not %q: %w", a.id, w.ID, cmd.WaitID, ErrNotParked)
		}
		resumed, err := events.NewEvent(events.TypeResourceResumed, events.ResourceResumedVersion, events.ResourceResumed{
			ResourceID: a.id, WaitID: w.ID, Answer: cmd.Answer, By: cmd.Actor,
		})
		if err != nil {
			return outcome{}, err
		}
		if w.RunID != "" { // an agent's escalation: the run continues
			if err := a.answerRun(ctx, cmd.Caller, w.RunID, answerText(cmd.Answer)); err != nil {
				return outcome{}, err
			}
			return outcome{evs: []events.Event{resumed}, t: Transition{Activity: w.Activity, From: st.State, To: st.State,
				AgentRunID: w.RunID, WaitID: w.ID}}, nil
		}
		act, ok := a.machine.Activity(w.Activity)
		if !ok {
			return outcome{}, fmt.Errorf("%w %q", workflow.ErrUnknownActivity, w.Activity)
		}
		input := withKey(w.Input, act.OutputKey(), cmd.Answer)
		d, err := a.machine.Fire(st.State, act.ID, workflow.Merge(st.Data, input))
		if err != nil {
			return outcome{}, err
		}
		sc, t, err := a.stateChanged(d, input, "resume:"+w.ID)
		t.WaitID = w.ID
		return outcome{evs: []events.Event{resumed, sc}, t: t}, err
	})
	return reply{trans: t, err: err}
}

// answerText is the answer an agent's escalate_to_human call gets.
func answerText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func (m *enterMsg) handle(a *resourceActor) reply {
	t, err := a.command(m.c, func(context.Context) (outcome, error) {
		st := &a.st
		if st.EnteredAt != m.rev || st.Revision != m.rev || a.machine == nil {
			return outcome{}, nil // moved on, or already acted on
		}
		d, ok := a.machine.NextAuto(st.State, st.Data)
		if !ok {
			return outcome{}, nil
		}
		if st.AutoChain >= MaxAutoChain {
			return failure(a.id, d.ActivityID, events.ActivityFailAutoLimit,
				fmt.Sprintf("%d automatic transitions in a row: automation stopped for the resource", MaxAutoChain), "", "")
		}
		act, _ := a.machine.Activity(d.ActivityID)
		if deferred(act) {
			return a.deferredOutcome(act, nil, time.Now())
		}
		ev, t, err := a.stateChanged(d, nil, "auto:"+fmt.Sprint(m.rev))
		return outcome{evs: []events.Event{ev}, t: t}, err
	})
	return reply{trans: t, err: err}
}

// failure is the outcome that records a ResourceActivityFailed.
func failure(resourceID, activity, kind, msg, runID, waitID string) (outcome, error) {
	ev, err := events.NewEvent(events.TypeResourceActivityFailed, events.ResourceActivityFailedVersion, events.ResourceActivityFailed{
		ResourceID: resourceID, Activity: activity, Kind: kind, Error: msg, RunID: runID, WaitID: waitID,
	})
	return outcome{evs: []events.Event{ev}}, err
}

func (m *runEndedMsg) handle(a *resourceActor) reply {
	t, err := a.command(m.c, func(context.Context) (outcome, error) {
		st := &a.st
		if t, ok := st.seen(m.runID); ok {
			t.ResourceID, t.Replayed = a.id, true
			return outcome{t: t}, nil
		}
		r := st.run(m.runID)
		if r == nil {
			return outcome{}, nil // abandoned: the resource moved on
		}
		switch m.status {
		case runFailed:
			return failure(a.id, r.Activity, events.ActivityFailAgent, m.problem, r.RunID, "")
		case runCancelled:
			return failure(a.id, r.Activity, events.ActivityFailCancelled, "the agent run was cancelled", r.RunID, "")
		}
		act, ok := a.machine.Activity(r.Activity)
		if !ok {
			return failure(a.id, r.Activity, events.ActivityFailRejected, "unknown activity", r.RunID, "")
		}
		input := withKey(r.Input, act.OutputKey(), m.output)
		d, err := a.machine.Fire(st.State, act.ID, workflow.Merge(st.Data, input))
		if err != nil {
			return failure(a.id, r.Activity, events.ActivityFailRejected, err.Error(), r.RunID, "")
		}
		ev, t, err := a.stateChanged(d, input, r.RunID)
		t.AgentRunID = r.RunID
		return outcome{evs: []events.Event{ev}, t: t}, err
	})
	return reply{trans: t, err: err}
}

func (m *runWaitingMsg) handle(a *resourceActor) reply {
	t, err := a.command(m.c, func(context.Context) (outcome, error) {
		st := &a.st
		r := st.run(m.runID)
		id := m.runID + "/" + m.toolCallID
		if r == nil || st.Wait != nil && st.Wait.ID == id {
			return outcome{}, nil
		}
		ev, err := events.NewEvent(events.TypeResourceParked, events.ResourceParkedVersion, events.ResourceParked{
			ResourceID: a.id, WaitID: id, Activity: r.Activity, Prompt: m.question, RunID: r.RunID,
		})
		return outcome{evs: []events.Event{ev}}, err
	})
	return reply{trans: t, err: err}
}

func (m *runAnsweredMsg) handle(a *resourceActor) reply {
	t, err := a.command(m.c, func(context.Context) (outcome, error) {
		w := a.st.Wait
		id := m.runID + "/" + m.toolCallID
		if w == nil || w.ID != id {
			return outcome{}, nil
		}
		ev, err := events.NewEvent(events.TypeResourceResumed, events.ResourceResumedVersion, events.ResourceResumed{
			ResourceID: a.id, WaitID: id, Answer: m.answer, By: m.by,
		})
		return outcome{evs: []events.Event{ev}}, err
	})
	return reply{trans: t, err: err}
}

func (m *timeoutMsg) handle(a *resourceActor) reply {
	t, err := a.command(m.c, func(context.Context) (outcome, error) {
		st := &a.st
		w := st.Wait
		if w == nil || w.ID != m.waitID || w.Deadline.IsZero() {
			return outcome{}, nil
		}
		key := "timeout:" + w.ID
		if _, ok := st.seen(key); ok {
			return outcome{}, nil
		}
		d, err := a.machine.Fire(st.State, w.TimeoutActivity, st.Data)
		if err != nil {
			return failure(a.id, w.TimeoutActivity, events.ActivityFailTimeout,
				fmt.Sprintf("wait %q timed out but its timeout activity cannot fire: %v", w.ID, err), "", w.ID)
		}
		resumed, err := events.NewEvent(events.TypeResourceResumed, events.ResourceResumedVersion, events.ResourceResumed{
			ResourceID: a.id, WaitID: w.ID, By: AutomationActor, TimedOut: true,
		})
		if err != nil {
			return outcome{}, err
		}
		act, _ := a.machine.Activity(d.ActivityID)
		if deferred(act) {
			saved := st.Wait
			st.Wait = nil // decided as if resumed; restored below
			o, err := a.deferredOutcome(act, nil, time.Now())
			st.Wait = saved
			o.evs = append([]events.Event{resumed}, o.evs...)
			return o, err
		}
		ev, t, err := a.stateChanged(d, nil, key)
		t.WaitID = w.ID
		return outcome{evs: []events.Event{resumed, ev}, t: t}, err
	})
	return reply{trans: t, err: err}
}

func (m *ensureRunMsg) handle(a *resourceActor) reply {
	ctx, cancel := opCtx(a.sys.opts.RequestTimeout)
	defer cancel()
	if err := a.load(ctx, false); err != nil {
		return reply{err: err}
	}
	r := a.st.run(m.runID)
	if r == nil || a.st.Tenant != m.c.Tenant {
		return reply{err: errRunNotPending}
	}
	run := *r
	_, err := a.commit(ctx, m.c, outcome{start: &run})
	return reply{err: err}
}
