package actors

import "errors"

var (
	// ErrNotFound is returned for a workflow or resource that does not
	// exist, or belongs to another tenant.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists is returned when creating an id that is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrBusy is returned when a command keeps conflicting with
	// concurrent writers of the same stream.
	ErrBusy = errors.New("too many concurrent writers, retry")
	// ErrStopped is returned after the system has been stopped.
	ErrStopped = errors.New("actor system stopped")
)
