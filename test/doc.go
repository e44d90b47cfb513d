// Package e2e holds Circuit Breaker's end-to-end tests. They build the real
// circuit-breaker binary, run it as a separate process on a temporary data
// directory and drive it over HTTP, killing (SIGKILL) and restarting it on
// the way, to check that every acknowledged command survives a crash and
// that an offline replay rebuilds the same read models. The GraphQL tests
// run the seed's examples verbatim, drive subscriptions with the official
// npm clients (graphql-ws, subscriptions-transport-ws, graphql-sse; test/node
// is installed with `npm ci` on first use) and check tenant isolation with
// real API keys. They run in a plain `go test ./...` and take a few seconds.
package e2e
