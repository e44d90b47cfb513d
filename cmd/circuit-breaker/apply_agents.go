package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/circuit-breaker/circuit-breaker/agent"
)

// applyFile applies a definition file: a workflow, agents and a workflow,
// or one agent (see apply's help). lookup reads the environment for
// ${VAR} in HTTP tools.
func applyFile(ctx context.Context, cl *clientFlags, base, name string, body []byte, lookup func(string) (string, bool), stdout io.Writer) error {
	doc, err := parseDoc(body, lookup)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if doc.workflowOnly {
		ctype := "application/yaml"
		if strings.ToLower(filepath.Ext(name)) == ".json" {
			ctype = "application/json"
		}
		return applyWorkflow(ctx, cl, base, name, body, ctype, stdout)
	}
	for i, d := range doc.agents {
		if err := applyAgent(ctx, cl, base, d, stdout); err != nil {
			return fmt.Errorf("%s: agents[%d] (%s) rejected: %w", name, i, d.ID, err)
		}
	}
	if doc.workflow != nil {
		return applyWorkflow(ctx, cl, base, name+" (workflow)", doc.workflow, "application/json", stdout)
	}
	return nil
}

// doc is a parsed definition file.
type doc struct {
	// workflowOnly: the file is a workflow definition, sent as it is.
	workflowOnly bool
	// agents are validated, with their ids and ${VAR}s resolved.
	agents []agent.Definition
	// workflow is the bundle's workflow as JSON; nil when it has none.
	workflow json.RawMessage
}

// bundle is a file of agents and a workflow.
type bundle struct {
	Agents   []json.RawMessage `json:"agents"`
	Workflow json.RawMessage   `json:"workflow"`
}

// parseDoc tells the kinds of file apart and checks the agents: every
// problem of every agent is reported at once, before anything is sent.
// A file that is neither agents nor valid YAML is taken for a workflow, so
// that the server names its problems.
func parseDoc(body []byte, lookup func(string) (string, bool)) (doc, error) {
	js, err := yaml.YAMLToJSON(body)
	if err != nil {
		return doc{workflowOnly: true}, nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(js, &top) != nil {
		return doc{workflowOnly: true}, nil
	}
	var raws []json.RawMessage
	var d doc
	switch {
	case top["agents"] != nil || top["workflow"] != nil:
		var b bundle
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			return doc{}, fmt.Errorf("a file of agents has only the keys agents (a list of agent definitions) and workflow (a workflow definition): %w", err)
		}
		raws = b.Agents
		if w := bytes.TrimSpace(b.Workflow); len(w) > 0 && string(w) != "null" {
			d.workflow = b.Workflow
		}
	case isKind(top["kind"], "agent"):
		delete(top, "kind")
		one, err := json.Marshal(top)
		if err != nil {
			return doc{}, err
		}
		raws = []json.RawMessage{one}
	default:
		return doc{workflowOnly: true}, nil
	}
	var probs []string
	seen := map[string]bool{}
	for i, raw := range raws {
		path := fmt.Sprintf("agents[%d]", i)
		if len(raws) == 1 && d.workflow == nil && top["agents"] == nil {
			path = "agent"
		}
		a, err := agent.Parse(raw)
		if err != nil {
			probs = append(probs, path+": "+err.Error())
			continue
		}
		if a.ID == "" {
			a.ID = agent.Slug(a.Name)
		}
		if err := expandTools(&a, lookup); err != nil {
			probs = append(probs, path+"."+err.Error())
		}
		var verr *agent.ValidationError
		if err := agent.Validate(a); errors.As(err, &verr) {
			for _, p := range verr.Problems {
				probs = append(probs, path+"."+p.Path+": "+p.Msg)
			}
		} else if err != nil {
			probs = append(probs, path+": "+err.Error())
		}
		if seen[a.ID] {
			probs = append(probs, fmt.Sprintf("%s.id: %q is used by another agent of the file", path, a.ID))
		}
		seen[a.ID] = true
		d.agents = append(d.agents, a)
	}
	if len(probs) > 0 {
		return doc{}, fmt.Errorf("invalid agents:\n  %s", strings.Join(probs, "\n  "))
	}
	return d, nil
}

func isKind(raw json.RawMessage, want string) bool {
	var s string
	return raw != nil && json.Unmarshal(raw, &s) == nil && strings.EqualFold(s, want)
}

// expandTools replaces ${VAR} in the URLs and header values of a's HTTP
// tools. The error names the field.
func expandTools(a *agent.Definition, lookup func(string) (string, bool)) error {
	var probs []string
	for i, t := range a.Tools {
		if t.HTTP == nil {
			continue
		}
		h := *t.HTTP
		var err error
		if h.URL, err = expandVars(h.URL, lookup); err != nil {
			probs = append(probs, fmt.Sprintf("tools[%d].http.url: %v", i, err))
		}
		if len(h.Headers) > 0 {
			hs := make(map[string]string, len(h.Headers))
			for k, v := range h.Headers {
				if hs[k], err = expandVars(v, lookup); err != nil {
					probs = append(probs, fmt.Sprintf("tools[%d].http.headers.%s: %v", i, k, err))
				}
			}
			h.Headers = hs
		}
		a.Tools[i].HTTP = &h
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	return nil
}

// expandVars replaces ${NAME} with the variable's value and ${NAME:-word}
// with its value when it is set and not empty, else word. A "$" not
// followed by "{" is kept. An unset variable without a default, an
// unterminated "${" or a bad name is an error.
func expandVars(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated %q", s[i:])
		}
		expr := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validVarName(name) {
			return "", fmt.Errorf("bad variable name in ${%s}", expr)
		}
		v, ok := lookup(name)
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			return "", fmt.Errorf("${%s} is not set", name)
		}
		s = s[i+end+1:]
	}
}

