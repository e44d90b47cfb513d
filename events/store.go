package events

import (
	"context"
	"fmt"
)

// Store is an append-only event store. See the package documentation for
// its ordering, durability and subscription semantics. Implementations are
// safe for concurrent use.
type Store interface {
	// Append appends events to stream if the stream is at the expected
	// revision, and returns once they are durable.
	Append(ctx context.Context, stream string, expected Revision, evs ...Event) (Appended, error)
	// ReadStream returns up to limit events of stream with revision ≥ from
	// (limit ≤ 0 means all). A stream with no events reads as empty.
	ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]Envelope, error)
	// ReadAll returns up to limit events of every stream with position ≥
	// from, in position order (limit ≤ 0 means a store-chosen page size).
	ReadAll(ctx context.Context, from uint64, limit int) ([]Envelope, error)
	// LastPosition returns the position of the last stored event (0 when
	// the store is empty).
	LastPosition(ctx context.Context) (uint64, error)
	// Subscribe delivers every event with position ≥ from: catch-up, then
	// live. The subscription ends when ctx ends or Close is called.
	Subscribe(ctx context.Context, from uint64) (Subscription, error)
}

// StreamSeeker is an optional capability of a Store: reading a stream from
// revision from while skipping everything up to global position after (a
// snapshot records the position of the revision it covers). Callers fall
// back to ReadStream when a store does not implement it.
type StreamSeeker interface {
	ReadStreamAfter(ctx context.Context, stream string, from, after uint64, limit int) ([]Envelope, error)
}

// Subscription is an ordered feed of events.
type Subscription interface {
	// Next blocks until the next event, ctx ends or the subscription
	// fails or is closed.
	Next(ctx context.Context) (Envelope, error)
	// Close ends the subscription and releases its resources.
	Close() error
}

// MaxStreamName is the longest stream name a store accepts.
const MaxStreamName = 200

// ValidateStream checks a stream name: 1–200 characters of letters,
// digits, '-', '_' and ':'.
func ValidateStream(stream string) error {
	if stream == "" {
		return fmt.Errorf("%w: stream name is empty", ErrInvalid)
	}
	if len(stream) > MaxStreamName {
		return fmt.Errorf("%w: stream name longer than %d characters", ErrInvalid, MaxStreamName)
	}
	for i := 0; i < len(stream); i++ {
		c := stream[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == ':':
		default:
			return fmt.Errorf("%w: stream name %q: character %q not allowed", ErrInvalid, stream, c)
		}
	}
	return nil
}
