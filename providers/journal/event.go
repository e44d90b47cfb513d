package journal

import (
	"time"

	"github.com/circuit-breaker/circuit-breaker/events"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// Event is the LlmCallCompleted event of a routed call.
func Event(c router.Call) events.LlmCallCompleted {
	route := make([]events.LlmAttempt, len(c.Route))
	for i, a := range c.Route {
		route[i] = events.LlmAttempt{Deployment: a.Deployment, Model: a.Model, Outcome: a.Outcome,
			ErrorKind: string(a.ErrorKind), Status: a.Status, LatencyMs: a.LatencyMs}
	}
	return events.LlmCallCompleted{
		CallID: c.ID, Tenant: c.Tenant, KeyID: c.KeyID, User: c.User, Project: c.Project,
		RequestedModel: c.RequestedModel, Provider: c.Provider, Deployment: c.Deployment, Model: c.Model,
		Route: route, Stream: c.Stream,
		Tokens: events.LlmTokens{Input: c.Usage.Input, CacheRead: c.Usage.CacheRead, CacheWrite: c.Usage.CacheWrite,
			Output: c.Usage.Output, Reasoning: c.Usage.Reasoning},
		Estimated: c.UsageEstimated, CostUSD: c.CostUSD, Priced: c.Priced,
		LatencyMs: ms(c.Latency), TTFTMs: ms(c.TTFT), AddedMs: ms(c.AddedTime),
		Outcome: c.Outcome, ErrorKind: string(c.ErrorKind), Fault: c.Fault, Error: c.Error, StartedAt: c.StartedAt,
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
