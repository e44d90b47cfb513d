package events

import (
	"encoding/json"
	"fmt"
	"time"
)

// Envelope is one stored event with its metadata.
type Envelope struct {
	ID            string          `json:"id"`
	Stream        string          `json:"stream"`
	Type          string          `json:"type"`
	Version       int             `json:"version"`
	Revision      uint64          `json:"revision"`
	Position      uint64          `json:"position"`
	Time          time.Time       `json:"time"`
	Tenant        string          `json:"tenant,omitempty"`
	CorrelationID string          `json:"correlationId,omitempty"`
	CausationID   string          `json:"causationId,omitempty"`
	Actor         string          `json:"actor,omitempty"`
	Data          json.RawMessage `json:"data"`
}

// Decode unmarshals the event's data into v.
func (e Envelope) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode %s event %s@%d: %w", e.Type, e.Stream, e.Revision, err)
	}
	return nil
}

// Event is an event to append. The store fills in the stream, revision,
// position and, when they are empty, the ID and time.
type Event struct {
	ID            string
	Type          string
	Version       int
	Time          time.Time
	Tenant        string
	CorrelationID string
	CausationID   string
	Actor         string
	Data          json.RawMessage
}

// NewEvent builds an Event of the given type and version whose data is v
// encoded as JSON.
func NewEvent(typ string, version int, v any) (Event, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return Event{Type: typ, Version: version, Data: data}, nil
}

// Revision is the revision a stream is expected to be at when appending.
// Use Any, NoStream or Exact.
type Revision int64

const (
	// Any skips the concurrency check.
	Any Revision = -1
	// NoStream expects the stream to have no events.
	NoStream Revision = 0
)

// Exact expects the stream's last event to have revision n (0 = no events).
func Exact(n uint64) Revision { return Revision(n) }

func (r Revision) String() string {
	switch {
	case r == Any:
		return "any"
	case r == NoStream:
		return "no stream"
	default:
		return fmt.Sprintf("revision %d", int64(r))
	}
}

// Appended reports where an append landed.
type Appended struct {
	// FirstRevision and LastRevision are the revisions of the first and
	// last appended event within the stream.
	FirstRevision, LastRevision uint64
	// FirstPosition and LastPosition are their global positions.
	FirstPosition, LastPosition uint64
}
