package gql

import (
	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/rules"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// The input types mirror the schema's input objects; graphql-go fills them
// after validating the request against the schema, so unknown fields and
// wrong types never reach this code.

type workflowInput struct {
	ID             *graphql.ID
	Name           string
	Description    *string
	States         []string
	InitialState   *string
	TerminalStates *[]string
	Activities     *[]activityInput
	// AgentTransitions: human.go.
	AgentTransitions *[]agentTransitionInput
}

type activityInput struct {
	ID             graphql.ID
	Name           *string
	Description    *string
	FromStates     []string
	ToState        string
	Conditions     *[]conditionInput
	AgentConfig    *agentConfigInput
	Retry          *retryInput
	TimeoutSeconds *int32
	// Auto and WaitForHuman: human.go.
	Auto         *bool
	WaitForHuman *humanWaitInput
}

type agentConfigInput struct {
	AgentID      *string
	LlmProvider  *string
	Model        *string
	SystemPrompt *string
	Temperature  *float64
	MaxTokens    *int32
	Auto         *bool
	OutputKey    *string
}

type retryInput struct {
	MaxAttempts       int32
	BackoffSeconds    *float64
	MaxBackoffSeconds *float64
}

type conditionInput struct {
	Field      *string
	Operator   *string
	Value      *JSON
	Group      *string
	Conditions *[]conditionInput
	Combinator *string
}

type actionInput struct {
	Type   string
	Config *JSON
}

type ruleDefinitionInput struct {
	Conditions []conditionInput
	Combinator *string
	Actions    *[]actionInput
}

type ruleInput struct {
	ID          *graphql.ID
	Name        string
	Type        *string
	Description *string
	Definition  *ruleDefinitionInput
	Conditions  *[]conditionInput
	Combinator  *string
	Actions     *[]actionInput
}

func (in workflowInput) definition() workflow.Definition {
	d := workflow.Definition{
		Name: in.Name, Description: deref(in.Description), States: in.States,
		InitialState: deref(in.InitialState),
	}
	if in.ID != nil {
		d.ID = string(*in.ID)
	}
	if in.TerminalStates != nil {
		d.TerminalStates = *in.TerminalStates
	}
	if in.Activities != nil {
		for _, a := range *in.Activities {
			d.Activities = append(d.Activities, a.activity())
		}
	}
	d.AgentTransitions = in.agentTransitions()
	return d
}

func (in activityInput) activity() workflow.Activity {
	a := workflow.Activity{
		ID: string(in.ID), Name: deref(in.Name), Description: deref(in.Description),
		FromStates: in.FromStates, ToState: in.ToState,
	}
	if in.Conditions != nil {
		a.Conditions = conditions(*in.Conditions)
	}
	if c := in.AgentConfig; c != nil {
		a.AgentConfig = &workflow.AgentConfig{
			AgentID: deref(c.AgentID), LLMProvider: deref(c.LlmProvider), Model: deref(c.Model),
			SystemPrompt: deref(c.SystemPrompt), Temperature: c.Temperature, OutputKey: deref(c.OutputKey),
		}
		if c.MaxTokens != nil {
			n := int(*c.MaxTokens)
			a.AgentConfig.MaxTokens = &n
		}
		if c.Auto != nil {
			a.AgentConfig.Auto = *c.Auto
		}
	}
	if r := in.Retry; r != nil {
		a.Retry = &workflow.RetryPolicy{MaxAttempts: int(r.MaxAttempts)}
		if r.BackoffSeconds != nil {
			a.Retry.BackoffSeconds = *r.BackoffSeconds
		}
		if r.MaxBackoffSeconds != nil {
			a.Retry.MaxBackoffSeconds = *r.MaxBackoffSeconds
		}
	}
	if in.TimeoutSeconds != nil {
		a.TimeoutSeconds = int(*in.TimeoutSeconds)
	}
	in.automation(&a)
	return a
}

func conditions(in []conditionInput) []rules.Condition {
	out := make([]rules.Condition, len(in))
	for i, c := range in {
		out[i] = rules.Condition{
			Field: deref(c.Field), Operator: deref(c.Operator),
			Group: deref(c.Group), Combinator: deref(c.Combinator),
		}
		if c.Value != nil {
			out[i].Value = c.Value.V
		}
		if c.Conditions != nil {
			out[i].Conditions = conditions(*c.Conditions)
		}
	}
	return out
}

func actions(in *[]actionInput) []rules.Action {
	if in == nil {
		return nil
	}
	out := make([]rules.Action, len(*in))
	for i, a := range *in {
		out[i].Type = a.Type
		if a.Config != nil {
			if m, ok := a.Config.V.(map[string]any); ok {
				out[i].Config = m
			} else if a.Config.V != nil {
				// Not an object: keep it, under "value", rather than drop it.
				out[i].Config = map[string]any{"value": a.Config.V}
			}
		}
	}
	return out
}

func (in *ruleDefinitionInput) definition() rules.Definition {
	return rules.Definition{Conditions: conditions(in.Conditions), Combinator: deref(in.Combinator), Actions: actions(in.Actions)}
}

// definition returns the rule's definition and the path prefix of its
// fields: the definition argument, or the top-level conditions and actions.
func (in ruleInput) definition() (rules.Definition, string, error) {
	if in.Definition != nil {
		if in.Conditions != nil || in.Combinator != nil || in.Actions != nil {
			return rules.Definition{}, "", &Error{Code: "VALIDATION",
				Msg:      "input: give either definition or conditions/combinator/actions, not both",
				Problems: []Problem{{Path: "input.definition", Msg: "conflicts with input.conditions/combinator/actions"}}}
		}
		return in.Definition.definition(), "input.definition", nil
	}
	if in.Conditions == nil {
		return rules.Definition{}, "", &Error{Code: "VALIDATION", Msg: "input: a rule needs definition or conditions",
			Problems: []Problem{{Path: "input.definition", Msg: "is required"}}}
	}
	d := rules.Definition{Conditions: conditions(*in.Conditions), Combinator: deref(in.Combinator), Actions: actions(in.Actions)}
	return d, "input", nil
}
