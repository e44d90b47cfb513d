// Package ollama is the adapter for Ollama's native API (/api/chat and
// /api/embed). It registers the wire format "ollama".
//
// A [Client] sends POST {BaseURL}/api/chat: with "stream": false for Chat
// (one JSON object back) and "stream": true for Stream (NDJSON: one JSON
// object per line, the last with "done": true). BaseURL is the server root
// and defaults to http://localhost:11434; an APIKey, when set, is sent as a
// bearer token (Ollama's cloud and authenticating proxies).
//
// # Request mapping
//
//   - [llm.Request.System] becomes a leading "system" message (text only).
//   - Text parts of a message are joined into its content; inline images
//     go to its images as base64 (Ollama takes no image URLs, so a URL image
//     is refused as an invalid request).
//   - Assistant tool calls become tool_calls with arguments as an object
//     (text that is not a JSON object is refused, naming the message);
//     thinking parts become the message's thinking.
//   - Each tool result becomes its own {"role": "tool"} message with the
//     result text, tool_name (from [llm.ToolResult.Name] or the earlier call
//     with the same id) and tool_call_id; an error result's text is prefixed
//     with "error: ". Tool results come before any other content of the
//     same turn.
//   - Tools become [{"type": "function", "function": {…}}]; their schemas
//     are passed as they are. Ollama has no tool-choice control: ToolChoice
//     "none" sends no tools, "tool" sends only the named one, and "required"
//     cannot be enforced (the tools are sent as for "auto").
//   - MaxTokens, Temperature, TopP and Stop go under options (num_predict,
//     temperature, top_p, stop); format is "json" for json_object and the
//     schema itself for json_schema; any ReasoningEffort sets "think": true.
//   - Request.User has no Ollama field and is not sent.
//
// # Responses and streams
//
// message.thinking is thinking and message.content text; consecutive
// fragments of one kind make one canonical part. Tool calls arrive whole and
// keep Ollama's id, or get "call_<n>". done_reason "length" is
// [llm.StopLength]; otherwise the stop is [llm.StopToolCalls] when tool
// calls came and [llm.StopEnd] if not. Usage is Input = prompt_eval_count
// and Output = eval_count (Ollama reports thinking inside eval_count and no
// cache counts).
//
// Ollama has no response id, so one is made up. A stream line holding
// {"error": …} ends the stream with an *llm.Error, and so does an end of
// stream before the "done": true line (truncated). Lines are bounded by
// [MaxLine].
package ollama
