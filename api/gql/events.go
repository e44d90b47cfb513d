package gql

import (
	"context"
	"fmt"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/events"
)

// maxEvents caps the events query's limit.
const maxEvents = 1000

// eventsPage is how many events one read of the log returns.
const eventsPage = 512

func (q *query) Events(ctx context.Context, args struct {
	Stream *string
	From   int32
	Limit  int32
}) ([]*eventResolver, error) {
	from, limit := uint64(max(args.From, 1)), int(args.Limit)
	if limit < 0 || limit > maxEvents {
		return nil, &Error{Code: apierr.CodeValidation, Msg: fmt.Sprintf("limit must be between 0 and %d", maxEvents),
			Problems: []Problem{{Path: "limit", Msg: fmt.Sprintf("must be between 0 and %d", maxEvents)}}}
	}
	tenant := caller(ctx).Tenant
	out := []*eventResolver{}
	if args.Stream != nil {
		if err := events.ValidateStream(*args.Stream); err != nil {
			return nil, &Error{Code: apierr.CodeValidation, Msg: err.Error(), Problems: []Problem{{Path: "stream", Msg: err.Error()}}}
		}
		evs, err := q.c.store.ReadStream(ctx, events.TenantStream(tenant, *args.Stream), 0, 0)
		if err != nil {
			return nil, wrap(q.c.log, "", err)
		}
		for _, e := range evs {
			if len(out) == limit {
				break
			}
			if e.Position >= from && e.Tenant == tenant {
				out = append(out, &eventResolver{e})
			}
		}
		return out, nil
	}
	for len(out) < limit {
		page, err := q.c.store.ReadAll(ctx, from, eventsPage)
		if err != nil {
			return nil, wrap(q.c.log, "", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if len(out) == limit {
				break
			}
			if e.Tenant == tenant {
				out = append(out, &eventResolver{e})
			}
		}
		from = page[len(page)-1].Position + 1
	}
	return out, nil
}

type eventResolver struct{ e events.Envelope }

func (e *eventResolver) ID() graphql.ID         { return graphql.ID(e.e.ID) }
func (e *eventResolver) Position() int32        { return int32(e.e.Position) }
func (e *eventResolver) Stream() string         { return e.e.Stream }
func (e *eventResolver) Type() string           { return e.e.Type }
func (e *eventResolver) Version() int32         { return int32(e.e.Version) }
func (e *eventResolver) Revision() int32        { return int32(e.e.Revision) }
func (e *eventResolver) Time() graphql.Time     { return graphql.Time{Time: e.e.Time} }
func (e *eventResolver) Data() *JSON            { return rawJSON(e.e.Data) }
func (e *eventResolver) CorrelationID() *string { return strp(e.e.CorrelationID) }
func (e *eventResolver) CausationID() *string   { return strp(e.e.CausationID) }
func (e *eventResolver) Actor() *string         { return strp(e.e.Actor) }

// start returns where a subscription begins: from when given (a client
// resuming passes its last position + 1), else after the last event now.
func (c *core) start(ctx context.Context, from *int32) (uint64, error) {
	if from != nil {
		if *from < 0 {
			return 0, &Error{Code: apierr.CodeValidation, Msg: "from must be a position ≥ 0",
				Problems: []Problem{{Path: "from", Msg: "must be ≥ 0"}}}
		}
		return max(uint64(*from), 1), nil
	}
	if start, ok := ctx.Value(startKey{}).(uint64); ok { // a shared group's
		return start, nil
	}
	last, err := c.store.LastPosition(ctx)
	if err != nil {
		return 0, wrap(c.log, "", err)
	}
	return last + 1, nil
}

// follow reads the feed from position from and sends what pick makes of
// every event it accepts, in order, until ctx ends or the feed fails (then
// the channel is closed and the subscription completes). It owns the
// goroutine it starts, which ends with ctx.
func follow[T any](ctx context.Context, c *core, from uint64, pick func(events.Envelope) (T, bool)) (<-chan T, error) {
	sub, err := c.feed.Subscribe(ctx, from)
	if err != nil {
		return nil, wrap(c.log, "", err)
	}
	out := make(chan T)
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	go func() {
		defer close(out)
		defer sub.Close()
		for {
			e, err := sub.Next(ctx)
			if err != nil {
				if ctx.Err() == nil {
					c.log.Warn("subscription feed ended", "err", err)
				}
				return
			}
			v, ok := pick(e)
			if !ok {
				continue
			}
			if rec != nil {
				rec.push(e.Position)
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func (s *subscription) Events(ctx context.Context, args struct {
	From         *int32
	StreamPrefix *string
}) (<-chan *eventResolver, error) {
	from, err := s.c.start(ctx, args.From)
	if err != nil {
		return nil, err
	}
	tenant := caller(ctx).Tenant
	prefix := events.TenantStream(tenant, deref(args.StreamPrefix))
	return follow(ctx, s.c, from, func(e events.Envelope) (*eventResolver, bool) {
		return &eventResolver{e}, e.Tenant == tenant && strings.HasPrefix(e.Stream, prefix)
	})
}

func (s *subscription) WorkflowEvents(ctx context.Context, args struct {
	WorkflowID graphql.ID
	From       *int32
}) (<-chan *workflowEvent, error) {
	id := string(args.WorkflowID)
	if _, err := s.c.workflow(ctx, id, 0); err != nil {
		return nil, err
	}
	from, err := s.c.start(ctx, args.From)
	if err != nil {
		return nil, err
	}
	tenant := caller(ctx).Tenant
	return follow(ctx, s.c, from, func(e events.Envelope) (*workflowEvent, bool) {
		if e.Tenant != tenant {
			return nil, false
		}
		we, ok := toWorkflowEvent(e)
		return we, ok && we.workflowID == id
	})
}

func (s *subscription) ResourceUpdates(ctx context.Context, args struct {
	ResourceID graphql.ID
	From       *int32
}) (<-chan *workflowEvent, error) {
	id := string(args.ResourceID)
	if _, err := s.c.resource(ctx, id); err != nil {
		return nil, err
	}
	from, err := s.c.start(ctx, args.From)
	if err != nil {
		return nil, err
	}
	tenant := caller(ctx).Tenant
	stream := events.ResourceStream(tenant, id)
	return follow(ctx, s.c, from, func(e events.Envelope) (*workflowEvent, bool) {
		if e.Tenant != tenant || e.Stream != stream {
			return nil, false
		}
		return toWorkflowEvent(e)
	})
}

// workflowEvent is a workflow-level view of an event of the core.
type workflowEvent struct {
	typ, workflowID, resourceID, activity, from, to string
	data                                            any
	e                                               events.Envelope
}

// toWorkflowEvent converts the events workflow subscriptions report.
func toWorkflowEvent(e events.Envelope) (*workflowEvent, bool) {
	switch e.Type {
	case events.TypeResourceCreated:
		var d events.ResourceCreated
		if e.Decode(&d) != nil {
			return nil, false
		}
		return &workflowEvent{typ: "RESOURCE_CREATED", workflowID: d.WorkflowID, resourceID: d.ResourceID,
			to: d.State, data: mapOrNil(d.Data), e: e}, true
	case events.TypeStateChanged:
		var d events.StateChanged
		if e.Decode(&d) != nil {
			return nil, false
		}
		return &workflowEvent{typ: "STATE_CHANGED", workflowID: d.WorkflowID, resourceID: d.ResourceID,
			activity: d.Activity, from: d.From, to: d.To, data: mapOrNil(d.Input), e: e}, true
	case events.TypeWorkflowDefined:
		var d events.WorkflowDefined
		if e.Decode(&d) != nil {
			return nil, false
		}
		return &workflowEvent{typ: "WORKFLOW_DEFINED", workflowID: d.WorkflowID, e: e}, true
	}
	return nil, false
}

func (w *workflowEvent) Type() string           { return w.typ }
func (w *workflowEvent) WorkflowID() graphql.ID { return graphql.ID(w.workflowID) }
func (w *workflowEvent) ResourceID() *graphql.ID {
	if w.resourceID == "" {
		return nil
	}
	id := graphql.ID(w.resourceID)
	return &id
}
func (w *workflowEvent) Activity() *string       { return strp(w.activity) }
func (w *workflowEvent) FromState() *string      { return strp(w.from) }
func (w *workflowEvent) NewState() *string       { return strp(w.to) }
func (w *workflowEvent) Data() *JSON             { return jsonOf(w.data) }
func (w *workflowEvent) Position() int32         { return int32(w.e.Position) }
func (w *workflowEvent) Revision() int32         { return int32(w.e.Revision) }
func (w *workflowEvent) Timestamp() graphql.Time { return graphql.Time{Time: w.e.Time} }
