// Package events is Circuit Breaker's event catalogue and event store
// contract: the envelope every state change travels in, the Store interface
// that actors append to and projections read from, snapshots, and upcasting
// of old event versions.
//
// # Semantics of a Store
//
// Streams. Every aggregate owns one stream, named "<kind>-<scope>:<id>"
// (for example "workflow-acme:01J…", "resource-acme:doc-1"): the scope
// stands for the tenant (Scope), so ids are unique per tenant only. Stream
// names are 1–200 characters of letters, digits, '-', '_' and ':'.
//
// Revisions. Events in a stream are numbered 1, 2, 3, … with no gaps: the
// revision. A stream with no events has revision 0. Append takes the revision
// the caller expects the stream to be at: Any (no check), NoStream (the
// stream must be empty) or Exact(n). A mismatch fails the whole append with a
// *ConflictError and writes nothing.
//
// Positions. All streams share one totally ordered log; every event has a
// global position, 1-based and increasing (gaps are possible but rare, for
// example after a failed batch). ReadAll and Subscribe walk this order.
//
// Durability. Append returns only after its events are on disk (fsync), so an
// acknowledged append survives a crash of the process or the machine.
// Concurrent appends are committed in groups (one fsync for many appends) so
// that throughput is not capped by the disk's fsync rate. An append is atomic:
// all of its events are stored, or none.
//
// Subscriptions. Subscribe(from) delivers every event with position ≥ from,
// in order: first the history (catch-up), then new events as they are
// appended (live), with no gap and no duplicate at the seam. A subscriber that
// reconnects with the position after the last one it handled misses nothing.
// Delivery is pull-based: a subscriber that does not read is not buffered
// without bound; it simply falls behind.
//
// Versions. Every event type has a schema version. Old versions are never
// rewritten; an Upcaster registered for a type turns them into the current
// shape when they are read.
//
// Snapshots. A Snapshots store keeps the latest snapshot of an aggregate's
// state with the revision it covers, so that activation reads only the tail
// of the stream.
package events
