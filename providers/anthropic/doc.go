// Package anthropic speaks the Anthropic Messages API (POST /v1/messages) in
// both directions.
//
// # Upstream adapter
//
// [New] builds a [Client] for one deployment; it registers itself as the
// wire format "anthropic". The client translates an [llm.Request] into a
// Messages body and the answer (JSON or a named-event SSE stream) back into
// the canonical types. Conventions and choices:
//
//   - max_tokens is required by Anthropic: a request without one is sent
//     with [DefaultMaxTokens].
//   - The system prompt goes to the top-level "system" field: a string for
//     one part, text blocks for several.
//   - Consecutive turns of the same role are merged; [llm.RoleTool] turns
//     become user turns whose tool_result blocks come first, as Anthropic
//     requires. Empty text parts and empty turns are dropped.
//   - Tool-call ids are passed on; characters Anthropic does not accept in
//     an id are replaced by "_" (consistently in tool_use and tool_result).
//   - Thinking parts are echoed back only with their signature: parts from
//     other providers, which carry none, are dropped. Redacted thinking has
//     no canonical form and is dropped from responses.
//   - Temperature is clamped to Anthropic's range 0–1. Current models refuse
//     temperature and top_p together, so top_p is sent only without a
//     temperature.
//   - [llm.Request.ReasoningEffort] turns on extended thinking with a budget
//     of 1024 (low), 4096 (medium) or 16384 (high) tokens, raising
//     max_tokens above the budget if needed and leaving out temperature and
//     top_p (Anthropic refuses them with thinking). It is not sent when the
//     tool choice forces a tool, or when the last assistant turn called tools
//     without starting with signed thinking (a history from another
//     provider): Anthropic refuses both with thinking.
//   - Response format "json_schema" is sent as structured outputs
//     (output_config.format); Anthropic has no schema-less JSON mode, so
//     "json_object" is left to the caller's prompt.
//   - Usage: input_tokens, cache_read_input_tokens and
//     cache_creation_input_tokens map to Input, CacheRead and CacheWrite
//     (Anthropic already counts them apart). Anthropic counts thinking inside
//     output_tokens without a split, so all of it is reported as Output.
//
// Streams follow [llm.Stream]: one EventStart (message_start), content events
// whose Index is the position of the part (Anthropic's block index, checked
// to increase; blocks with no canonical form, such as redacted thinking and
// server-tool blocks, are skipped and later parts numbered on), one
// EventStop (the message_delta that carries the stop_reason) and one
// EventUsage at message_stop with the final cumulative counts. ping and unknown events are ignored; an "error" event ends the
// stream with an [*llm.Error]; a stream that ends before message_stop is a
// connection error, after the events already delivered.
//
// # Served codec
//
// [DecodeRequest], [EncodeResponse], [NewStreamWriter] and [EncodeError]
// serve Anthropic-compatible clients (the official SDKs, Claude Code) from any
// upstream. DecodeRequest ignores unknown top-level fields, so newer clients
// keep working, but rejects unknown content-block types, naming the field.
// cache_control markers, top_k and disable_parallel_tool_use are ignored;
// "thinking" and output_config.effort become [llm.Request.ReasoningEffort].
// The extension field "circuit_breaker" carries [llm.RouteOptions].
//
// [StreamWriter] turns canonical events from any upstream into a valid
// Anthropic event sequence: exactly one message_start, blocks with
// increasing indices each opened and closed in turn, then message_delta
// (stop reason and usage) and message_stop. Reasoning tokens reported apart
// by other providers are added to output_tokens.
package anthropic
