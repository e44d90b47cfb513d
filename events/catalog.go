package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Stream name prefixes of the aggregates.
const (
	WorkflowStreamPrefix = "workflow-"
	ResourceStreamPrefix = "resource-"
)

// Ids are unique per tenant: two tenants may give the same id to different
// objects, and neither can tell that the other did. A stream name therefore
// holds the tenant's scope and the id: "resource-acme:doc-1".

// WorkflowStream names the stream of a tenant's workflow definition.
func WorkflowStream(tenant, id string) string { return WorkflowStreamPrefix + Scoped(tenant, id) }

// ResourceStream names the stream of a tenant's resource (workflow instance).
func ResourceStream(tenant, id string) string { return ResourceStreamPrefix + Scoped(tenant, id) }

// Scoped is an id qualified by its tenant's scope: "<scope>:<id>". It is
// unique across tenants and is what actors and read models key objects by.
func Scoped(tenant, id string) string { return Scope(tenant) + ":" + id }

// TenantStream turns a stream name as a tenant writes it, without a scope
// ("resource-doc-1"), into the stored one ("resource-acme:doc-1"). A name
// that has a scope already, or no "<kind>-" prefix, is returned as it is.
func TenantStream(tenant, stream string) string {
	for i := 0; i < len(stream); i++ {
		switch stream[i] {
		case ':':
			return stream
		case '-':
			if i+1 < len(stream) && !strings.ContainsRune(stream[i+1:], ':') {
				return stream[:i+1] + Scoped(tenant, stream[i+1:])
			}
			return stream
		}
	}
	return stream
}

// Unscope splits a scoped id at its first ':' into the scope and the id.
func Unscope(scoped string) (scope, id string) {
	for i := 0; i < len(scoped); i++ {
		if scoped[i] == ':' {
			return scoped[:i], scoped[i+1:]
		}
	}
	return "", scoped
}

// Scope is the part of a stream name that stands for a tenant: the tenant
// itself when it is a plain name (1–64 letters, digits, '-' and '_', not
// starting with '_'), else '_' and 16 hex digits of its SHA-256, so that
// every tenant has its own scope and scopes fit in stream names.
func Scope(tenant string) string {
	plain := tenant != "" && len(tenant) <= 64 && tenant[0] != '_'
	for i := 0; plain && i < len(tenant); i++ {
		c := tenant[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	}
	if plain {
		return tenant
	}
	sum := sha256.Sum256([]byte(tenant))
	return "_" + hex.EncodeToString(sum[:8])
}

// Event types of the workflow core, with their current schema versions.
const (
	// TypeWorkflowDefined records a version of a workflow definition; the
	// revision of the event in its stream is the definition's version.
	TypeWorkflowDefined = "WorkflowDefined"
	// TypeResourceCreated records a new resource in its initial state.
	TypeResourceCreated = "ResourceCreated"
	// TypeStateChanged records an activity moving a resource.
	TypeStateChanged = "StateChanged"

	WorkflowDefinedVersion = 1
	ResourceCreatedVersion = 1
	StateChangedVersion    = 1
)

// WorkflowDefined is the data of TypeWorkflowDefined. Definition is the
// workflow definition as JSON (package workflow's shape).
type WorkflowDefined struct {
	WorkflowID string          `json:"workflowId"`
	Version    int             `json:"version"`
	Definition json.RawMessage `json:"definition"`
}

// ResourceCreated is the data of TypeResourceCreated.
type ResourceCreated struct {
	ResourceID      string         `json:"resourceId"`
	WorkflowID      string         `json:"workflowId"`
	WorkflowVersion int            `json:"workflowVersion"`
	State           string         `json:"state"`
	Data            map[string]any `json:"data"`
	IdempotencyKey  string         `json:"idempotencyKey,omitempty"`
}

// StateChanged is the data of TypeStateChanged. Input is the data the
// activity was fired with; it is merged into the resource's data
// (workflow.Merge), so the data after the event is a pure function of the
// stream.
type StateChanged struct {
	ResourceID     string         `json:"resourceId"`
	WorkflowID     string         `json:"workflowId"`
	Activity       string         `json:"activity"`
	From           string         `json:"from"`
	To             string         `json:"to"`
	Input          map[string]any `json:"input,omitempty"`
	IdempotencyKey string         `json:"idempotencyKey,omitempty"`
}
