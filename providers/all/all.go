// Package all registers every built-in LLM wire format with package
// providers. Import it for its side effects where deployments are built
// (the server); import a single format package to keep a binary small.
package all

import (
	// The built-in formats: each registers itself in init.
	_ "github.com/circuit-breaker/circuit-breaker/providers/anthropic"
	_ "github.com/circuit-breaker/circuit-breaker/providers/bedrock"
	_ "github.com/circuit-breaker/circuit-breaker/providers/cohere"
	_ "github.com/circuit-breaker/circuit-breaker/providers/gemini"
	_ "github.com/circuit-breaker/circuit-breaker/providers/ollama"
	_ "github.com/circuit-breaker/circuit-breaker/providers/openai"
)
