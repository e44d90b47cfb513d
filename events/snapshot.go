package events

import (
	"context"
	"encoding/json"
	"time"
)

// Snapshot is an aggregate's state as of a stream revision. Version is the
// schema version of State: a reader that does not know it ignores the
// snapshot and replays the stream.
type Snapshot struct {
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	// Position is the global position of the event at Revision.
	Position uint64          `json:"position"`
	Version  int             `json:"version"`
	Time     time.Time       `json:"time"`
	State    json.RawMessage `json:"state"`
}

// Snapshots keeps the latest snapshot of each stream. A snapshot is a cache:
// losing one costs a longer replay, never data.
type Snapshots interface {
	// SaveSnapshot stores s, replacing an older snapshot of the stream.
	SaveSnapshot(ctx context.Context, s Snapshot) error
	// LoadSnapshot returns the latest snapshot of stream, if any.
	LoadSnapshot(ctx context.Context, stream string) (Snapshot, bool, error)
}
