package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/oklog/ulid/v2"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// maxConflictRetries bounds how often a command is re-decided after losing
// an append race.
const maxConflictRetries = 5

// resourceActor is the activation of one resource. Its fields are touched
// only from Receive.
type resourceActor struct {
	sys       *System
	key       string // the tenant-scoped id (events.Scoped)
	id        string // the resource's id as its tenant knows it
	loaded    bool
	st        resourceState
	machine   *workflow.Machine
	sinceSnap int
}

func (a *resourceActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		name := ctx.Self().Id
		a.key = name[:strings.LastIndex(name, nameSep)]
		_, a.id = events.Unscope(a.key)
	case passivateMsg:
		if a.sys.passivate(a.key, ctx.Self()) {
			ctx.Stop(ctx.Self())
		}
	case *createMsg:
		res, err := a.create(m.cmd)
		ctx.Respond(reply{res: res, err: err})
	case *fireMsg:
		t, err := a.fire(m.cmd)
		ctx.Respond(reply{trans: t, err: err})
	case *getMsg:
		res, err := a.get(m.caller)
		ctx.Respond(reply{res: res, err: err})
	case autoMsg: // automation_resource.go
		ctx.Respond(m.handle(a))
	}
}

func (a *resourceActor) stream() string { return events.ResourceStreamPrefix + a.key }

func opCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// load rebuilds the state on first use; with refresh it also catches up
// with events other writers appended (after a conflict). The actor is the
// only writer of its stream on this node, so a loaded state is current
// until an append says otherwise.
func (a *resourceActor) load(ctx context.Context, refresh bool) error {
	if a.loaded && !refresh {
		return nil
	}
	if !a.loaded && a.sys.snapshots != nil {
		snap, ok, err := a.sys.snapshots.LoadSnapshot(ctx, a.stream())
		if err != nil {
			a.sys.log.Warn("snapshot not loaded; replaying the stream", "stream", a.stream(), "err", err)
		} else if ok && snap.Version == snapshotVersion {
			var st resourceState
			if err := json.Unmarshal(snap.State, &st); err == nil {
				a.st = st
			}
		}
	}
	var tail []events.Envelope
	var err error
	if seeker, ok := a.sys.store.(events.StreamSeeker); ok {
		tail, err = seeker.ReadStreamAfter(ctx, a.stream(), a.st.Revision+1, a.st.Position, 0)
	} else {
		tail, err = a.sys.store.ReadStream(ctx, a.stream(), a.st.Revision+1, 0)
	}
	if err != nil {
		return fmt.Errorf("load resource %s: %w", a.id, err)
	}
	for _, e := range tail {
		if err := a.st.apply(e); err != nil {
			return fmt.Errorf("load resource %s: %w", a.id, err)
		}
	}
	a.sinceSnap += len(tail)
	a.loaded = true
	if a.st.exists() && a.machine == nil {
		m, err := a.sys.Workflows.Machine(ctx, Caller{Tenant: a.st.Tenant}, a.st.WorkflowID, a.st.WorkflowVersion)
		if err != nil {
			return fmt.Errorf("load resource %s: %w", a.id, err)
		}
		a.machine = m
	}
	return nil
}

func (a *resourceActor) get(c Caller) (Resource, error) {
	ctx, cancel := opCtx(a.sys.opts.RequestTimeout)
	defer cancel()
	if err := a.load(ctx, false); err != nil {
		return Resource{}, err
	}
	if !a.st.exists() || a.st.Tenant != c.Tenant {
		return Resource{}, fmt.Errorf("resource %q: %w", a.id, ErrNotFound)
	}
	return a.st.view(a.id), nil
}

func (a *resourceActor) create(cmd CreateResource) (Resource, error) {
	ctx, cancel := opCtx(a.sys.opts.RequestTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		if err := a.load(ctx, attempt > 0); err != nil {
			return Resource{}, err
		}
		if a.st.exists() {
			if cmd.IdempotencyKey != "" && a.st.CreateKey == cmd.IdempotencyKey && a.st.Tenant == cmd.Tenant {
				return a.st.view(a.id), nil
			}
			return Resource{}, fmt.Errorf("resource %q: %w", a.id, ErrAlreadyExists)
		}
		m, err := a.sys.Workflows.Machine(ctx, cmd.Caller, cmd.WorkflowID, cmd.WorkflowVersion)
		if err != nil {
			return Resource{}, err
		}
		data := cmd.Data
		if data == nil {
			data = map[string]any{}
		}
		ev, err := events.NewEvent(events.TypeResourceCreated, events.ResourceCreatedVersion, events.ResourceCreated{
			ResourceID: a.id, WorkflowID: cmd.WorkflowID, WorkflowVersion: m.Definition().Version,
			State: m.InitialState(), Data: data, IdempotencyKey: cmd.IdempotencyKey,
		})
		if err != nil {
			return Resource{}, err
		}
		ev.Tenant, ev.Actor, ev.CorrelationID, ev.CausationID = cmd.Tenant, cmd.Actor, cmd.CorrelationID, cmd.IdempotencyKey
		if err := a.append(ctx, ev); err != nil {
			if errors.Is(err, events.ErrConflict) && attempt < maxConflictRetries {
				continue
			}
			return Resource{}, err
		}
		a.machine = m
		return a.st.view(a.id), nil
	}
}

