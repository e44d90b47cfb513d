// Package gql is Circuit Breaker's GraphQL API: the schema (schema.graphql,
// embedded; SDL returns it), its resolvers over the actors, the projections
// and the event store, GraphQL over HTTP (Schema.ServeHTTP) and the hooks
// the streaming transports (WebSocket, SSE) build on (Schema.Validate,
// Schema.Subscribe).
//
// # Requests
//
// Every request runs as the principal its context carries (auth.FromContext;
// auth.Anonymous, of the default tenant, when there is none). Every resolver
// reads and writes that tenant's objects only: another tenant's workflow,
// resource or rule is NOT_FOUND, never data, and its events are filtered out
// of the events query and the subscriptions.
//
// Before a request runs it is parsed and checked against the limits: query
// length, depth (graphql-go's MaxDepth), and complexity. Complexity is
// computed here, as graphql-go has no such check: every field costs 1 (a
// root mutation field 10), multiplied by the sizes of the lists it is nested
// in; a list field's size is its first or limit argument (literal, variable
// or schema default), else Limits.DefaultListSize. A query over
// Limits.MaxComplexity is rejected with COMPLEXITY_LIMIT_EXCEEDED. Queries
// and mutations run under Limits.Timeout with Limits.MaxParallelism.
//
// # Errors
//
// Every GraphQL error carries extensions.code: VALIDATION, NOT_FOUND,
// CONFLICT, FAILED_PRECONDITION, UNAUTHENTICATED, FORBIDDEN, BAD_REQUEST,
// UNAVAILABLE, INTERNAL (package apierr's table, shared with the REST API) or
// COMPLEXITY_LIMIT_EXCEEDED. A rejected definition lists its problems as
// extensions.problems, [{path, msg}], paths naming the input field, e.g.
// "input.activities[1].toState". Internal errors are logged, not shown.
//
// # Subscriptions
//
// workflowEvents, resourceUpdates and events read the Feed (the store's
// Subscribe unless replaced) from a position: from is the first position
// delivered (a client resuming passes its last seen position + 1); without
// it a subscription starts after the last event stored when it starts.
// Events arrive in log order, once each. A subscription's goroutine and feed
// end when its ctx ends; a feed failure closes the channel, which completes
// the subscription. Backpressure is the consumer's: the channel is
// unbuffered, so a transport must bound its own send queue.
//
// agentRunEvents follows one agent run (actors.Agents.Watch): its journaled
// events from the run's start, then live ones with token deltas, completing
// after the run's terminal event. It and llmStream do work per subscriber
// and are never shared between identical operations; the feed
// subscriptions above may be.
package gql
