package auth

import "errors"

// Sentinel errors. Every error of the package matches one of them with
// errors.Is; the wrapping message says why without quoting any secret.
var (
	// ErrUnauthenticated: credentials are missing (in required mode),
	// malformed, unknown, revoked, expired or otherwise invalid. HTTP 401.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the principal may not do this. HTTP 403.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: no such API key (or not one the principal may see).
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a bad argument (tenant, name or scope). HTTP 400.
	ErrInvalid = errors.New("invalid argument")
	// ErrUnavailable: the API key index is not loaded yet. HTTP 503.
	ErrUnavailable = errors.New("authentication unavailable")
)