func (a *resourceActor) fire(cmd FireActivity) (Transition, error) {
	ctx, cancel := opCtx(a.sys.opts.RequestTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		if err := a.load(ctx, attempt > 0); err != nil {
			return Transition{}, err
		}
		if !a.st.exists() || a.st.Tenant != cmd.Tenant {
			return Transition{}, fmt.Errorf("resource %q: %w", a.id, ErrNotFound)
		}
		if t, ok := a.st.seen(cmd.IdempotencyKey); ok {
			if t.Activity != cmd.ActivityID {
				return Transition{}, fmt.Errorf("idempotency key %q was used for activity %q: %w", cmd.IdempotencyKey, t.Activity, ErrAlreadyExists)
			}
			t.ResourceID, t.Replayed = a.id, true
			return t, nil
		}
		if a.st.Wait != nil { // parked until a human answers
			return a.fireWaiting(cmd)
		}
		data := workflow.Merge(a.st.Data, cmd.Input)
		d, err := a.machine.Fire(a.st.State, cmd.ActivityID, data)
		if err != nil {
			return Transition{}, err
		}
		if act, _ := a.machine.Activity(d.ActivityID); deferred(act) {
			// An agent run or a human wait: the transition comes later.
			t, err := a.fireDeferred(ctx, cmd, act)
			if errors.Is(err, events.ErrConflict) && attempt < maxConflictRetries {
				continue
			}
			return t, err
		}
		abandoned := a.st.Runs // agent runs the transition leaves behind
		ev, err := events.NewEvent(events.TypeStateChanged, events.StateChangedVersion, events.StateChanged{
			ResourceID: a.id, WorkflowID: a.st.WorkflowID, Activity: d.ActivityID,
			From: d.From, To: d.To, Input: cmd.Input, IdempotencyKey: cmd.IdempotencyKey,
		})
		if err != nil {
			return Transition{}, err
		}
		ev.Tenant, ev.Actor, ev.CorrelationID, ev.CausationID = cmd.Tenant, cmd.Actor, cmd.CorrelationID, cmd.IdempotencyKey
		if err := a.append(ctx, ev); err != nil {
			if errors.Is(err, events.ErrConflict) && attempt < maxConflictRetries {
				continue // another writer won: catch up and decide again
			}
			if errors.Is(err, events.ErrConflict) {
				return Transition{}, fmt.Errorf("resource %s: %w", a.id, ErrBusy)
			}
			return Transition{}, err
		}
		a.cancelRuns(ctx, cmd.Caller, abandoned)
		return Transition{
			ResourceID: a.id, Activity: d.ActivityID, From: d.From, To: d.To,
			Revision: a.st.Revision, Position: a.st.Position,
		}, nil
	}
}

// append writes evs, atomically, at the revision the actor knows and
// applies them. On a conflict the caller reloads (load catches up from the
// known revision).
func (a *resourceActor) append(ctx context.Context, evs ...events.Event) error {
	now := time.Now().UTC()
	for i := range evs {
		if evs[i].ID == "" {
			evs[i].ID = ulid.Make().String()
		}
		evs[i].Time = now
	}
	out, err := a.sys.store.Append(ctx, a.stream(), events.Exact(a.st.Revision), evs...)
	if err != nil {
		return err
	}
	for i, ev := range evs {
		pos := out.FirstPosition + uint64(i)
		if i == len(evs)-1 {
			pos = out.LastPosition
		}
		env := events.Envelope{
			ID: ev.ID, Stream: a.stream(), Type: ev.Type, Version: ev.Version,
			Revision: out.FirstRevision + uint64(i), Position: pos, Time: ev.Time,
			Tenant: ev.Tenant, CorrelationID: ev.CorrelationID, CausationID: ev.CausationID,
			Actor: ev.Actor, Data: ev.Data,
		}
		if err := a.st.apply(env); err != nil {
			return err
		}
	}
	a.sinceSnap += len(evs)
	if a.sys.opts.SnapshotEvery > 0 && a.sinceSnap >= a.sys.opts.SnapshotEvery {
		if snap, err := a.st.snapshot(a.stream()); err == nil {
			a.sys.offerSnapshot(snap)
			a.sinceSnap = 0
		}
	}
	return nil
}
