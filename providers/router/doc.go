// Package router sends each chat call to a deployment — a provider account
// behind a [providers.Provider] — retrying, falling over and recording what
// happened.
//
// # Models and candidates
//
// A request's model is resolved, in this order, as a virtual model, as
// "deployment/model" (pinning a deployment that serves the model), as a model
// served by deployments (all of them, in configuration order), and last as
// "deployment/model" on a deployment with no model list, which passes any
// model through. A virtual model lists targets and a strategy: fallback
// (in order), weighted (the first target at random by weight, the rest in
// order), cheapest (by estimated cost) or fastest (by expected latency).
// Targets name deployments' models, never other virtual models.
//
// The caller's route options ([llm.RouteOptions]) then apply: fallback
// models are appended as further candidates; a cost threshold drops every
// candidate whose estimated cost exceeds it — and every unpriced one, since
// its cost is unknown — and fails with a policy error when none is left;
// cost optimisation orders by estimated cost with unpriced candidates last;
// latency priority orders by expected latency; a latency target moves the
// candidates expected to miss it after those expected to meet it. The cost
// estimate is the prompt at four bytes a token at the input price plus
// MaxTokens (else the model's output limit, at most 4,096) at the output
// price. The latency estimate is described on latencies (latency.go):
// moving averages of time to first token, output rate and output length
// per deployment and model, optimistic (zero) until measured so that new
// deployments get tried.
//
// # Retries, fallbacks and circuits
//
// Errors are *llm.Error, and their fault domain decides what follows. The
// caller's faults, policy refusals, cancellations and the router's own
// errors end the call at once. A provider fault counts against the
// deployment's circuit and moves on: retryable kinds (429, 503/529, other
// 5xx, timeouts, connection failures) are retried on the same deployment up
// to Retry.MaxAttempts with exponential backoff and jitter, waiting exactly
// the provider's Retry-After when it gives one — unless that is longer
// than Retry.MaxDelay, when the next deployment is tried instead; other
// provider faults (a rejected key, an unknown upstream model) go to the
// next candidate at once.
//
// Each deployment has a circuit breaker: Breaker.Failures consecutive
// provider faults open it; an open circuit is skipped (the route records
// the skip) for Breaker.OpenFor, then lets one probe through: success
// closes it, failure opens it again. When every candidate's circuit is open
// the call fails with KindOverloaded.
//
// A stream falls over only before its first event: if the provider's
// Stream fails or the first Recv does. After that, errors reach the caller
// and are never retried. Closing a stream early cancels the upstream call.
//
// # Records
//
// Every call — success, error, cancelled stream — ends in one [Call] handed
// to the [Recorder]: who, which model was asked for, the route taken, the
// tokens by kind, the cost at the [catalog.Table]'s prices (unpriced when a
// price is unknown, never $0), latency, time to first token and outcome. A
// stream cut short is billed for what was streamed: the provider's usage
// when it sent one, else an estimate (prompt and streamed text at four
// bytes a token, marked UsageEstimated). A cancelled non-streamed call is
// recorded with no tokens: nothing was received to count. Record is called
// on the response's path and must not block.
//
// # Concurrency and cost
//
// The routing table is immutable behind an atomic pointer; SetVirtual and
// DeleteVirtual replace it, copy-on-write, so routing reads take no lock.
// Circuit and latency state live with each deployment. A non-streamed call
// starts no goroutine; a streamed one starts none either (its upstream call
// runs under a context the stream cancels on Close).
package router
