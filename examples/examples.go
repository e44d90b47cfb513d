// Package examples holds the example workflows and agents of the README —
// the seed's Document Processor, Content Creation Pipeline, Content
// Moderation and E-commerce Order Processing, and the older Document
// Approval workflow — as files that `circuit-breaker apply -f` takes, and
// what it takes to run them without a provider or the network:
//
//   - Files: the example files, embedded (the same bytes as examples/*.yaml).
//   - Tools: the HTTP endpoints the examples' agents call as tools, with
//     canned, deterministic answers.
//   - Scenario: for each example, the input of one resource, the model
//     replies the provider simulator is scripted with, the human answers
//     and the activities fired by hand, and the state the resource ends in.
//   - ServerConfig: a server configuration whose LLM deployments (openai
//     and anthropic) point at a simulator.
//   - Play: plays a scenario against a running server and reports every
//     event of the resource and of its agent runs as it happens.
//
// `circuit-breaker demo` (and `make demo`) puts these together; the
// end-to-end tests play every scenario against the real binary so that
// the examples cannot rot.
//
// An example file holds agent definitions (agents, in the shape of package
// agent) and a workflow (workflow, in the shape of package workflow), or a
// workflow only. HTTP tool URLs contain ${EXAMPLE_TOOLS_URL:-default},
// which apply expands from its environment.
package examples

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Files returns the example files, by name ("content-creation.yaml").
func Files() fs.FS { return files }

// ToolsURLVar is the variable that example files use for the address of
// the tool server: ${EXAMPLE_TOOLS_URL:-DefaultToolsURL}.
const ToolsURLVar = "EXAMPLE_TOOLS_URL"

// DefaultToolsURL is where the example files expect the tool server when
// EXAMPLE_TOOLS_URL is not set (circuit-breaker demo --serve-tools listens
// there by default).
const DefaultToolsURL = "http://127.0.0.1:4011"

// Example is one example: its file, what it shows and how to play it.
type Example struct {
	// Name is the file's name without .yaml, e.g. "content-creation".
	Name string
	// Title is the seed's name of the example.
	Title string
	// Shows is one line on what the example demonstrates.
	Shows string
	// WorkflowID is the id of the file's workflow.
	WorkflowID string
	Scenario   Scenario
}

// File is the example's file name, e.g. "content-creation.yaml".
func (e Example) File() string { return e.Name + ".yaml" }

// Source returns the example file's bytes.
func (e Example) Source() ([]byte, error) {
	b, err := files.ReadFile(e.File())
	if err != nil {
		return nil, fmt.Errorf("example %s: %w", e.Name, err)
	}
	return b, nil
}

// DefaultExample is the example `circuit-breaker demo` runs by default.
const DefaultExample = "content-creation"

// All returns every example, sorted by name.
func All() []Example {
	out := make([]Example, 0, len(catalog))
	for _, e := range catalog {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the example called name (with or without .yaml).
func Lookup(name string) (Example, error) {
	name = strings.TrimSuffix(name, ".yaml")
	if e, ok := catalog[name]; ok {
		return e, nil
	}
	names := make([]string, 0, len(catalog))
	for _, e := range All() {
		names = append(names, e.Name)
	}
	return Example{}, fmt.Errorf("no example %q; the examples are %s", name, strings.Join(names, ", "))
}

// catalog lists the examples by name; scenarios.go holds their scenarios.
var catalog = map[string]Example{
	"content-creation": {Name: "content-creation", Title: "Content Creation Pipeline", WorkflowID: "content-creation",
		Shows:    "a multi-agent pipeline (research → write → review) with HTTP tools, rules on the review, a revision loop and a human editor",
		Scenario: contentCreation},
	"document-processor": {Name: "document-processor", Title: "Document Processor", WorkflowID: "document-processor",
		Shows:    "an inline agentConfig (provider, model, temperature, max tokens) and an agent with a JSON output schema",
		Scenario: documentProcessor},
	"content-moderation": {Name: "content-moderation", Title: "Content Moderation", WorkflowID: "content-moderation",
		Shows:    "rules on an agent's score, parallel tool calls and an agent that escalates to a human (escalate_to_human)",
		Scenario: contentModeration},
	"order-processing": {Name: "order-processing", Title: "E-commerce Order Processing", WorkflowID: "order-processing",
		Shows:    "fraud and inventory agents with tools, the seed's routing rules and a manager's review with a timeout",
		Scenario: orderProcessing},
	"document-approval": {Name: "document-approval", Title: "Document Approval", WorkflowID: "document-approval",
		Shows:    "a workflow-only file: an activity fired by hand runs an inline agent; a rule on the score approves",
		Scenario: documentApproval},
}
