// Package conformance runs every LLM provider adapter through one shared
// list of scenarios against the provider simulator (providers/sim), so that
// the seven wire formats — openai, azure, anthropic, gemini, bedrock, cohere
// and ollama — are held to the same behaviour at the providers.Provider seam.
//
// The package has no API: it is its test files. TestConformance builds a
// fresh simulator on an httptest server for every subtest, named
// "<format>/<scenario>", and a deployment of the format with providers.New.
// The scenarios are:
//
//   - plain: Chat returns the scripted text, llm.StopEnd, and the scripted
//     usage as the format carries it (see below); Bedrock also with an API key
//     instead of SigV4.
//   - request: the body the simulator received (whole and streamed) carries
//     the system prompt, the earlier tool call and its tool result, the forced
//     tool choice, the output limit, temperature and stop sequences in the
//     format's own shape.
//   - image: an inline image goes out in the format's shape (data URL,
//     base64 source block, inlineData, Converse bytes, or Ollama's images).
//   - stream: Stream, collected with llm.Collect, equals Chat; text arrives in
//     more than one delta; llm.Accumulator referees the event order, and at
//     most one usage event comes, last.
//   - tool_call and stream_tool_call: two parallel tool calls come back with
//     their names and arguments (compared as parsed JSON), and llm.StopToolCalls.
//   - text_and_tools: text before tool calls is the first part, then the
//     calls, alike from Chat and Stream.
//   - thinking: reasoning comes as thinking parts before the text, for the
//     formats that carry it.
//   - stop_length: an output limit reached is llm.StopLength.
//   - concurrent: calls from many goroutines on one deployment, streamed and
//     not, each get their own answer (run under -race).
//   - errors: scripted 400, 401, 403, 404, 429, 500 and 503 answers (529 for
//     Anthropic) become *llm.Error of the right kind, with the provider's
//     message, from Chat and from Stream; a wrong key is KindUpstreamAuth.
//   - stream_error: a failure after some streamed tokens ends Recv with an
//     *llm.Error of the status's kind, carrying the provider's message, after
//     the text that came before it.
//   - retry_429: a 429 with Retry-After, then a success, through a router with
//     one deployment and two attempts: the router waits exactly the
//     Retry-After (an injected Sleep records it) and the route has two
//     attempts.
//   - timeout: a hung request fails with KindTimeout when the context's
//     deadline passes, for Chat and for a stream that stalls after some
//     tokens.
//   - close: closing a stream early makes the simulator's handler see the
//     client go away; Recv then fails with KindCancelled (after the events
//     already read off the wire, which some adapters still hand out).
//   - router_cancel: a stream closed early through the router is recorded as
//     cancelled and billed for what was streamed.
//   - embeddings: for the adapters that are providers.Embedder, vectors of the
//     asked size in input order, and errors typed as for chat.
//
// # What each format carries
//
// Every scenario scripts the same usage, {Input 100, CacheRead 40, CacheWrite
// 20, Output 30, Reasoning 10}. Not every wire format has a field for every
// bucket; the simulator folds the missing ones the way the real API counts
// them and the adapter reports what the format can say. The suite asserts
// exactly that (the total, 200, is always kept):
//
//	format     Input CacheRead CacheWrite Output Reasoning  why
//	openai       120        40          0     30        10  no cache-write count: it is in prompt_tokens
//	azure        120        40          0     30        10  as openai
//	anthropic    100        40         20     40         0  thinking is inside output_tokens
//	gemini       120        40          0     30        10  no cache-write count
//	bedrock      100        40         20     40         0  reasoning is inside outputTokens
//	cohere       120        40          0     40         0  tokens.input_tokens less cached_tokens
//	ollama       160         0          0     40         0  prompt_eval_count and eval_count only
//
// Mid-stream errors carry less than HTTP errors. Gemini's and Bedrock's carry
// a status (or exception type), so 400, 429, 500 and 503 keep their kinds;
// OpenAI's and Anthropic's carry a type, which has no overloaded form for a
// 503 (OpenAI's server_error, Anthropic's api_error: KindServer), while
// Anthropic's 529 overloaded_error is KindOverloaded; Azure's carries the
// status as a string code; Cohere's (message-end with finish_reason ERROR) and
// Ollama's ({"error": message}) carry only a message, so every mid-stream
// failure of theirs is KindServer.
//
// Other per-format facts the suite checks rather than skips: Gemini sends no
// tool-call ids (the adapter numbers them call_<n>), the other formats keep
// the caller's; Cohere sends the text of a tool-calling reply as its tool
// plan, which is thinking; OpenAI and Azure return no reasoning text; the
// embedders are openai, azure, gemini, cohere and ollama, and Gemini reports no
// embedding token counts.
//
// A case that fails because of a known defect in an adapter or the simulator
// names it in the table and is skipped with "known bug: …" until the owner
// fixes it; the package owning the defect is named in the message.
//
// # Timing
//
// Nothing asserts wall-clock time. Retries wait through an injected Sleep;
// deadlines that must pass at a given point of a stream are contexts whose
// deadline the test expires by hand, after polling (with a deadline) for the
// state it needs; the simulator's handlers are watched by a wrapping handler.
package conformance
