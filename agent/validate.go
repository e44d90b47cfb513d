package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Limits of a definition.
const (
	MaxNameLen         = 200
	MaxIDLen           = 128
	MaxTextLen         = 1000 // role, type, description
	MaxSystemPromptLen = 200_000
	MaxTools           = 128
	MaxStepsLimit      = 1000
	MaxTimeoutSeconds  = 7 * 24 * 3600
	MaxOutputTokens    = 1_000_000
	MaxSchemaLen       = 100_000
)

// Problem is one thing wrong with a definition. Path names the field
// ("tools[1].http.url").
type Problem struct {
	Path string `json:"path"`
	Msg  string `json:"message"`
}

// ValidationError lists every problem of a definition.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid agent: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Path)
		b.WriteByte(' ')
		b.WriteString(p.Msg)
	}
	return b.String()
}

// Validate checks a normalised definition and reports every problem at
// once as a *ValidationError. Its ID may be empty (the store picks one).
func Validate(d Definition) error {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if d.ID != "" && !ValidID(d.ID) {
		add("id", "must be 1-%d letters, digits, '-' or '_'", MaxIDLen)
	}
	switch {
	case strings.TrimSpace(d.Name) == "":
		add("name", "is required")
	case len(d.Name) > MaxNameLen:
		add("name", "is longer than %d bytes", MaxNameLen)
	}
	for _, f := range []struct{ path, v string }{{"role", d.Role}, {"type", d.Type}, {"description", d.Description}} {
		if len(f.v) > MaxTextLen {
			add(f.path, "is longer than %d bytes", MaxTextLen)
		}
	}
	switch {
	case strings.TrimSpace(d.Model) == "":
		add("model", "is required")
	case len(d.Model) > MaxNameLen || strings.ContainsAny(d.Model, " \t\r\n"):
		add("model", "must be a model name without spaces, at most %d bytes", MaxNameLen)
	}
	if strings.ContainsAny(d.Provider, "/ \t\r\n") || len(d.Provider) > MaxNameLen {
		add("provider", "must be a deployment name without '/' or spaces")
	}
	if len(d.SystemPrompt) > MaxSystemPromptLen {
		add("systemPrompt", "is longer than %d bytes", MaxSystemPromptLen)
	}
	if t := d.Temperature; t != nil && (*t < 0 || *t > 2 || *t != *t) {
		add("temperature", "must be between 0 and 2")
	}
	if d.MaxTokens < 0 || d.MaxTokens > MaxOutputTokens {
		add("maxTokens", "must be between 0 and %d", MaxOutputTokens)
	}
	if d.MaxSteps < 1 || d.MaxSteps > MaxStepsLimit {
		add("maxSteps", "must be between 1 and %d", MaxStepsLimit)
	}
	if d.TimeoutSeconds < 1 || d.TimeoutSeconds > MaxTimeoutSeconds {
		add("timeoutSeconds", "must be between 1 and %d", MaxTimeoutSeconds)
	}
	if len(d.OutputSchema) > 0 {
		switch {
		case len(d.OutputSchema) > MaxSchemaLen:
			add("outputSchema", "is longer than %d bytes", MaxSchemaLen)
		default:
			if _, err := CompileSchema(d.OutputSchema); err != nil {
				add("outputSchema", "is not a valid JSON Schema: %v", err)
			}
		}
	}
	if len(d.Tools) > MaxTools {
		add("tools", "has more than %d tools", MaxTools)
	}
	seen := map[string]bool{}
	for i, t := range d.Tools {
		ps = append(ps, validateTool(fmt.Sprintf("tools[%d]", i), t, seen)...)
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

func validateTool(path string, t Tool, seen map[string]bool) []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Path: path + field, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case t.Name == "":
		add(".name", "is required")
	case !validToolName(t.Name):
		add(".name", "must be 1-64 letters, digits, '_' or '-'")
	case seen[t.Name]:
		add(".name", "%q is declared twice", t.Name)
	}
	seen[t.Name] = true
	if len(t.Description) > MaxTextLen*4 {
		add(".description", "is longer than %d bytes", MaxTextLen*4)
	}
	if len(t.Parameters) > 0 {
		if len(t.Parameters) > MaxSchemaLen {
			add(".parameters", "is longer than %d bytes", MaxSchemaLen)
		} else if !isObject(t.Parameters) {
			add(".parameters", "must be a JSON Schema object")
		} else if _, err := CompileSchema(t.Parameters); err != nil {
			add(".parameters", "is not a valid JSON Schema: %v", err)
		}
	}
	switch t.Kind {
	case KindBuiltin:
		if !IsBuiltin(t.Name) && t.Name != "" {
			add(".name", "is not a built-in tool (one of %s)", strings.Join(Builtins(), ", "))
		}
		if t.HTTP != nil {
			add(".http", "is only for tools of kind http")
		}
	case KindHTTP:
		if t.HTTP == nil {
			add(".http", "is required for kind http")
			break
		}
		u, err := url.Parse(t.HTTP.URL)
		switch {
		case t.HTTP.URL == "":
			add(".http.url", "is required")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			add(".http.url", "must be an absolute http or https URL")
		}
		switch t.HTTP.Method {
		case "POST", "PUT", "PATCH":
		default:
			add(".http.method", "must be POST, PUT or PATCH")
		}
		for k := range t.HTTP.Headers {
			if k == "" || strings.ContainsAny(k, " \t\r\n:") {
				add(".http.headers", "has an invalid header name %q", k)
			}
		}
		for k, v := range t.HTTP.Headers {
			if strings.ContainsAny(v, "\r\n") {
				add(".http.headers", "value of %q contains a line break", k)
			}
		}
		if t.HTTP.TimeoutSeconds < 0 || t.HTTP.TimeoutSeconds > 3600 {
			add(".http.timeoutSeconds", "must be between 0 and 3600")
		}
	case KindClient:
		if t.HTTP != nil {
			add(".http", "is only for tools of kind http")
		}
	case KindMCP, KindFunction:
		// Served by tool kinds that other packages register.
	case "":
		add(".kind", "is required (builtin, http, client, mcp or function)")
	default:
		add(".kind", "must be builtin, http, client, mcp or function, not %q", t.Kind)
	}
	return ps
}

// ValidID reports whether id may name an agent or a run: 1-128 letters,
// digits, '-' or '_'.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validToolName(n string) bool {
	if len(n) > 64 {
		return false
	}
	return ValidID(n)
}

func isObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
