// Package natsjs is the NATS JetStream backend of events.Store, used both
// embedded (nats-server in this process, the default) and against an external
// NATS cluster (NATS_URL).
//
// Layout. All events live in one JetStream stream (default name CB_EVENTS);
// the event stream "resource-42" is the subject "<prefix>.ev.resource-42".
// The JetStream sequence is the global position. Each message's body is the
// event record (JSON) including its revision within its stream.
//
// Concurrency control. An append carries Nats-Expected-Last-Subject-Sequence
// set to the JetStream sequence of the stream's last event, so JetStream
// itself rejects an append that raced another writer — across processes and
// nodes too. The store caches each stream's head (revision, sequence); a
// stale cache only costs a retry.
//
// Group commit. Appends are queued to one committer goroutine. When several
// are waiting, the committer writes them as one JetStream atomic batch: one
// fsync for all of them, all-or-nothing. If the batch fails (one append
// conflicted), the committer retries each append on its own so that only the
// conflicting one fails. Two appends to the same stream never share a batch.
//
// Unknown outcomes. Event IDs are fixed before the first publish. When a
// publish is retried after an error whose outcome is unknown (a timeout),
// the retry finds the stream's head; if the head is the append's own last
// event, the earlier attempt landed and the append succeeds without writing
// twice. No JetStream de-duplication window (Nats-Msg-Id) is needed.
//
// Reads use JetStream direct gets in batches; subscriptions use an ordered
// consumer, which JetStream delivers in sequence order with gap detection.
package natsjs
