// Package providers is the registry of LLM wire formats and the seam between
// the router and the adapters.
//
// Each wire format lives in its own package (providers/openai,
// providers/anthropic, …) and registers a [Factory] under its format name in
// init; providers/all imports every built-in one. A [Config] names one
// deployment — a provider account reachable at a base URL with a key — and
// [New] turns it into a [Provider].
//
// Lifecycle: a Provider is safe for concurrent use, holds no goroutines of
// its own, and needs no cleanup beyond the HTTP client's idle connections.
package providers
