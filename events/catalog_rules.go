package events

import "encoding/json"

// RuleStreamPrefix is the stream name prefix of rules.
const RuleStreamPrefix = "rule-"

// RuleStream names the stream of a tenant's rule.
func RuleStream(tenant, id string) string { return RuleStreamPrefix + Scoped(tenant, id) }

// Event types of rules, with their current schema versions. A rule's
// stream starts with RuleCreated, may hold any number of RuleUpdated and
// ends with RuleDeleted; the revision of the last event is the rule's
// version. The tenant is the envelope's.
const (
	TypeRuleCreated = "RuleCreated"
	TypeRuleUpdated = "RuleUpdated"
	TypeRuleDeleted = "RuleDeleted"

	RuleCreatedVersion = 1
	RuleUpdatedVersion = 1
	RuleDeletedVersion = 1
)

// RuleDefined is the data of TypeRuleCreated and TypeRuleUpdated: the
// whole rule as it is from then on. Definition is the rule definition as
// JSON (package rules' shape: conditions, combinator, actions).
type RuleDefined struct {
	RuleID      string          `json:"ruleId"`
	Name        string          `json:"name"`
	Type        string          `json:"type,omitempty"`
	Description string          `json:"description,omitempty"`
	Definition  json.RawMessage `json:"definition"`
}

// RuleDeleted is the data of TypeRuleDeleted.
type RuleDeleted struct {
	RuleID string `json:"ruleId"`
}
