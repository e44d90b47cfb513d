// Package openai speaks the OpenAI Chat Completions wire format in both
// directions.
//
// # Upstream adapter
//
// [Client] is a [providers.Provider] and [providers.Embedder] for every
// OpenAI-compatible deployment. It registers two formats:
//
//   - "openai": BaseURL is the API root ("https://api.openai.com/v1"); the
//     same adapter serves Groq, Together, DeepSeek, Mistral, OpenRouter,
//     Fireworks, xAI, vLLM, LM Studio, Hugging Face TGI and any other
//     compatible server, which differ only by base URL, key and headers.
//     The key is sent as "Authorization: Bearer".
//   - "azure": BaseURL is the resource ("https://{resource}.openai.azure.com");
//     the model names the deployment, calls go to
//     /openai/deployments/{model}/chat/completions?api-version={APIVersion}
//     (default [DefaultAzureAPIVersion]) and the key is sent as "api-key".
//     Azure's newer v1 API (…/openai/v1) is OpenAI-compatible: use format
//     "openai" with that base URL and the key in Headers["api-key"].
//
// The output limit goes out as "max_completion_tokens" to api.openai.com and
// Azure, where "max_tokens" is deprecated and refused by reasoning models, and
// as "max_tokens" to every other server, since many compatible servers know
// only that name.
//
// Streams always ask for "stream_options": {"include_usage": true}, because
// the router needs usage to price the call. The stream decoder accepts the
// usage chunk with "choices" empty, null or non-empty (vLLM); reads only
// choice index 0 (the adapter never asks for n > 1); turns a mid-stream
// "data: {"error": …}" into an *llm.Error; maps each tool call's own
// "index" to the canonical part index (parts are numbered in the order they
// start, so the text part usually comes first); reads "reasoning_content" (or
// "reasoning") deltas as thinking; and reports a stream that ends without
// "data: [DONE]" as a truncated connection unless a finish reason and usage
// were both seen. The stop event is emitted with the chunk that carries the
// finish reason; content of choice 0 after it is dropped. Usage is emitted
// after the stop, once the stream ends, from the last usage object seen.
//
// Responses map to the canonical shape as follows: "reasoning_content",
// then content, then tool calls become parts in that order; a "refusal"
// becomes text with [llm.StopRefusal]; finish reasons stop, length,
// tool_calls (and legacy function_call) and content_filter map to
// [llm.StopEnd], [llm.StopLength], [llm.StopToolCalls] and
// [llm.StopContentFilter] (a "stop" with tool calls present counts as tool
// calls, as some compatible servers say "stop"); OpenAI's prompt_tokens
// include cached tokens and completion_tokens include reasoning tokens, so
// usage becomes Input = prompt − cached, CacheRead = cached, Output =
// completion − reasoning, Reasoning = reasoning.
//
// Canonical requests map to the wire as follows: system parts are joined
// with blank lines into one system message; each tool result becomes its own
// "tool" message (images inside tool results, which "tool" messages cannot
// carry, follow in a user message); thinking parts of assistant turns are not
// sent; ToolResult.IsError has no OpenAI field and is dropped.
//
// # Served codec
//
// [DecodeRequest], [EncodeResponse], [StreamWriter], [EncodeError],
// [EncodeModels], [DecodeEmbedRequest] and [EncodeEmbeddings] let the API
// layer serve POST /v1/chat/completions, GET /v1/models and POST
// /v1/embeddings to the official OpenAI SDKs. DecodeRequest ignores fields it
// does not know, and these known ones: frequency_penalty, presence_penalty,
// logit_bias, logprobs, top_logprobs, seed, parallel_tool_calls, store,
// metadata, service_tier, prediction, web_search_options, verbosity,
// prompt_cache_key, safety_identifier, and a message's "name". It rejects
// the legacy functions/function_call parameters, n other than 1 and audio
// output, each with an error naming the field. System and developer
// messages become [llm.Request.System] wherever they stand; consecutive tool
// messages become one [llm.RoleTool] message, and each result takes the
// tool name from the assistant call it answers.
//
// Served streams follow OpenAI's shape: the first chunk carries the role,
// tool calls are numbered from 0 per call, the finish reason comes in its
// own chunk, and with stream_options.include_usage every chunk carries
// "usage": null until the final usage chunk with "choices": [] (without it,
// no chunk has a usage member). Thinking goes out as "reasoning_content";
// a refusal that was streamed arrives as content.
package openai
