package metrics

import "strings"

// endpoints are the route names requests are counted under; anything
// else is "other", so that label values stay bounded whatever paths
// clients send.
var endpoints = []string{
	"/v1/chat/completions", "/v1/messages", "/v1/embeddings", "/v1/models", "/v1/agents",
	"/graphql", "/health", "/ready", "/metrics",
	"/api/v1/workflows", "/api/v1/resources", "/api/v1/events", "/api/v1/rules",
}

// Endpoint is the route name a path is counted under: the longest known
// route it starts with, or "other".
func Endpoint(path string) string {
	best := ""
	for _, e := range endpoints {
		if (path == e || strings.HasPrefix(path, e+"/")) && len(e) > len(best) {
			best = e
		}
	}
	if best == "" {
		return "other"
	}
	return best
}
