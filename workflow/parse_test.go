package workflow

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/rules"
)

// documentApproval is testdata/document_approval.json as parsed.
func documentApproval() Definition {
	return Definition{
		Name:         "Document Approval",
		States:       []string{"submitted", "under_review", "approved", "rejected", "published"},
		InitialState: "submitted",
		Activities: []Activity{
			{
				ID:         "start_review",
				FromStates: []string{"submitted"},
				ToState:    "under_review",
				AgentConfig: &AgentConfig{
					LLMProvider:  "openai",
					Model:        "gpt-4",
					SystemPrompt: "Review document for compliance and quality",
				},
			},
			{
				ID:         "approve_document",
				FromStates: []string{"under_review"},
				ToState:    "approved",
				Conditions: []rules.Condition{{Field: "score", Operator: "greater_than", Value: float64(8)}},
			},
		},
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSeedExamples(t *testing.T) {
	for _, name := range []string{"document_approval.json", "document_approval.yaml"} {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(readTestdata(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(documentApproval(), got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAllFields(t *testing.T) {
	const doc = `
id: wf-1
name: Full
description: every field
version: 3
states: [a, b]
initialState: a
terminalStates: [b]
activities:
  - id: go
    name: Go
    description: a to b
    fromStates: [a]
    toState: b
    conditions:
      - group: either
        combinator: OR
        conditions:
          - {field: x, operator: in, value: [1, "two"]}
          - {field: present, operator: exists}
    agentConfig:
      agentId: agent-7
      model: m
      llmProvider: p
      systemPrompt: s
      temperature: 0.5
      maxTokens: 100
      auto: true
      outputKey: review
    retry: {maxAttempts: 3, backoffSeconds: 1.5, maxBackoffSeconds: 10}
    timeoutSeconds: 30
`
	temp, maxTok := 0.5, 100
	want := Definition{
		ID: "wf-1", Name: "Full", Description: "every field", Version: 3,
		States: []string{"a", "b"}, InitialState: "a", TerminalStates: []string{"b"},
		Activities: []Activity{{
			ID: "go", Name: "Go", Description: "a to b",
			FromStates: []string{"a"}, ToState: "b",
			Conditions: []rules.Condition{{
				Group: "either", Combinator: "OR",
				Conditions: []rules.Condition{
					{Field: "x", Operator: "in", Value: []any{float64(1), "two"}},
					{Field: "present", Operator: "exists"},
				},
			}},
			AgentConfig: &AgentConfig{
				AgentID: "agent-7", Model: "m", LLMProvider: "p", SystemPrompt: "s",
				Temperature: &temp, MaxTokens: &maxTok, Auto: true, OutputKey: "review",
			},
			Retry:          &RetryPolicy{MaxAttempts: 3, BackoffSeconds: 1.5, MaxBackoffSeconds: 10},
			TimeoutSeconds: 30,
		}},
	}
	got, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
	if _, err := Compile(got); err != nil {
		t.Errorf("Compile: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
		// problems reports whether the error is a *ValidationError.
		problems bool
	}{
		{
			name:     "unknown top-level field",
			doc:      `{"name": "x", "statez": ["a"]}`,
			want:     `statez: unknown field`,
			problems: true,
		},
		{
			name:     "field names are case-sensitive",
			doc:      `{"name": "x", "InitialState": "a"}`,
			want:     `InitialState: unknown field`,
			problems: true,
		},
		{
			name:     "unknown nested fields, all reported",
			doc:      `{"name": "x", "activities": [{"id": "a", "agentConfig": {"modle": "m"}}, {"id": "b", "retry": {"attempts": 2}}]}`,
			want:     `activities[0].agentConfig.modle: unknown field; activities[1].retry.attempts: unknown field`,
			problems: true,
		},
		{
			name:     "unknown field in a nested condition",
			doc:      `{"activities": [{"conditions": [{"conditions": [{"feild": "x"}]}]}]}`,
			want:     `activities[0].conditions[0].conditions[0].feild: unknown field`,
			problems: true,
		},
		{
			name:     "unknown field in YAML",
			doc:      "name: x\nstates: [a]\ninitalState: a\n",
			want:     `initalState: unknown field`,
			problems: true,
		},
		{
			name:     "string for integer",
			doc:      `{"version": "1"}`,
			want:     `version: expected integer, got string`,
			problems: true,
		},
		{
			name:     "fraction for integer",
			doc:      `{"activities": [{"timeoutSeconds": 1.5}]}`,
			want:     `activities[0].timeoutSeconds: expected integer, got 1.5`,
			problems: true,
		},
		{
			name:     "integer overflow",
			doc:      `{"version": 99999999999999999999}`,
			want:     `version: expected integer, got 99999999999999999999`,
			problems: true,
		},
		{
			name:     "float out of range",
			doc:      `{"activities": [{"retry": {"backoffSeconds": 1e999}}]}`,
			want:     `activities[0].retry.backoffSeconds: number 1e999 out of range`,
			problems: true,
		},
		{
			name:     "string for array",
			doc:      `{"states": "a"}`,
			want:     `states: expected array, got string`,
			problems: true,
		},
		{
			name:     "number for string",
			doc:      `{"states": ["a", 2]}`,
			want:     `states[1]: expected string, got number`,
			problems: true,
		},
		{
			name:     "string for boolean",
			doc:      `{"activities": [{"agentConfig": {"auto": "yes"}}]}`,
			want:     `activities[0].agentConfig.auto: expected boolean, got string`,
			problems: true,
		},
		{
			name:     "array for object",
			doc:      `{"activities": [[]]}`,
			want:     `activities[0]: expected object, got array`,
			problems: true,
		},
		{
			name:     "not an object",
			doc:      `[1, 2]`,
			want:     `expected object, got array`,
			problems: true,
		},
		{
			name: "empty",
			doc:  "  \n",
			want: `parse workflow definition: empty document`,
		},
		{
			name: "null",
			doc:  "null",
			want: `parse workflow definition: empty document`,
		},
		{
			name: "trailing data",
			doc:  `{"name": "a"} {}`,
			want: `parse workflow definition: unexpected data after the definition`,
		},
		{
			name: "too large",
			doc:  "#" + strings.Repeat(" ", MaxDefinitionBytes),
			want: `parse workflow definition: 4194305 bytes exceeds the limit of 4194304`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
			var ve *ValidationError
			if got := errors.As(err, &ve); got != tt.problems {
				t.Errorf("errors.As(*ValidationError) = %v, want %v", got, tt.problems)
			}
		})
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	for _, doc := range []string{`{"name": `, "name: [unclosed\n", "a: b: c"} {
		_, err := Parse([]byte(doc))
		if err == nil || !strings.HasPrefix(err.Error(), "parse workflow definition: ") {
			t.Errorf("Parse(%q) = %v, want a parse workflow definition error", doc, err)
		}
	}
}
