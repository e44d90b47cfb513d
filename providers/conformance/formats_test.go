package conformance

import (
	"net/http"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// Credentials the simulator checks: every format's key, and Bedrock's SigV4
// signature.
const (
	apiKey    = "sk-conformance-key"
	awsKeyID  = "AKIDCONFORMANCE"
	awsSecret = "conformance/secret+key"
	awsRegion = "eu-west-1"
)

// scriptedUsage is the usage every scenario scripts; each format reports
// it as format.usage.
var scriptedUsage = llm.Usage{Input: 100, CacheRead: 40, CacheWrite: 20, Output: 30, Reasoning: 10}

// errorCase is one scripted error status and the kind it must become.
type errorCase struct {
	status int
	kind   llm.ErrorKind
}

// typed lists the mid-stream failures of a format whose mid-stream error
// carries its type or status: each becomes the kind of its status.
var typed = []errorCase{
	{http.StatusBadRequest, llm.KindInvalidRequest},
	{http.StatusTooManyRequests, llm.KindRateLimit},
	{http.StatusInternalServerError, llm.KindServer},
	{http.StatusServiceUnavailable, llm.KindOverloaded},
}

// untyped lists the mid-stream failures of a format whose mid-stream error
// carries no type (only a message): all are server errors.
var untyped = []errorCase{
	{http.StatusBadRequest, llm.KindServer},
	{http.StatusTooManyRequests, llm.KindServer},
	{http.StatusInternalServerError, llm.KindServer},
	{http.StatusServiceUnavailable, llm.KindServer},
}

// format is one wire format under test and what the suite expects of it.
type format struct {
	name string
	// model is the chat model asked for; embedModel the embedding model,
	// "" when the adapter is not a providers.Embedder.
	model, embedModel string
	// config is the deployment of the format at the simulator's URL.
	config func(simURL string) providers.Config
	// badKey is config with credentials the simulator refuses.
	badKey func(providers.Config) providers.Config
	// usage is scriptedUsage as the format carries it.
	usage llm.Usage
	// keepsCallIDs says whether tool-call ids travel on the wire; without,
	// the adapter makes them up.
	keepsCallIDs bool
	// embedUsage says whether the format reports embedding token counts.
	embedUsage bool
	// extraErrors are statuses beyond the shared list.
	extraErrors []errorCase
	// streamErrors are failures after some streamed tokens, by the status
	// the simulator gives them, and the kind they must become.
	streamErrors []errorCase
	// thinking says whether the format carries reasoning text in replies.
	thinking bool
	// toolPlanKind is the kind of the text that comes with tool calls
	// (Cohere sends it as its tool plan, which is thinking).
	toolPlanKind llm.PartKind
	// altAuth, when set, is config with the format's other way to
	// authenticate.
	altAuth func(providers.Config) providers.Config
	// request is the JSON (see matchJSON) that the body of the scenario
	// "request" must contain.
	request string
	// image is the JSON the body of the scenario "image" must contain;
	// {{b64}} stands for the image's base64 data.
	image string
}

func simConfig() sim.Config {
	return sim.Config{APIKey: apiKey, AWSAccessKeyID: awsKeyID, AWSSecretAccessKey: awsSecret, AWSRegion: awsRegion}
}

func wrongKey(c providers.Config) providers.Config { c.APIKey = "sk-wrong"; return c }

// formats is the table of every built-in wire format.
var formats = []format{
	{
		name: "openai", model: "gpt-4o-mini", embedModel: "text-embedding-3-small",
		config: func(u string) providers.Config {
			return providers.Config{Name: "openai", Format: "openai", BaseURL: u + "/v1", APIKey: apiKey}
		},
		badKey:       wrongKey,
		usage:        llm.Usage{Input: 120, CacheRead: 40, Output: 30, Reasoning: 10},
		keepsCallIDs: true,
		embedUsage:   true,
		streamErrors: []errorCase{
			{http.StatusBadRequest, llm.KindInvalidRequest},
			{http.StatusTooManyRequests, llm.KindRateLimit},
			{http.StatusInternalServerError, llm.KindServer},
			// OpenAI's 503 body has type server_error: nothing says overloaded.
			{http.StatusServiceUnavailable, llm.KindServer},
		},
		toolPlanKind: llm.PartText,
		image: `{"messages": [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
			{"type": "image_url", "image_url": {"url": "data:image/png;base64,{{b64}}"}}]}]}`,
		request: openAIRequest("max_tokens"),
	},
	{
		name: "azure", model: "my-gpt-4o", embedModel: "my-embedding",
		config: func(u string) providers.Config {
			return providers.Config{Name: "azure", Format: "azure", BaseURL: u, APIKey: apiKey, APIVersion: "2024-10-21"}
		},
		badKey:       wrongKey,
		usage:        llm.Usage{Input: 120, CacheRead: 40, Output: 30, Reasoning: 10},
		keepsCallIDs: true,
		embedUsage:   true,
		streamErrors: []errorCase{
			{http.StatusBadRequest, llm.KindInvalidRequest},
			{http.StatusTooManyRequests, llm.KindRateLimit},
			{http.StatusInternalServerError, llm.KindServer},
			{http.StatusServiceUnavailable, llm.KindOverloaded},
		},
		toolPlanKind: llm.PartText,
		image: `{"messages": [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
			{"type": "image_url", "image_url": {"url": "data:image/png;base64,{{b64}}"}}]}]}`,
		request: openAIRequest("max_completion_tokens"),
	},
	{
		name: "anthropic", model: "claude-sonnet-4-5",
		config: func(u string) providers.Config {
			return providers.Config{Name: "anthropic", Format: "anthropic", BaseURL: u, APIKey: apiKey}
		},
		badKey:       wrongKey,
		usage:        llm.Usage{Input: 100, CacheRead: 40, CacheWrite: 20, Output: 40},
		keepsCallIDs: true,
		extraErrors:  []errorCase{{529, llm.KindOverloaded}},
		streamErrors: []errorCase{
			{http.StatusBadRequest, llm.KindInvalidRequest},
			{http.StatusTooManyRequests, llm.KindRateLimit},
			{http.StatusInternalServerError, llm.KindServer},
			// Anthropic has no error type for 503: it is an api_error.
			{http.StatusServiceUnavailable, llm.KindServer},
			{529, llm.KindOverloaded},
		},
		thinking:     true,
		toolPlanKind: llm.PartText,
		image: `{"messages": [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
			{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "{{b64}}"}}]}]}`,
		request: `{
			"system": "You are a terse weather bot.",
			"messages": [
				{"role": "user", "content": {"$text": "Weather in Paris?"}},
				{"role": "assistant", "content": [
					{"type": "tool_use", "id": "call_w1", "name": "get_weather", "input": {"city": "Paris"}}]},
				{"role": "user", "content": [
					{"type": "tool_result", "tool_use_id": "call_w1", "content": {"$text": "sunny, 21C"}}]}
			],
			"tools": [{"name": "get_weather", "input_schema": {"type": "object", "required": ["city"]}}],
			"tool_choice": {"type": "any"},
			"max_tokens": 256, "temperature": 0.5, "stop_sequences": ["END"]
		}`,
	},
	{
		name: "gemini", model: "gemini-2.5-flash", embedModel: "gemini-embedding-001",
		config: func(u string) providers.Config {
			return providers.Config{Name: "gemini", Format: "gemini", BaseURL: u + "/v1beta", APIKey: apiKey}
		},
		badKey:       wrongKey,
		usage:        llm.Usage{Input: 120, CacheRead: 40, Output: 30, Reasoning: 10},
		streamErrors: typed,
		thinking:     true,
		toolPlanKind: llm.PartText,
		image: `{"contents": [{"role": "user", "parts": [{"text": "What is in this picture?"},
			{"inlineData": {"mimeType": "image/png", "data": "{{b64}}"}}]}]}`,
		request: `{
			"systemInstruction": {"parts": [{"text": "You are a terse weather bot."}]},
			"contents": [
				{"role": "user", "parts": [{"text": "Weather in Paris?"}]},
				{"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
				{"role": "user", "parts": [
					{"functionResponse": {"name": "get_weather", "response": {"result": "sunny, 21C"}}}]}
			],
			"tools": [{"functionDeclarations": [{"name": "get_weather", "parameters": {"type": "object"}}]}],
			"toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
			"generationConfig": {"maxOutputTokens": 256, "temperature": 0.5, "stopSequences": ["END"]}
		}`,
	},
	{
		name: "bedrock", model: "anthropic.claude-3-5-sonnet-20240620-v1:0",
		config: func(u string) providers.Config {
			return providers.Config{Name: "bedrock", Format: "bedrock", BaseURL: u, Region: awsRegion,
				AccessKeyID: awsKeyID, SecretAccessKey: awsSecret}
		},
		badKey: func(c providers.Config) providers.Config {
			c.SecretAccessKey = "not-the-secret"
			return c
		},
		usage:        llm.Usage{Input: 100, CacheRead: 40, CacheWrite: 20, Output: 40},
		keepsCallIDs: true,
		streamErrors: typed,
		thinking:     true,
		toolPlanKind: llm.PartText,
		altAuth: func(c providers.Config) providers.Config {
			c.AccessKeyID, c.SecretAccessKey, c.APIKey = "", "", apiKey
			return c
		},
		image: `{"messages": [{"role": "user", "content": [{"text": "What is in this picture?"},
			{"image": {"format": "png", "source": {"bytes": "{{b64}}"}}}]}]}`,
		request: `{
			"system": [{"text": "You are a terse weather bot."}],
			"messages": [
				{"role": "user", "content": [{"text": "Weather in Paris?"}]},
				{"role": "assistant", "content": [
					{"toolUse": {"toolUseId": "call_w1", "name": "get_weather", "input": {"city": "Paris"}}}]},
				{"role": "user", "content": [
					{"toolResult": {"toolUseId": "call_w1", "content": [{"text": "sunny, 21C"}]}}]}
			],
			"toolConfig": {
				"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}],
				"toolChoice": {"any": {}}
			},
			"inferenceConfig": {"maxTokens": 256, "temperature": 0.5, "stopSequences": ["END"]}
		}`,
	},
	{
		name: "cohere", model: "command-a-03-2025", embedModel: "embed-v4.0",
		config: func(u string) providers.Config {
			return providers.Config{Name: "cohere", Format: "cohere", BaseURL: u, APIKey: apiKey}
		},
		badKey:       wrongKey,
		usage:        llm.Usage{Input: 120, CacheRead: 40, Output: 40},
		keepsCallIDs: true,
		embedUsage:   true,
		// A failed stream ends with message-end finish_reason ERROR and a message.
		streamErrors: untyped,
		thinking:     true,
		toolPlanKind: llm.PartThinking,
		image: `{"messages": [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
			{"type": "image_url", "image_url": {"url": "data:image/png;base64,{{b64}}"}}]}]}`,
		request: `{
			"messages": [
				{"role": "system", "content": {"$text": "You are a terse weather bot."}},
				{"role": "user", "content": {"$text": "Weather in Paris?"}},
				{"role": "assistant", "tool_calls": [{"id": "call_w1", "type": "function",
					"function": {"name": "get_weather", "arguments": {"$json": {"city": "Paris"}}}}]},
				{"role": "tool", "tool_call_id": "call_w1",
					"content": [{"type": "document", "document": {"data": "sunny, 21C"}}]}
			],
			"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
			"tool_choice": "REQUIRED",
			"max_tokens": 256, "temperature": 0.5, "stop_sequences": ["END"]
		}`,
	},
	{
		name: "ollama", model: "llama3.2", embedModel: "nomic-embed-text",
		config: func(u string) providers.Config {
			return providers.Config{Name: "ollama", Format: "ollama", BaseURL: u, APIKey: apiKey}
		},
		badKey:       wrongKey,
		usage:        llm.Usage{Input: 160, Output: 40},
		keepsCallIDs: true,
		embedUsage:   true,
		// A failed stream ends with {"error": message}.
		streamErrors: untyped,
		thinking:     true,
		toolPlanKind: llm.PartText,
		image:        `{"messages": [{"role": "user", "content": "What is in this picture?", "images": ["{{b64}}"]}]}`,
		request: `{
			"messages": [
				{"role": "system", "content": "You are a terse weather bot."},
				{"role": "user", "content": "Weather in Paris?"},
				{"role": "assistant", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
				{"role": "tool", "content": "sunny, 21C", "tool_name": "get_weather"}
			],
			"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
			"options": {"num_predict": 256, "temperature": 0.5, "stop": ["END"]}
		}`,
	},
}

// openAIRequest is the request shape of openai and azure; maxTokens names
// the output limit (max_tokens to compatible servers, max_completion_tokens
// to Azure and api.openai.com).
func openAIRequest(maxTokens string) string {
	return `{
	"` + maxTokens + `": 256, "temperature": 0.5, "stop": ["END"], "tool_choice": "required",
	"messages": [
		{"role": "system", "content": {"$text": "You are a terse weather bot."}},
		{"role": "user", "content": {"$text": "Weather in Paris?"}},
		{"role": "assistant", "tool_calls": [{"id": "call_w1", "type": "function",
			"function": {"name": "get_weather", "arguments": {"$json": {"city": "Paris"}}}}]},
		{"role": "tool", "tool_call_id": "call_w1", "content": {"$text": "sunny, 21C"}}
	],
	"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
}`
}
