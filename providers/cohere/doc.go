// Package cohere is the adapter for Cohere's v2 API: chat (POST /v2/chat,
// streamed with "stream": true) and embeddings (POST /v2/embed). It
// translates the canonical [llm.Request] to Cohere's JSON and the answer
// back, and registers the format "cohere". Requests carry the key as
// "Authorization: Bearer"; the base URL defaults to https://api.cohere.com.
//
// # Mapping
//
//   - System parts become a leading "system" message. User text is sent as
//     a string, or as text and image_url parts when images are present
//     (inline images as data: URLs).
//   - Assistant tool calls become tool_calls (arguments as JSON text).
//     Cohere's tool_plan — the model's reasoning before calling tools — is
//     the canonical thinking: thinking parts of an assistant turn with tool
//     calls are sent as tool_plan (or, lacking thinking, its text is); the
//     thinking of a turn without tool calls is not sent.
//   - Tool results become one {"role":"tool","tool_call_id"} message each,
//     their text as document content; Cohere has no error flag for a result,
//     so IsError is not sent. Images in tool results are refused.
//   - Tools are sent OpenAI-style. ToolChoice "required" and "none" map to
//     tool_choice REQUIRED and NONE; "tool" sends only the named tool with
//     REQUIRED, Cohere having no per-tool choice.
//   - MaxTokens, Temperature, TopP (p) and Stop (stop_sequences) map one to
//     one; ResponseFormat becomes response_format {"type":"json_object"},
//     with json_schema for a schema. ReasoningEffort and User are not sent
//     (Cohere's thinking switch exists only on its reasoning models).
//
// Responses map message.tool_plan to a thinking part, message.content text
// and thinking items to text and thinking parts, and message.tool_calls to
// tool-call parts, in that order. finish_reason COMPLETE, MAX_TOKENS,
// TOOL_CALL, STOP_SEQUENCE and ERROR_TOXIC map to end, length, tool_calls,
// stop_sequence and content_filter; ERROR and TIMEOUT are returned as
// *llm.Error (server, timeout). Usage is read from usage.tokens (all input
// and output tokens), falling back to usage.billed_units when tokens are
// absent; usage.cached_tokens, when present, is moved from Input to
// CacheRead.
//
// # Streaming
//
// The v2 stream is SSE whose data objects name their "type": message-start
// (EventStart with the message id), content-start / content-delta /
// content-end (text, or thinking for reasoning models), tool-plan-delta
// (thinking), tool-call-start / tool-call-delta / tool-call-end (a tool call
// and its argument fragments), citation and debug events (ignored), and
// message-end (EventStop, then EventUsage; Recv then returns io.EOF).
// Cohere numbers content items and tool calls separately; the adapter gives
// each the next canonical part index when its first event is emitted, so
// indices never skip. A message-end with finish_reason ERROR or TIMEOUT
// ends the stream with an *llm.Error carrying Cohere's message, and a
// stream that ends before message-end ends with a connection error.
package cohere
