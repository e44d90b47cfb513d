// Package gemini is the adapter for Google's Gemini API (generateContent,
// streamGenerateContent and batchEmbedContents, Google AI Studio flavour). It
// registers the wire format "gemini".
//
// A [Client] sends POST {BaseURL}/models/{model}:generateContent for Chat and
// :streamGenerateContent?alt=sse for Stream, authenticated with the
// x-goog-api-key header. BaseURL defaults to
// https://generativelanguage.googleapis.com/v1beta.
//
// # Request mapping
//
//   - [llm.Request.System] becomes systemInstruction (text parts only).
//   - User and tool messages become "user" turns, assistant messages "model"
//     turns; consecutive turns of the same role are merged, as Gemini expects
//     the roles to alternate.
//   - Tool calls become functionCall parts whose args is the decoded
//     arguments object; tool results become functionResponse parts. Gemini
//     matches results to calls by name, so a result without
//     [llm.ToolResult.Name] takes the name of the earlier call with the same
//     id. The response must be an object: a result whose text is a JSON
//     object is sent as is, other text as {"result": text}, and an error
//     result as {"error": text}. Call ids are not sent (the Gemini API
//     matches by name and order).
//   - Images become inlineData (base64) or fileData (URL).
//   - Tools become one functionDeclarations list. Gemini's schema dialect is
//     an OpenAPI subset, so parameter and response schemas are rewritten by
//     [SanitizeSchema]: local $ref are inlined, "type": [T, "null"] becomes
//     "nullable", const becomes a one-value enum, oneOf becomes anyOf, and
//     every keyword outside the supported set is dropped — among them
//     $schema, $id, $defs, definitions, additionalProperties,
//     patternProperties, allOf, not, exclusiveMinimum, exclusiveMaximum,
//     multipleOf, uniqueItems, examples, if/then/else, and string formats
//     other than date-time and enum. Enums with non-string values are dropped
//     (Gemini's enums are strings), and an object without properties loses
//     its empty "properties".
//   - ToolChoice maps to toolConfig.functionCallingConfig: auto → AUTO,
//     none → NONE, required → ANY, tool → ANY with allowedFunctionNames.
//   - Response formats set responseMimeType "application/json" and, for
//     json_schema, responseSchema.
//   - ReasoningEffort sets thinkingConfig with includeThoughts: Gemini 2.x
//     models get a thinkingBudget (low 1024, medium 8192, high 24576 tokens),
//     later models a thinkingLevel of the same name.
//   - Request.User has no Gemini field and is not sent.
//
// # Thought signatures
//
// Gemini signs its reasoning with an opaque thoughtSignature that must come
// back on the same part in later turns (Gemini 3 refuses a function call
// without its signature). The canonical model keeps signatures on thinking
// parts, so the adapter uses this convention both ways:
//
//   - a thought part (thought: true) is a thinking part with its text and
//     signature;
//   - a signature on any other part (a functionCall, a text part, or the
//     empty text part that ends some streams) is carried by a thinking part
//     with no text placed just before that part, and is put back on the
//     part that follows it when the conversation is sent again (or on an
//     empty text part when nothing follows).
//
// Thinking parts without a signature (another provider's reasoning) are not
// sent to Gemini.
//
// # Responses and streams
//
// The first candidate is read. Consecutive text (or thought) parts are one
// canonical part; function calls arrive whole and get ids "call_<n>" when
// Gemini sends none. finishReason STOP is [llm.StopEnd], or
// [llm.StopToolCalls] when the response holds function calls; MAX_TOKENS is
// [llm.StopLength]; SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII
// and IMAGE_SAFETY (and a promptFeedback.blockReason) are
// [llm.StopContentFilter].
//
// Usage keeps thinking billed: Input is promptTokenCount minus
// cachedContentTokenCount plus toolUsePromptTokenCount, CacheRead is
// cachedContentTokenCount, Output is candidatesTokenCount and Reasoning is
// thoughtsTokenCount.
//
// A stream is SSE whose every data line is a whole GenerateContentResponse;
// it has no terminator and ends when the connection closes. The stop event
// comes from the last finishReason seen and the usage from the last
// usageMetadata (they are running totals, never summed). A stream that ends
// without any finishReason was cut short and ends with an error; so does an
// {"error": …} object sent in place of a chunk.
//
// Embed uses batchEmbedContents; Gemini reports no token counts for it, so
// the usage is zero.
package gemini
