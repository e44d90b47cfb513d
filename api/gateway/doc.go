// Package gateway serves the LLM router over the APIs that existing clients
// speak: OpenAI's POST /v1/chat/completions (JSON and SSE), GET /v1/models
// and POST /v1/embeddings, and Anthropic's POST /v1/messages (JSON and SSE).
// Any caller format may reach any upstream format: the request is decoded to
// the canonical llm model, routed, and the answer encoded back in the
// caller's format, errors included.
//
// Every response carries headers that say what happened:
//
//	x-circuit-breaker-call-id      the call's id (its LlmCallCompleted event)
//	x-circuit-breaker-provider     catalogue provider that answered
//	x-circuit-breaker-deployment   configured deployment that answered
//	x-circuit-breaker-model        upstream model id
//	x-circuit-breaker-attempts     deployments and retries tried
//	x-circuit-breaker-added-ms     the router's own time (total − upstream)
//	x-circuit-breaker-cost-usd     the call's cost, or "unpriced"
//
// A streamed response sends its headers with the first event, before the
// cost is known: it carries no cost header, and its cost is in the call's
// event. The caller's end-user and project may be given with the headers
// x-circuit-breaker-user and x-circuit-breaker-project (the body's "user"
// field fills the user otherwise); they are recorded with the call.
//
// Handlers are thin: decoding and encoding live in the format packages
// (providers/openai, providers/anthropic), routing in providers/router.
package gateway
