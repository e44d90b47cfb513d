// Package auth decides who a request is. The answer is a Principal — the
// tenant the request acts for, a subject recorded as the events' actor, its
// scopes and whether it is an admin — which the Middleware puts in the
// request's context for handlers to read with FromContext.
//
// # Credentials
//
// A request presents at most one credential, as "Authorization: Bearer
// <credential>" or "X-API-Key: <credential>" (a WebSocket client puts it in
// its connection_init payload: TokenFromPayload, AuthenticateToken). Its
// shape says what it is:
//
//   - The bootstrap admin key (config auth.admin_key): an admin of the
//     default tenant that may manage the API keys of every tenant. Compared
//     in constant time.
//   - An API key, "cb_" and 43 base64url characters (32 random bytes). Keys
//     are created by an admin (Keys.Create) and shown once: the store keeps
//     only the SHA-256 of the secret, which is enough for secrets of this
//     entropy, and its first 8 characters for display and lookup. Hashes are
//     compared in constant time. A key acts for its tenant; the scope "admin"
//     makes it an admin of that tenant.
//   - A JWT (JWTVerifier): HS256 with a shared secret, RS256 or ES256 with
//     PEM public keys, selected by "kid" when the token has one. Each key is
//     pinned to its one algorithm, so "alg: none", algorithms not configured
//     and algorithm confusion (an HS256 token whose HMAC key is an RSA public
//     key) are refused. exp is required; iss and aud are required and checked
//     when configured; exp and nbf allow a small leeway. The tenant comes from
//     a configurable claim (default "tenant", then "tid"), the subject from
//     "sub", scopes from "scope" (space-separated) and "scopes", admin from a
//     role ("admin" in "roles" by default).
//
// # Modes
//
// ModeOff: every request is Anonymous() (tenant "default"), credentials are
// ignored; the default on loopback with nothing configured. ModeOptional:
// a credential, when given, must be valid; requests without one are
// Anonymous(). ModeRequired: requests without a valid credential fail. All
// failures match ErrUnauthenticated (HTTP 401, code UNAUTHENTICATED, with
// "WWW-Authenticate: Bearer"); the message says why (expired, wrong issuer,
// unknown or revoked key…) and never quotes the credential.
//
// # The API key index
//
// Key events live in the streams "apikey-<id>" (events.APIKeyCreated,
// events.APIKeyRevoked). Keys authenticates from an in-memory index: Load
// reads the whole log once at start (ReadAll, in pages), Run then follows
// the store's subscription so that keys created or revoked on other nodes
// take effect within moments. Create and Revoke update the index of their
// own node before they return: a revoked key is refused there at once.
// Until Load has finished, API keys fail with ErrUnavailable (HTTP 503).
package auth
