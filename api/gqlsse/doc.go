// Package gqlsse serves GraphQL over Server-Sent Events in the "distinct
// connections" mode of the graphql-sse protocol (npm graphql-sse): each
// request carries one operation and gets its own event stream.
//
// # Requests
//
// A request must accept text/event-stream; others go to Options.Next (e.g.
// the plain GraphQL over HTTP handler) or get 406. POST carries a JSON body
// ({"query","operationName","variables","extensions"}, Content-Type
// application/json, at most Options.MaxBodyBytes); GET carries the same as
// query parameters, variables and extensions JSON-encoded, and may not run a
// mutation (405). Malformed requests are answered with an HTTP status and a
// JSON body {"errors":[{"message","extensions":{"code"}}]} before any
// stream starts: 400, 405, 406, 413, 415; Options.Init refusals 401 (error
// wraps gqlws.ErrUnauthenticated) or 403; more than
// Options.MaxStreamsPerClient concurrent streams for one client 429;
// shutting down 503.
//
// # Event stream
//
// Once accepted the answer is 200 text/event-stream. Every result is
//
//	event: next
//	data: {"data":…,"errors":…}
//
// in the executor's order, then "event: complete" with an empty data line.
// Parse and validation errors (a gqlws.RequestError) are not an HTTP error:
// as the protocol asks, they arrive as one next event holding only errors,
// followed by complete. Every event is flushed at once. An idle stream gets
// a ":" comment every Options.Heartbeat so that proxies keep it open.
//
// # Backpressure and ending
//
// One goroutine (the request's) reads the executor's results and writes
// them; it has no queue, so a slow client slows only its own stream (and
// the executor's source for that operation). Each write has
// Options.WriteTimeout: a client that does not take an event in time is
// disconnected and its operation cancelled. When the client goes away the
// request context ends, which cancels the operation and stops its
// resolvers. [Handler.Shutdown] refuses new streams, ends the open ones with
// a complete event and waits for them.
package gqlsse
