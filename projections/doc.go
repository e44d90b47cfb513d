// Package projections builds the read models that the API serves from the
// event log: workflow, resource and rule views, and each resource's history
// (the audit trail). The history is read on demand from the resource's own
// stream (History), so memory holds only the current views.
//
// Views is a pure fold: Apply(event) in position order; the same events
// always give the same views, so a rebuild from position 0 (Rebuild, the
// `circuit-breaker replay` command) equals the live views. Runner feeds
// Views from a store subscription and keeps a durable checkpoint (the views
// and the position they cover, saved as a snapshot every few seconds), so
// a restart replays only the events after the checkpoint.
package projections
