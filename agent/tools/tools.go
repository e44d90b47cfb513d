// Package tools runs the tools of agents: the Tool interface, a Registry
// that turns a tool's definition (agent.Tool) into a Tool by its kind, the
// built-in tools (get_agent_output, send_agent_feedback,
// escalate_to_human) and HTTP tools.
//
// A tool's failure is never fatal to a run: Registry.Run turns every
// error — an unknown tool, bad arguments, a non-2xx status, a transport
// error, even a panic of a tool — into a Result with IsError, which the
// run reports to the model. Results are cut at Options.MaxResultBytes,
// since every later model call of the run carries them.
//
// Kinds "mcp" and "function" are reserved for the packages that serve MCP
// servers' tools and functions; they add themselves with RegisterKind.
package tools

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"unicode/utf8"

	"github.com/circuit-breaker/circuit-breaker/agent"
)

// Call is one tool call of an agent run.
type Call struct {
	Tenant  string
	RunID   string
	AgentID string
	Step    int
	// ToolCallID is the model's id of the call; with RunID it identifies
	// the call across restarts (HTTP tools send both as Idempotency-Key).
	ToolCallID string
	Name       string
	// Arguments is the JSON object the model sent, as text.
	Arguments string
	// Tool is the tool's definition in the agent.
	Tool agent.Tool
}

// IdempotencyKey is the same for every attempt of the call: "<run>/<call>".
func (c Call) IdempotencyKey() string { return c.RunID + "/" + c.ToolCallID }

// Result is what the model is told.
type Result struct {
	Content string
	IsError bool
}

// Tool runs tool calls. Call returns an error when the tool failed; the
// Registry reports it to the model as an IsError result. Tools must
// return when ctx ends and be safe for concurrent use.
type Tool interface {
	Call(ctx context.Context, c Call) (Result, error)
}

// Func adapts a function to a Tool.
type Func func(ctx context.Context, c Call) (Result, error)

// Call calls f.
func (f Func) Call(ctx context.Context, c Call) (Result, error) { return f(ctx, c) }

// Kind builds the Tool that serves a definition of one kind.
type Kind func(def agent.Tool) (Tool, error)

// ErrUnknownTool is reported for a call of a tool that the agent does not
// declare, or whose kind or built-in is not registered.
var ErrUnknownTool = errors.New("unknown tool")

// DefaultMaxResultBytes bounds a tool result when Options leaves it 0.
const DefaultMaxResultBytes = 64 << 10

// Options configures a Registry.
type Options struct {
	// HTTPClient sends HTTP tools' requests; nil uses a client of its own
	// with no overall timeout (each call has its own).
	HTTPClient *http.Client
	// MaxResultBytes cuts longer results (default DefaultMaxResultBytes).
	MaxResultBytes int
}

// Registry maps tool kinds and built-in names to tools. It serves kind
// "http" from the start; built-ins are added with RegisterBuiltin (or
// RegisterBuiltins). It is safe for concurrent use.
type Registry struct {
	maxResult int

	mu       sync.RWMutex
	kinds    map[string]Kind
	builtins map[string]Tool
}

// New returns a registry serving HTTP tools.
func New(o Options) *Registry {
	if o.MaxResultBytes <= 0 {
		o.MaxResultBytes = DefaultMaxResultBytes
	}
	r := &Registry{maxResult: o.MaxResultBytes, kinds: map[string]Kind{}, builtins: map[string]Tool{}}
	r.kinds[agent.KindHTTP] = HTTPKind(o.HTTPClient)
	return r
}

// RegisterKind serves tools of kind with k. A kind is registered once.
func (r *Registry) RegisterKind(kind string, k Kind) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[kind]; dup || kind == agent.KindBuiltin {
		return fmt.Errorf("tools: kind %q registered twice", kind)
	}
	r.kinds[kind] = k
	return nil
}

// RegisterBuiltin serves the built-in tool name with t. A built-in is
// registered once.
func (r *Registry) RegisterBuiltin(name string, t Tool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.builtins[name]; dup {
		return fmt.Errorf("tools: built-in %q registered twice", name)
	}
	r.builtins[name] = t
	return nil
}

// HasBuiltin reports whether the built-in name is registered.
func (r *Registry) HasBuiltin(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.builtins[name]
	return ok
}

// Resolve returns the Tool that serves def.
func (r *Registry) Resolve(def agent.Tool) (Tool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if def.Kind == agent.KindBuiltin {
		if t, ok := r.builtins[def.Name]; ok {
			return t, nil
		}
		return nil, fmt.Errorf("%w: built-in %q is not available", ErrUnknownTool, def.Name)
	}
	k, ok := r.kinds[def.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: tools of kind %q are not available", ErrUnknownTool, def.Kind)
	}
	return k(def)
}

// Run calls the tool of c.Tool (resolved on every call; kinds are cheap to
// build) and always returns a result: failures are results with IsError.
// When ctx ends first the result is an error result too; the caller
// tells that case apart by ctx.Err().
func (r *Registry) Run(ctx context.Context, c Call) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Content: fmt.Sprintf("tool %q failed: internal error: %v", c.Name, p), IsError: true}
		}
		res.Content = r.cut(res.Content)
	}()
	if c.Tool.Name == "" {
		return Result{Content: fmt.Sprintf("%v: %q is not a tool of this agent", ErrUnknownTool, c.Name), IsError: true}
	}
	t, err := r.Resolve(c.Tool)
	if err != nil {
		return Result{Content: err.Error(), IsError: true}
	}
	res, err = t.Call(ctx, c)
	if err != nil {
		return Result{Content: fmt.Sprintf("tool %q failed: %v", c.Name, err), IsError: true}
	}
	return res
}

// cut bounds s to maxResult bytes, on a rune boundary, saying so.
func (r *Registry) cut(s string) string {
	if len(s) <= r.maxResult {
		return s
	}
	const note = "\n[result truncated]"
	n := max(r.maxResult-len(note), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + note
}
