package gql

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/api/apierr"
)

// agentInput mirrors the schema's AgentInput; graphql-go fills it.
type agentInput struct {
	ID             *graphql.ID
	Name           string
	Description    *string
	Role           *string
	Type           *string
	LlmProvider    *string
	Provider       *string
	Model          *string
	SystemPrompt   *string
	Temperature    *float64
	MaxTokens      *int32
	Tools          *[]agentToolInput
	OutputSchema   *JSON
	MaxSteps       *int32
	TimeoutSeconds *int32
}

// agentToolInput mirrors the schema's AgentToolInput. The HTTP fields are
// flat in the input and nested (agent.HTTPTool) in the definition.
type agentToolInput struct {
	Name           string
	Description    *string
	Type           *string
	Parameters     *JSON
	URL            *string
	Method         *string
	Headers        *JSON
	TimeoutSeconds *int32
}

// definition turns the input into an agent definition (not normalised nor
// validated: the Agents service does both). It reports, all at once, the
// problems only the input's shape can have: JSON arguments that are not
// objects, header values that are not strings, llmProvider and provider
// that disagree. A tool without a type is left to agent.Normalize (http
// when it has a URL, builtin for a built-in name, else client).
func (in *agentInput) definition() (agent.Definition, error) {
	var probs []Problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	d := agent.Definition{
		Name: in.Name, Description: deref(in.Description), Role: deref(in.Role), Type: deref(in.Type),
		Model: deref(in.Model), SystemPrompt: deref(in.SystemPrompt), Temperature: in.Temperature,
	}
	if in.ID != nil {
		d.ID = string(*in.ID)
	}
	switch lp, p := deref(in.LlmProvider), deref(in.Provider); {
	case lp != "" && p != "" && lp != p:
		bad("input.provider", "conflicts with input.llmProvider (%q, %q): give one of them", p, lp)
	case lp != "":
		d.Provider = lp
	default:
		d.Provider = p
	}
	d.MaxTokens = intOf(in.MaxTokens)
	d.MaxSteps = intOf(in.MaxSteps)
	d.TimeoutSeconds = intOf(in.TimeoutSeconds)
	if in.OutputSchema != nil && in.OutputSchema.V != nil {
		if b, ok := jsonObject(in.OutputSchema); ok {
			d.OutputSchema = b
		} else {
			bad("input.outputSchema", "must be a JSON Schema object")
		}
	}
	if in.Tools != nil {
		for i, t := range *in.Tools {
			path := fmt.Sprintf("input.tools[%d]", i)
			tool := agent.Tool{Name: t.Name, Description: deref(t.Description), Kind: strings.ToLower(deref(t.Type))}
			if t.Parameters != nil && t.Parameters.V != nil {
				if b, ok := jsonObject(t.Parameters); ok {
					tool.Parameters = b
				} else {
					bad(path+".parameters", "must be a JSON Schema object")
				}
			}
			if t.URL != nil || t.Method != nil || t.Headers != nil || t.TimeoutSeconds != nil {
				h := &agent.HTTPTool{URL: deref(t.URL), Method: deref(t.Method), TimeoutSeconds: intOf(t.TimeoutSeconds)}
				if t.Headers != nil && t.Headers.V != nil {
					m, ok := t.Headers.V.(map[string]any)
					if !ok {
						bad(path+".headers", "must be an object of strings")
					}
					for _, k := range slices.Sorted(maps.Keys(m)) {
						s, ok := m[k].(string)
						if !ok {
							bad(path+".headers."+k, "must be a string")
							continue
						}
						if h.Headers == nil {
							h.Headers = map[string]string{}
						}
						h.Headers[k] = s
					}
				}
				tool.HTTP = h
			}
			d.Tools = append(d.Tools, tool)
		}
	}
	if len(probs) > 0 {
		msgs := make([]string, len(probs))
		for i, p := range probs {
			msgs[i] = p.Path + ": " + p.Msg
		}
		return d, &Error{Code: apierr.CodeValidation, Msg: "invalid agent definition: " + strings.Join(msgs, "; "), Problems: probs}
	}
	return d, nil
}

// agentPath turns the path of a definition's field (agent.Validate's) into
// the path of the input field it came from: "tools[1].http.url" is
// "input.tools[1].url", "tools[0].kind" is "input.tools[0].type", and
// "provider" names whichever of llmProvider and provider the input set.
func agentPath(in *agentInput, path string) string {
	if path == "provider" && in != nil && deref(in.LlmProvider) != "" {
		path = "llmProvider"
	}
	if i := strings.Index(path, "]."); strings.HasPrefix(path, "tools[") && i > 0 {
		head, field := path[:i+1], path[i+2:]
		switch {
		case field == "kind":
			field = "type"
		case field == "http":
			field = "url" // "http is required for kind http": the URL is missing
		case strings.HasPrefix(field, "http."):
			field = strings.TrimPrefix(field, "http.")
		}
		path = head + "." + field
	}
	return join("input", path)
}

// jsonObject encodes j when it is a JSON object.
func jsonObject(j *JSON) (json.RawMessage, bool) {
	if _, ok := j.V.(map[string]any); !ok {
		return nil, false
	}
	b, err := json.Marshal(j.V)
	return b, err == nil
}

func intOf(n *int32) int {
	if n == nil {
		return 0
	}
	return int(*n)
}
