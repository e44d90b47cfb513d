// Package bedrock is the adapter for Amazon Bedrock's Converse API
// (POST /model/{modelId}/converse and /converse-stream). It translates the
// canonical [llm.Request] to Converse JSON and the answer back, so every
// Bedrock model that Converse serves (Anthropic, Meta, Mistral, Amazon Nova,
// …) shares one mapping. It registers the format "bedrock".
//
// # Authentication
//
// With Config.APIKey set the adapter sends a Bedrock API key as
// "Authorization: Bearer"; otherwise it signs every request with SigV4
// (service "bedrock", Config.Region, Config.AccessKeyID / SecretAccessKey /
// SessionToken) over the SHA-256 of the body. The endpoint is
// https://bedrock-runtime.{region}.amazonaws.com unless Config.BaseURL names
// another (a VPC endpoint or a test server). Model ids may be inference
// profile ids or ARNs; they are percent-encoded as one path segment.
//
// # Mapping
//
//   - System parts become "system":[{"text"}]. Messages become content
//     blocks: text, image (inline bytes: png, jpeg, gif, webp — image URLs
//     are refused, Converse only reads inline bytes or S3), toolUse (the
//     arguments decoded to a JSON object) and toolResult (text and image
//     content, status "error" for failed results). Tool results go in a user
//     turn, and consecutive turns of the same role are merged because
//     Converse requires alternation.
//   - Thinking parts are echoed back as reasoningContent only when they carry
//     a signature (they came from Bedrock); unsigned thinking from another
//     provider is dropped.
//   - MaxTokens, Temperature, TopP and Stop go in inferenceConfig; tools in
//     toolConfig with toolChoice auto / any / tool. Converse has no "none"
//     choice: ToolChoice "none" sends no tools at all.
//   - ResponseFormat "json_schema" becomes outputConfig.textFormat (Bedrock
//     structured output). "json_object" has no Converse equivalent and is
//     not sent: the prompt must ask for JSON, as OpenAI also requires.
//   - ReasoningEffort is sent only to Anthropic Claude models, as
//     additionalModelRequestFields.thinking with a token budget of 1024
//     (low), 4096 (medium) or 16384 (high); maxTokens is raised above the
//     budget when unset and refused when it is too small to hold it. Other
//     models ignore ReasoningEffort (their reasoning switches differ per
//     model family).
//   - User and Route are not sent.
//
// Responses map output.message.content to text, thinking (reasoningText
// with its signature; redacted reasoning is dropped) and tool-call parts;
// stopReason end_turn, tool_use, max_tokens, stop_sequence,
// guardrail_intervened / content_filtered to the canonical stop reasons; and
// usage inputTokens, cacheReadInputTokens, cacheWriteInputTokens and
// outputTokens to the disjoint buckets of [llm.Usage] (Bedrock already counts
// cached input apart). Bedrock sends no response id: the x-amzn-RequestId
// header is used, or a made-up one.
//
// # Streaming
//
// /converse-stream answers with the AWS event-stream binary framing
// (application/vnd.amazon.eventstream). Each frame's length is checked
// against a bound before it is read, then decoded with its prelude and
// message CRC32s verified; a checksum mismatch or malformed frame ends the
// stream with a connection error and is never skipped. Events map as
// messageStart → EventStart; contentBlockStart (toolUse) → EventToolCall;
// contentBlockDelta text / toolUse.input / reasoningContent → EventText /
// EventToolArgs / EventThinking; messageStop → EventStop; metadata →
// EventUsage, after which Recv returns io.EOF (a metadata frame that comes
// before messageStop is held until it). Bedrock's contentBlockIndex
// is mapped to canonical part indices in order of first appearance.
// Exception frames (":message-type: exception") become *llm.Error:
// throttlingException → rate_limit, serviceUnavailableException →
// overloaded, modelStreamErrorException and internalServerException →
// server, validationException → invalid_request. A stream that ends before
// messageStop, or after it but before the metadata frame that carries the
// usage, ends with a connection error, so lost usage is never silent.
package bedrock
