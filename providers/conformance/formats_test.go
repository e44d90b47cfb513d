package conformance

import (
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
	// streamErrorKind is what a mid-stream failure of status 500 becomes.
	streamErrorKind llm.ErrorKind
	// request is the JSON (see matchJSON) that the body of the scenario
	// "request" must contain.
	request string
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
		badKey:          wrongKey,
		usage:           llm.Usage{Input: 120, CacheRead: 40, Output: 30, Reasoning: 10},
		keepsCallIDs:    true,
		embedUsage:      true,
		streamErrorKind: llm.KindServer,
		request:         openAIRequest,
	},
	{
		name: "azure", model: "my-gpt-4o", embedModel: "my-embedding",
		config: func(u string) providers.Config {
			return providers.Config{Name: "azure", Format: "azure", BaseURL: u, APIKey: apiKey, APIVersion: "2024-10-21"}
		},
		badKey:          wrongKey,
		usage:           llm.Usage{Input: 120, CacheRead: 40, Output: 30, Reasoning: 10},
		keepsCallIDs:    true,
		embedUsage:      true,
		streamErrorKind: llm.KindServer,
		request:         openAIRequest,
	},
	{
		name: "anthropic", model: "claude-sonnet-4-5",
		config: func(u string) providers.Config {
			return providers.Config{Name: "anthropic", Format: "anthropic", BaseURL: u, APIKey: apiKey}
		},
		badKey:          wrongKey,
		usage:           llm.Usage{Input: 100, CacheRead: 40, CacheWrite: 20, Output: 40},
		keepsCallIDs:    true,
		extraErrors:     []errorCase{{529, llm.KindOverloaded}},
		streamErrorKind: llm.KindServer,
		request: `{
			"system": "You are a terse weather bot.",
			"messages": [
				{"role": "user", "content": {"$text": "Weather in Paris?"}},
				{"role": "assistant", "content": [
					{"type": "tool_use", "id": "call_w1", "name": "get_weather", "input": {"city": "Paris"}}]},
				{"role": "user", "content": [
					{"type": "tool_result", "tool_use_id": "call_w1", "content": {"$text": "sunny, 21C"}}]}
			],
			"tools": [{"name": "get_weather", "input_schema": {"type": "object", "required": ["city"]}}]
		}`,
	},
	{
		name: "gemini", model: "gemini-2.5-flash", embedModel: "gemini-embedding-001",
		config: func(u string) providers.Config {
			return providers.Config{Name: "gemini", Format: "gemini", BaseURL: u + "/v1beta", APIKey: apiKey}
		},
		badKey:          wrongKey,
		usage:           llm.Usage{Input: 120, CacheRead: 40, Output: 30, Reasoning: 10},
		streamErrorKind: llm.KindServer,
		request: `{
			"systemInstruction": {"parts": [{"text": "You are a terse weather bot."}]},
			"contents": [
				{"role": "user", "parts": [{"text": "Weather in Paris?"}]},
				{"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
				{"role": "user", "parts": [
					{"functionResponse": {"name": "get_weather", "response": {"result": "sunny, 21C"}}}]}
			],
			"tools": [{"functionDeclarations": [{"name": "get_weather", "parameters": {"type": "object"}}]}]
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
		usage:           llm.Usage{Input: 100, CacheRead: 40, CacheWrite: 20, Output: 40},
		keepsCallIDs:    true,
		streamErrorKind: llm.KindServer,
		request: `{
			"system": [{"text": "You are a terse weather bot."}],
			"messages": [
				{"role": "user", "content": [{"text": "Weather in Paris?"}]},
				{"role": "assistant", "content": [
					{"toolUse": {"toolUseId": "call_w1", "name": "get_weather", "input": {"city": "Paris"}}}]},
				{"role": "user", "content": [
					{"toolResult": {"toolUseId": "call_w1", "content": [{"text": "sunny, 21C"}]}}]}
			],
			"toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}]}
		}`,
	},
	{
		name: "cohere", model: "command-a-03-2025", embedModel: "embed-v4.0",
		config: func(u string) providers.Config {
			return providers.Config{Name: "cohere", Format: "cohere", BaseURL: u, APIKey: apiKey}
		},
		badKey:          wrongKey,
		usage:           llm.Usage{Input: 120, CacheRead: 40, Output: 40},
		keepsCallIDs:    true,
		embedUsage:      true,
		streamErrorKind: llm.KindServer,
		request: `{
			"messages": [
				{"role": "system", "content": {"$text": "You are a terse weather bot."}},
				{"role": "user", "content": {"$text": "Weather in Paris?"}},
				{"role": "assistant", "tool_calls": [{"id": "call_w1", "type": "function",
					"function": {"name": "get_weather", "arguments": {"$json": {"city": "Paris"}}}}]},
				{"role": "tool", "tool_call_id": "call_w1",
					"content": [{"type": "document", "document": {"data": "sunny, 21C"}}]}
			],
			"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
		}`,
	},
	{
		name: "ollama", model: "llama3.2", embedModel: "nomic-embed-text",
		config: func(u string) providers.Config {
			return providers.Config{Name: "ollama", Format: "ollama", BaseURL: u, APIKey: apiKey}
		},
		badKey:          wrongKey,
		usage:           llm.Usage{Input: 160, Output: 40},
		keepsCallIDs:    true,
		embedUsage:      true,
		streamErrorKind: llm.KindServer,
		request: `{
			"messages": [
				{"role": "system", "content": "You are a terse weather bot."},
				{"role": "user", "content": "Weather in Paris?"},
				{"role": "assistant", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
				{"role": "tool", "content": "sunny, 21C", "tool_name": "get_weather"}
			],
			"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
		}`,
	},
}

// openAIRequest is the request shape of openai and azure.
const openAIRequest = `{
	"messages": [
		{"role": "system", "content": {"$text": "You are a terse weather bot."}},
		{"role": "user", "content": {"$text": "Weather in Paris?"}},
		{"role": "assistant", "tool_calls": [{"id": "call_w1", "type": "function",
			"function": {"name": "get_weather", "arguments": {"$json": {"city": "Paris"}}}}]},
		{"role": "tool", "tool_call_id": "call_w1", "content": {"$text": "sunny, 21C"}}
	],
	"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
}`