func validVarName(n string) bool {
	if n == "" {
		return false
	}
	for i, r := range n {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// agentFields are the Agent fields apply reads back.
const agentFields = `id version`

// applyAgent creates agent d, or stores it as the next version of the
// agent with its id, and prints one line about it.
func applyAgent(ctx context.Context, cl *clientFlags, base string, d agent.Definition, stdout io.Writer) error {
	type ver struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}
	var got struct {
		Agent *ver `json:"agent"`
	}
	err := graphql(ctx, cl, base, `query($id: ID!) { agent(id: $id) { `+agentFields+` } }`,
		map[string]any{"id": d.ID}, &got)
	var gerr *gqlErrors
	switch {
	case errors.As(err, &gerr) && gerr.only("NOT_FOUND"):
		got.Agent = nil
	case err != nil:
		return err
	}
	in := agentInput(d)
	var out struct {
		Created *ver `json:"createAgent"`
		Updated *ver `json:"updateAgent"`
	}
	verb, prev := "created", 0
	if got.Agent == nil {
		if err := graphql(ctx, cl, base, `mutation($in: AgentInput!) { createAgent(input: $in) { `+agentFields+` } }`,
			map[string]any{"in": in}, &out); err != nil {
			return err
		}
	} else {
		verb, prev = "updated", got.Agent.Version
		if err := graphql(ctx, cl, base, `mutation($id: ID!, $in: AgentInput!) { updateAgent(id: $id, input: $in) { `+agentFields+` } }`,
			map[string]any{"id": d.ID, "in": in}, &out); err != nil {
			return err
		}
	}
	a := out.Created
	if a == nil {
		a = out.Updated
	}
	if a == nil {
		return errors.New("the server answered without the agent")
	}
	if a.Version == prev {
		verb = "unchanged"
	}
	fmt.Fprintf(stdout, "agent %s version %d %s\n", a.ID, a.Version, verb)
	return nil
}

// agentInput is d as the GraphQL AgentInput.
func agentInput(d agent.Definition) map[string]any {
	in := map[string]any{"id": d.ID, "name": d.Name, "model": d.Model,
		"maxSteps": d.MaxSteps, "timeoutSeconds": d.TimeoutSeconds}
	for k, v := range map[string]string{"description": d.Description, "role": d.Role, "type": d.Type,
		"llmProvider": d.Provider, "systemPrompt": d.SystemPrompt} {
		if v != "" {
			in[k] = v
		}
	}
	if d.Temperature != nil {
		in["temperature"] = *d.Temperature
	}
	if d.MaxTokens > 0 {
		in["maxTokens"] = d.MaxTokens
	}
	if len(d.OutputSchema) > 0 {
		in["outputSchema"] = d.OutputSchema
	}
	tools := make([]map[string]any, 0, len(d.Tools))
	for _, t := range d.Tools {
		m := map[string]any{"name": t.Name, "type": t.Kind}
		if t.Description != "" {
			m["description"] = t.Description
		}
		if len(t.Parameters) > 0 {
			m["parameters"] = t.Parameters
		}
		if h := t.HTTP; h != nil {
			m["url"], m["method"] = h.URL, h.Method
			if len(h.Headers) > 0 {
				m["headers"] = h.Headers
			}
			if h.TimeoutSeconds > 0 {
				m["timeoutSeconds"] = h.TimeoutSeconds
			}
		}
		tools = append(tools, m)
	}
	in["tools"] = tools
	return in
}

// gqlProblem is a problem of a GraphQL error's extensions.
type gqlProblem struct {
	Path string `json:"path"`
	Msg  string `json:"msg"`
}

// gqlErrors are the errors of a GraphQL answer.
type gqlErrors struct {
	codes []string // one per error; "" when it has none
	msg   string
}

func (e *gqlErrors) Error() string { return e.msg }

// only reports whether every error has the code.
func (e *gqlErrors) only(code string) bool {
	for _, c := range e.codes {
		if c != code {
			return false
		}
	}
	return len(e.codes) > 0
}

// graphql runs one GraphQL operation on the server and decodes its data
// into out. GraphQL errors are returned with their codes and problems,
// one per line.
func graphql(ctx context.Context, cl *clientFlags, base, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return usageErr("--server: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	cl.header(req)
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		return apiError(res)
	}
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code     string       `json:"code"`
				Problems []gqlProblem `json:"problems"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		return fmt.Errorf("reading the server's answer (%s): %w", res.Status, err)
	}
	if len(resp.Errors) > 0 {
		var sb strings.Builder
		ge := &gqlErrors{}
		for i, e := range resp.Errors {
			if i > 0 {
				sb.WriteString("\n")
			}
			if e.Extensions.Code != "" {
				fmt.Fprintf(&sb, "%s: ", e.Extensions.Code)
			}
			ge.codes = append(ge.codes, e.Extensions.Code)
			sb.WriteString(e.Message)
			for _, p := range e.Extensions.Problems {
				fmt.Fprintf(&sb, "\n  %s: %s", p.Path, p.Msg)
			}
		}
		ge.msg = sb.String()
		return ge
	}
	if out != nil && len(resp.Data) > 0 {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return fmt.Errorf("reading the server's answer: %w", err)
		}
	}
	return nil
}
