// Package api is Circuit Breaker's HTTP surface: health and readiness probes,
// a small JSON REST API over the workflow core, and an NDJSON event feed.
// GraphQL arrives later on the same core; the REST routes stay as a thin,
// scriptable alternative.
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
//	GET  /api/v1/resources/{id}/history              its audit trail (projection, read-your-writes)
//	POST /api/v1/resources/{id}/activities/{activity} fire an activity
//	GET  /api/v1/events[?from=P&stream=S&follow=1]   the event log as NDJSON
//
// # Consistency
//
// Commands (POST, PUT) are answered once their events are durable. Reads of
// a single resource or workflow go to the aggregate and see every
// acknowledged write. Lists are served from the projections and may lag by a
// few milliseconds; a resource's history first waits (briefly) until the
// projections include the resource's last event, so a client reads its own
// writes, and answers 503 UNAVAILABLE if they do not catch up in time.
//
// # Tenants
//
// Every request acts for one tenant, taken from the X-Tenant header
// ("default" when absent). There is no authentication yet: any client may
// name any tenant. Authentication arrives in a later change.
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
