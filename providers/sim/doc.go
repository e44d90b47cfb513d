// Package sim is an LLM provider simulator: one HTTP server that speaks the
// real wire formats of OpenAI, Azure OpenAI, Anthropic, Gemini, AWS Bedrock
// (Converse), Cohere v2 and Ollama at once. It is a test upstream for the
// adapters' tests, the official SDKs' tests, benchmarks and demos; the
// product never calls it.
//
// # Paths
//
// Each format is served under the paths the real API uses, so an adapter's
// base URL is the simulator's URL plus the usual prefix:
//
//	openai     POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models
//	           (base URL <sim>/v1; auth Authorization: Bearer)
//	azure      POST /openai/deployments/{deployment}/chat/completions?api-version=…
//	           POST /openai/deployments/{deployment}/embeddings?api-version=…
//	           (base URL <sim>; auth api-key, or Authorization: Bearer)
//	anthropic  POST /v1/messages (base URL <sim>; x-api-key, anthropic-version)
//	gemini     POST /v1beta/models/{model}:generateContent, :streamGenerateContent
//	           (?alt=sse for SSE, else one JSON array delivered incrementally),
//	           :embedContent, :batchEmbedContents, :countTokens
//	           (base URL <sim>; x-goog-api-key or ?key=)
//	bedrock    POST /model/{modelId}/converse, /model/{modelId}/converse-stream
//	           (base URL <sim>; SigV4, service "bedrock", or Bearer API key)
//	cohere     POST /v2/chat, POST /v2/embed (base URL <sim>; Bearer)
//	ollama     POST /api/chat, POST /api/embed, GET /api/tags (base URL <sim>)
//
// # Replies
//
// [Server.Script] queues scripted replies ([Step]) per model; requests for
// that model consume them in order. A step queued for the model "*" serves
// any model whose own queue is empty. When nothing is queued the reply is
// generated, deterministically from the seed, the model and the last user
// message:
//
//   - If the request declares tools and its last message is a user message
//     containing the word "tool" (any case, as a whole word), the reply is one
//     call of the first declared tool. Its arguments hold every property of
//     the tool's parameter schema with a placeholder of the property's type
//     ("sim" for strings, 1 for numbers, true for booleans, [] and {}).
//   - Otherwise the reply is the text "Simulated reply from <model>: "
//     followed by words, 20 tokens in all; when the request's output limit is
//     below 20 the text has that many tokens and stops for length.
//
// A token is a word with the whitespace before it; streams send one token
// per delta. Tool-call arguments stream in fragments of a few bytes in the
// formats that stream them (OpenAI, Azure, Anthropic, Bedrock, Cohere) and
// whole in the others (Gemini, Ollama).
//
// Usage is the scripted [Step.Usage] converted to each format's convention,
// or computed: input ≈ bytes of the request's messages and system prompt / 4,
// output = the reply's tokens (text, thinking and tool-call arguments / 4).
// Computed usage has no cache or reasoning tokens.
//
// Embedding endpoints return deterministic unit vectors (64 dimensions
// unless the request asks for another size; OpenAI's base64 encoding is
// honoured). A step scripted for an embedding model answers with its
// Status, Delay or Hang; its content is ignored.
//
// # Quirks reproduced
//
// Adapters must cope with what the real APIs do, so the simulator does it
// too: OpenAI sends "usage": null on every chunk when include_usage is set
// and a final chunk with empty choices; Azure opens its stream with a chunk
// that has no choices and only prompt_filter_results; Anthropic sends ping
// events and a thinking block's signature as a signature_delta; Gemini ends
// its stream with an empty text part carrying the finish reason, uses CRLF
// between SSE events and pretty-prints the array form; Bedrock sends no
// contentBlockStart for text or reasoning blocks and pads every payload with
// a "p" field; Cohere sends the text of a tool-calling reply as tool-plan
// deltas and ends its stream with "data: [DONE]"; Ollama sends tool-call
// arguments as objects and durations in nanoseconds.
//
// # Failures and timing
//
// [Config] adds latency before the response headers, a time to first token,
// pacing in tokens per second, and random 500s and 429s (with Retry-After).
// A [Step] can answer with an error status in the format's error shape, fail
// mid-stream after some tokens in the format's mid-stream error form, wait,
// or hang until the client goes away. Errors and statuses follow each
// provider: Anthropic's overloaded is 529 overloaded_error, Bedrock's errors
// carry x-amzn-ErrorType and become exception frames mid-stream, and so on.
//
// # Control
//
// Other processes drive the simulator over HTTP: POST /_sim/script
// {"model": …, "steps": [Step JSON…]}, GET /_sim/requests (the request log),
// POST /_sim/reset, GET and PUT /_sim/config (PUT changes the fields it
// names). Control requests need no key and are not logged.
//
// # Concurrency
//
// A Server is safe for concurrent use. It starts no goroutines: each
// request is served on its handler goroutine, and a streamed or delayed
// reply stops as soon as the client goes away.
package sim
