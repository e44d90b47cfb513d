package llm

// RouteOptions are the caller's per-request routing wishes, sent in the
// request's "circuit_breaker" field (the names follow the seed's LLMConfig).
// The router reads them; adapters ignore them.
type RouteOptions struct {
	// FallbackModels are tried in order after the requested model fails
	// with a provider fault.
	FallbackModels []string `json:"fallback_models,omitempty"`
	// CostOptimization prefers the cheapest candidate that satisfies the
	// other options.
	CostOptimization bool `json:"cost_optimization,omitempty"`
	// LatencyPriority prefers the candidate with the lowest expected
	// latency.
	LatencyPriority bool `json:"latency_priority,omitempty"`
	// CostThreshold is the most the request may cost, in USD, estimated
	// before the call from the prompt and the output limit; 0 means none.
	CostThreshold float64 `json:"cost_threshold,omitempty"`
	// LatencyTarget is the expected response time in milliseconds that a
	// candidate must meet to be chosen first; 0 means none.
	LatencyTarget int `json:"latency_target,omitempty"`
}
