// Package llm holds the router's canonical model of a chat call: the request,
// the response, the stream of deltas, token usage and errors. Every provider
// adapter translates its wire format to and from these types, and every served
// API (OpenAI-, Anthropic-compatible, GraphQL) does the same for its callers,
// so translating from any format to any other goes through one shape.
//
// The types are plain data with no I/O. Conventions that every adapter keeps:
//
//   - System prompts live in [Request.System], never as a message.
//   - A message is a list of [Part]s. Tool calls are parts of an assistant
//     message; tool results are parts of a user message (role [RoleTool] is
//     accepted on input and means the same). Tool-call arguments are JSON
//     object text ([ToolCall.Arguments]), never a decoded value.
//   - [Usage] counts tokens in disjoint buckets, so that cost is a plain sum
//     of count × price: cached input is not inside [Usage.Input], reasoning is
//     not inside [Usage.Output]. Adapters convert from the provider's own
//     convention (OpenAI counts cached tokens inside prompt tokens, Anthropic
//     does not; Gemini reports thoughts apart, OpenAI inside completion).
//   - A stream is a sequence of [Event]s: one [EventStart], content events
//     that name the index of the part they build, one [EventStop], then at
//     most one [EventUsage]. [Accumulator] folds a stream into a [Response].
package llm
