package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
)

// HistoryEntry is one step of a resource's audit trail.
type HistoryEntry struct {
	Revision       uint64         `json:"revision"`
	Position       uint64         `json:"position"`
	Type           string         `json:"type"`
	Activity       string         `json:"activity,omitempty"`
	From           string         `json:"from,omitempty"`
	To             string         `json:"to"`
	Input          map[string]any `json:"input,omitempty"`
	Actor          string         `json:"actor,omitempty"`
	IdempotencyKey string         `json:"idempotencyKey,omitempty"`
	Time           time.Time      `json:"time"`
}

// History reads a resource's audit trail, oldest first, from its own event
// stream: the log is the audit, so the trail is never held in memory and is
// always complete up to the last acknowledged command. found is false when
// the resource does not exist or belongs to another tenant.
func History(ctx context.Context, store events.Store, tenant, id string) (entries []HistoryEntry, found bool, err error) {
	stream := events.ResourceStream(tenant, id)
	if events.ValidateStream(stream) != nil {
		return nil, false, nil
	}
	evs, err := store.ReadStream(ctx, stream, 0, 0)
	if err != nil {
		return nil, false, fmt.Errorf("projections: history of %s: %w", id, err)
	}
	if len(evs) == 0 || evs[0].Tenant != tenant {
		return nil, false, nil
	}
	entries = make([]HistoryEntry, 0, len(evs))
	for _, e := range evs {
		h, ok, err := historyEntry(e)
		if err != nil {
			return nil, false, fmt.Errorf("projections: history of %s: %w", id, err)
		}
		if ok {
			entries = append(entries, h)
		}
	}
	return entries, true, nil
}

// historyEntry turns one event of a resource's stream into an audit entry;
// ok is false for event types that are not steps of the trail.
func historyEntry(e events.Envelope) (h HistoryEntry, ok bool, err error) {
	h = HistoryEntry{Revision: e.Revision, Position: e.Position, Type: e.Type, Actor: e.Actor, Time: e.Time}
	switch e.Type {
	case events.TypeResourceCreated:
		var d events.ResourceCreated
		if err := e.Decode(&d); err != nil {
			return h, false, err
		}
		h.To, h.Input, h.IdempotencyKey = d.State, d.Data, d.IdempotencyKey
	case events.TypeStateChanged:
		var d events.StateChanged
		if err := e.Decode(&d); err != nil {
			return h, false, err
		}
		h.Activity, h.From, h.To, h.Input, h.IdempotencyKey = d.Activity, d.From, d.To, d.Input, d.IdempotencyKey
	default:
		return h, false, nil
	}
	return h, true, nil
}
