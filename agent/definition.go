package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Defaults of a Definition.
const (
	// DefaultMaxSteps is the step limit when MaxSteps is 0.
	DefaultMaxSteps = 10
	// DefaultTimeoutSeconds is the run timeout when TimeoutSeconds is 0.
	DefaultTimeoutSeconds = 300
	// DefaultHTTPTimeoutSeconds bounds an HTTP tool call whose
	// TimeoutSeconds is 0.
	DefaultHTTPTimeoutSeconds = 30
)

// Tool kinds.
const (
	KindBuiltin  = "builtin"
	KindHTTP     = "http"
	KindMCP      = "mcp"      // reserved: tools of MCP servers
	KindFunction = "function" // reserved: functions run in containers
	// KindClient is a tool the caller runs: when the model calls it, the
	// run waits (holding no compute) until the caller answers with the
	// result (answerAgentRun). A tool declared with only a name and a
	// description, as in the seed's addTool('database_lookup', …), is one.
	KindClient = "client"
)

// Definition is an agent: the model it calls, how, and with which tools.
// Model may be a catalogue model ("gpt-4o"), "deployment/model" or a
// virtual model; Provider, when set, pins a deployment, and the model the
// router is asked for becomes "<provider>/<model>" (RouterModel).
type Definition struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Description  string   `json:"description,omitempty"`
	Role         string   `json:"role,omitempty"`
	Type         string   `json:"type,omitempty"`
	Provider     string   `json:"provider,omitempty"`
	Model        string   `json:"model"`
	SystemPrompt string   `json:"systemPrompt,omitempty"`
	Temperature  *float64 `json:"temperature,omitempty"`
	// MaxTokens is the output limit of each model call; 0 leaves it to
	// the provider.
	MaxTokens int    `json:"maxTokens,omitempty"`
	Tools     []Tool `json:"tools,omitempty"`
	// OutputSchema is the JSON Schema the final answer must match; empty
	// for free text.
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	// MaxSteps bounds the model calls of a run (default DefaultMaxSteps).
	MaxSteps int `json:"maxSteps,omitempty"`
	// TimeoutSeconds bounds a run (default DefaultTimeoutSeconds).
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
	// Version, CreatedAt and UpdatedAt are set by the store.
	Version   int       `json:"version,omitempty"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// Tool is a tool an agent may call. Kind is "builtin" (Name is one of the
// built-in tools), "http" (HTTP describes the endpoint), or one of the
// reserved kinds "mcp" and "function". Parameters is the JSON Schema of the
// arguments object; empty means any object (built-ins have their own).
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Kind        string          `json:"kind"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	HTTP        *HTTPTool       `json:"http,omitempty"`
}

// HTTPTool is an HTTP endpoint that serves a tool: the arguments are sent
// as the JSON body (Method default POST) and the response body is the
// result; a non-2xx status is a tool error reported to the model.
type HTTPTool struct {
	URL            string            `json:"url"`
	Method         string            `json:"method,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	TimeoutSeconds int               `json:"timeoutSeconds,omitempty"`
}

// Parse decodes a definition from JSON, rejecting unknown fields and
// trailing data, and normalises it. It does not validate: call Validate.
func Parse(data []byte) (Definition, error) {
	var d Definition
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Definition{}, fmt.Errorf("agent definition: %w", err)
	}
	if dec.More() {
		return Definition{}, fmt.Errorf("agent definition: trailing data after the object")
	}
	return Normalize(d), nil
}

// Normalize fills in defaults: the step limit, the timeout, tool kinds
// (builtin for a built-in name, http when HTTP is set) and HTTP methods
// (POST). Names and text are trimmed of surrounding space. It does not
// change d's slices.
func Normalize(d Definition) Definition {
	d.Name = strings.TrimSpace(d.Name)
	d.Model = strings.TrimSpace(d.Model)
	d.Provider = strings.TrimSpace(d.Provider)
	if d.MaxSteps == 0 {
		d.MaxSteps = DefaultMaxSteps
	}
	if d.TimeoutSeconds == 0 {
		d.TimeoutSeconds = DefaultTimeoutSeconds
	}
	if len(bytes.TrimSpace(d.OutputSchema)) == 0 || string(bytes.TrimSpace(d.OutputSchema)) == "null" {
		d.OutputSchema = nil
	} else {
		d.OutputSchema = compact(d.OutputSchema)
	}
	if d.Tools != nil {
		tools := make([]Tool, len(d.Tools))
		for i, t := range d.Tools {
			t.Name = strings.TrimSpace(t.Name)
			if t.Kind == "" {
				switch {
				case IsBuiltin(t.Name) && t.HTTP == nil:
					t.Kind = KindBuiltin
				case t.HTTP != nil:
					t.Kind = KindHTTP
				default:
					t.Kind = KindClient
				}
			}
			if len(bytes.TrimSpace(t.Parameters)) == 0 || string(bytes.TrimSpace(t.Parameters)) == "null" {
				t.Parameters = nil
			} else {
				t.Parameters = compact(t.Parameters)
			}
			if t.HTTP != nil {
				h := *t.HTTP
				h.Method = strings.ToUpper(strings.TrimSpace(h.Method))
				if h.Method == "" {
					h.Method = "POST"
				}
				t.HTTP = &h
			}
			tools[i] = t
		}
		d.Tools = tools
	}
	return d
}

// compact returns JSON without insignificant space, or b itself when it is
// not valid JSON (Validate reports that).
func compact(b json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

// RouterModel is the model the router is asked for: Model, or
// "<Provider>/<Model>" when Provider pins a deployment and Model does not
// name it already.
func (d Definition) RouterModel() string {
	if d.Provider == "" || strings.HasPrefix(d.Model, d.Provider+"/") {
		return d.Model
	}
	return d.Provider + "/" + d.Model
}

// Timeout is the run timeout.
func (d Definition) Timeout() time.Duration {
	s := d.TimeoutSeconds
	if s <= 0 {
		s = DefaultTimeoutSeconds
	}
	return time.Duration(s) * time.Second
}

// Tool returns the tool named name.
func (d Definition) Tool(name string) (Tool, bool) {
	for _, t := range d.Tools {
		if t.Name == name {
			return t, true
		}
	}
	return Tool{}, false
}

// Same reports whether a and b define the same agent, ignoring their
// version and times. Both are normalised first.
func Same(a, b Definition) bool {
	a, b = Normalize(a), Normalize(b)
	a.Version, b.Version = 0, 0
	a.CreatedAt, b.CreatedAt = time.Time{}, time.Time{}
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// Slug turns a name into an id: lower-case letters and digits, other runs
// of characters become one '-', at most 64 characters; "agent" when
// nothing is left.
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 64 {
			break
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	if s == "" {
		return "agent"
	}
	return s
}
