package events

import (
	"errors"
	"fmt"
)

// ErrConflict is matched (with errors.Is) by every *ConflictError.
var ErrConflict = errors.New("wrong expected revision")

// ErrClosed is returned by a store that has been closed.
var ErrClosed = errors.New("event store closed")

// ErrInvalid is matched by errors about bad arguments (stream names,
// empty appends, events without a type).
var ErrInvalid = errors.New("invalid argument")

// ConflictError is returned by Append when the stream is not at the
// expected revision. Nothing was written.
type ConflictError struct {
	Stream   string
	Expected Revision
	Actual   uint64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("append to %s: expected %s, stream is at revision %d", e.Stream, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
