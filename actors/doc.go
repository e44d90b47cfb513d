// Package actors runs Circuit Breaker's aggregates as protoactor-go virtual
// actors. A resource (a workflow instance) is addressed by its id: the first
// command for it activates an actor, which rebuilds the resource from its
// event stream (latest snapshot plus the tail); the actor is passivated
// after it has been idle for a while and reactivated on the next command.
//
// An actor only translates commands into decisions (package workflow, pure)
// and events. A command is answered only after its events are durably
// appended with the revision the actor last saw as the expected revision:
// if another activation (another node during a membership change, or a
// stale one) appended first, the append conflicts, the actor catches up
// from the stream and decides again. Commands carry an idempotency key; a
// retried command is answered with its first result and applied once.
//
// Workflows run on their own through the Automation (automation.go), a
// process manager that follows the log: automatic activities fire when a
// resource enters their from-state, an agent activity's transition is
// recorded when its run completes (with the output merged into the data),
// and a human wait parks the resource until ResumeResource or its timeout.
// A parked resource or a waiting run holds no goroutine; one timer wheel
// serves every wait's timeout.
//
// One process hosts every actor today; the System's Request is the seam
// where package cluster places actors on other nodes.
package actors
