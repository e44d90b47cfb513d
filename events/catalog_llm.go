package events

import (
	"encoding/json"
	"time"
)

// Stream name prefixes of the LLM router.
const (
	// LLMStreamPrefix prefixes a tenant's stream of LLM calls.
	LLMStreamPrefix = "llm-"
	// VirtualModelStreamPrefix prefixes the stream of a tenant's virtual
	// model.
	VirtualModelStreamPrefix = "virtualmodel-"
)

// LLMCallStream names the stream that holds every LLM call of a tenant:
// "llm-<scope>:calls", which the tenant reads as "llm-calls".
func LLMCallStream(tenant string) string { return LLMStreamPrefix + Scoped(tenant, "calls") }

// VirtualModelStream names the stream of a tenant's virtual model.
func VirtualModelStream(tenant, name string) string {
	return VirtualModelStreamPrefix + Scoped(tenant, name)
}

// Event types of the LLM router, with their current schema versions.
const (
	// TypeLlmCallCompleted records one routed LLM call, whatever its
	// outcome: the single source of analytics and budgets.
	TypeLlmCallCompleted = "LlmCallCompleted"
	// TypeVirtualModelDefined records a version of a virtual model.
	TypeVirtualModelDefined = "VirtualModelDefined"
	// TypeVirtualModelDeleted records that a virtual model was removed.
	TypeVirtualModelDeleted = "VirtualModelDeleted"

	LlmCallCompletedVersion    = 1
	VirtualModelDefinedVersion = 1
	VirtualModelDeletedVersion = 1
)

// LlmCallCompleted is the data of TypeLlmCallCompleted. Token counts are in
// disjoint buckets (their sum is every token billed). CostUSD is meaningful
// only when Priced; an unpriced call is never recorded as free.
type LlmCallCompleted struct {
	CallID         string `json:"callId"`
	Tenant         string `json:"tenant"`
	KeyID          string `json:"keyId,omitempty"`
	User           string `json:"user,omitempty"`
	Project        string `json:"project,omitempty"`
	RequestedModel string `json:"requestedModel"`
	// Provider is the catalogue provider, Deployment the configured
	// deployment and Model the upstream model id of the attempt that
	// answered (or of the last attempt, when none did).
	Provider   string         `json:"provider,omitempty"`
	Deployment string         `json:"deployment,omitempty"`
	Model      string         `json:"model,omitempty"`
	Route      []LlmAttempt   `json:"route,omitempty"`
	Stream     bool           `json:"stream"`
	Tokens     LlmTokens      `json:"tokens"`
	Estimated  bool           `json:"tokensEstimated,omitempty"`
	CostUSD    float64        `json:"costUsd"`
	Priced     bool           `json:"priced"`
	LatencyMs  float64        `json:"latencyMs"`
	TTFTMs     float64        `json:"ttftMs,omitempty"`
	AddedMs    float64        `json:"addedMs,omitempty"`
	Outcome    string         `json:"outcome"` // ok | error | cancelled
	ErrorKind  string         `json:"errorKind,omitempty"`
	Fault      string         `json:"fault,omitempty"`
	Error      string         `json:"error,omitempty"`
	StartedAt  time.Time      `json:"startedAt"`
	Extra      map[string]any `json:"extra,omitempty"`
}

// LlmTokens are an LLM call's tokens by kind.
type LlmTokens struct {
	Input      int `json:"input"`
	CacheRead  int `json:"cacheRead,omitempty"`
	CacheWrite int `json:"cacheWrite,omitempty"`
	Output     int `json:"output"`
	Reasoning  int `json:"reasoning,omitempty"`
}

// LlmAttempt is one deployment tried for a call.
type LlmAttempt struct {
	Deployment string  `json:"deployment"`
	Model      string  `json:"model"`
	Outcome    string  `json:"outcome"` // ok | error | cancelled | skipped
	ErrorKind  string  `json:"errorKind,omitempty"`
	Status     int     `json:"status,omitempty"`
	LatencyMs  float64 `json:"latencyMs"`
}

// VirtualModelDefined is the data of TypeVirtualModelDefined. Definition
// is the virtual model as JSON (name, strategy, targets).
type VirtualModelDefined struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
}

// VirtualModelDeleted is the data of TypeVirtualModelDeleted.
type VirtualModelDeleted struct {
	Name string `json:"name"`
}
