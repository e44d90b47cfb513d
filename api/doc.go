// Package api is Circuit Breaker's HTTP surface. Server puts together the
// health and readiness probes, the GraphQL endpoint /graphql (HTTP,
// WebSocket and SSE transports and the GraphiQL IDE: packages gql, gqlws,
// gqlsse, graphiql) and a small JSON REST API with an NDJSON event feed,
// a thin, scriptable alternative on the same core, all behind
// authentication (package auth).
//
// # Routes
//
//	GET  /health                                     liveness: always 200 {"status":"ok"}
//	GET  /ready                                      200 once the projections have caught up, else 503
//	POST /api/v1/workflows                           create a workflow (JSON or YAML body)
//	PUT  /api/v1/workflows/{id}                      store the next version of a workflow
//	GET  /api/v1/workflows                           list workflows (projection)
//	GET  /api/v1/workflows/{id}[?version=N]          one workflow definition (event store)
//	POST /api/v1/resources                           start a resource on a workflow
//	GET  /api/v1/resources[?workflowId=&state=]      list resources (projection)
//	GET  /api/v1/resources/{id}                      one resource (its actor: strongly consistent)
//	GET  /api/v1/resources/{id}/history              its audit trail (read from its event stream)
//	POST /api/v1/resources/{id}/activities/{activity} fire an activity
//	GET  /api/v1/events[?from=P&stream=S&follow=1]   the event log as NDJSON
//	GET  /v1/agents/runs/{id}/stream                 an agent run's events as SSE (gateway.AgentStream;
//	                                                 authenticated and answering errors like the LLM routes)
//
// # Consistency
//
// Commands (POST, PUT) are answered once their events are durable. Reads of
// a single resource or workflow go to the aggregate and see every
// acknowledged write. Lists are served from the projections and may lag by a
// few milliseconds. A resource's history is read from its own event stream,
// so it includes every acknowledged command.
//
// # Tenants
//
// Every request acts for one tenant: the principal's (see package auth).
// While authentication is off, a request may name its tenant with the
// X-Tenant header ("default" when absent); with authentication on, the
// header is ignored.
//
// # Errors
//
// Every error is answered as
//
//	{"error":{"code":"NOT_FOUND","message":"...","problems":[{"path":"...","msg":"..."}]}}
//
// with a stable code from one table (see errors.go): VALIDATION (422),
// BAD_REQUEST (400, 413 for a body over 1 MiB), NOT_FOUND (404), CONFLICT
// (409), FAILED_PRECONDITION (409: the activity cannot fire from the
// resource's state, or its conditions do not hold), UNAVAILABLE (503, retry)
// and INTERNAL (500). Request bodies are decoded strictly: unknown fields
// and malformed JSON are rejected with a message naming the problem.
package api
