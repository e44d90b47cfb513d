package tools_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/agent/tools"
)

func TestHTTPTool(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r)
		bodies = append(bodies, string(b))
		mu.Unlock()
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"answer":42}`))
		case "/fail":
			http.Error(w, "no such order", http.StatusNotFound)
		case "/hang":
			<-r.Context().Done()
		}
	}))
	t.Cleanup(srv.Close)
	reg := tools.New(tools.Options{MaxResultBytes: 1000})
	def := func(path string, timeout int) agent.Tool {
		return agent.Tool{Name: "t", Kind: agent.KindHTTP, HTTP: &agent.HTTPTool{URL: srv.URL + path, Method: "POST",
			Headers: map[string]string{"Authorization": "Bearer x"}, TimeoutSeconds: timeout}}
	}
	cases := []struct {
		name    string
		tool    agent.Tool
		args    string
		want    string
		isError bool
	}{
		{"ok", def("/ok", 0), `{"q":1}`, `{"answer":42}`, false},
		{"empty arguments", def("/ok", 0), ``, `{"answer":42}`, false},
		{"non-2xx", def("/fail", 0), `{}`, "HTTP 404: no such order", true},
		{"bad arguments", def("/ok", 0), `[1]`, "the arguments are not a JSON object: [1]", true},
		{"timeout", def("/hang", 1), `{}`, `tool "t" failed: no answer within 1s`, true},
		{"unknown tool", agent.Tool{}, `{}`, `unknown tool: "t" is not a tool of this agent`, true},
		{"unknown kind", agent.Tool{Name: "t", Kind: agent.KindMCP}, `{}`, `unknown tool: tools of kind "mcp" are not available`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := reg.Run(context.Background(), tools.Call{Tenant: "acme", RunID: "r1", ToolCallID: "c1", Name: "t", Arguments: c.args, Tool: c.tool})
			if res.Content != c.want || res.IsError != c.isError {
				t.Errorf("Run = %+v, want %q isError=%v", res, c.want, c.isError)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	r := got[0]
	if r.Header.Get("Idempotency-Key") != "r1/c1" || r.Header.Get("Authorization") != "Bearer x" ||
		r.Header.Get("Content-Type") != "application/json" || r.Method != "POST" || bodies[0] != `{"q":1}` {
		t.Errorf("request %s %v body %q", r.Method, r.Header, bodies[0])
	}
	if bodies[1] != `{}` {
		t.Errorf("empty arguments sent as %q", bodies[1])
	}
}

func TestRegistry(t *testing.T) {
	reg := tools.New(tools.Options{MaxResultBytes: 64})
	if err := reg.RegisterKind(agent.KindHTTP, nil); err == nil {
		t.Error("http registered twice")
	}
	if err := reg.RegisterKind(agent.KindFunction, func(def agent.Tool) (tools.Tool, error) {
		return tools.Func(func(_ context.Context, c tools.Call) (tools.Result, error) {
			switch c.Arguments {
			case "panic":
				panic("boom")
			case "long":
				return tools.Result{Content: strings.Repeat("é", 40)}, nil
			}
			return tools.Result{Content: "ran " + def.Name}, nil
		}), nil
	}); err != nil {
		t.Fatal(err)
	}
	fn := agent.Tool{Name: "f", Kind: agent.KindFunction}
	cases := []struct {
		args, want string
		isError    bool
	}{
		{"{}", "ran f", false},
		{"panic", `tool "f" failed: internal error: boom`, true},
		{"long", strings.Repeat("é", 22) + "\n[result truncated]", false},
	}
	for _, c := range cases {
		res := reg.Run(context.Background(), tools.Call{Name: "f", Arguments: c.args, Tool: fn})
		if res.Content != c.want || res.IsError != c.isError {
			t.Errorf("Run(%q) = %+v, want %q", c.args, res, c.want)
		}
	}
}

type fakeRuns struct {
	outputs map[string]tools.RunOutput
	started []string
}

func (f *fakeRuns) Output(_ context.Context, tenant, id string) (tools.RunOutput, error) {
	if o, ok := f.outputs[tenant+"/"+id]; ok {
		return o, nil
	}
	return tools.RunOutput{Status: "unknown"}, nil
}

func (f *fakeRuns) RunAgent(_ context.Context, tenant, agentID, runID, input string) (tools.RunOutput, error) {
	f.started = append(f.started, tenant+"/"+agentID+"/"+runID+"/"+input)
	return tools.RunOutput{Status: agent.StatusCompleted, Output: "revised"}, nil
}

func TestBuiltins(t *testing.T) {
	runs := &fakeRuns{outputs: map[string]tools.RunOutput{
		"acme/r0": {Status: agent.StatusCompleted, Output: "draft", OutputJSON: json.RawMessage(`{"d":1}`)},
		"acme/r9": {Status: agent.StatusFailed, Error: "model down"},
	}}
	reg := tools.New(tools.Options{})
	if err := reg.RegisterBuiltins(runs); err != nil {
		t.Fatal(err)
	}
	if err := reg.RegisterBuiltins(runs); err == nil {
		t.Error("built-ins registered twice")
	}
	builtin := func(name string) agent.Tool { return agent.Tool{Name: name, Kind: agent.KindBuiltin} }
	call := tools.Call{Tenant: "acme", RunID: "r1", ToolCallID: "c1"}
	cases := []struct {
		name, tool, args, want string
		isError                bool
	}{
		{"output json", agent.ToolGetAgentOutput, `{"runId":"r0"}`, `{"d":1}`, false},
		{"output of a failed run", agent.ToolGetAgentOutput, `{"runId":"r9"}`, "run r9 failed: model down", true},
		{"output of another tenant's run", agent.ToolGetAgentOutput, `{"runId":"r0"}`, "run r0 has no output: it is unknown", true},
		{"output bad args", agent.ToolGetAgentOutput, `{}`, `the arguments must be {"runId": "<id of an agent run>"}`, true},
		{"feedback", agent.ToolSendAgentFeedback, `{"agentId":"writer","runId":"r0","feedback":"shorter"}`, "revised", false},
		{"feedback bad args", agent.ToolSendAgentFeedback, `{"agentId":"writer"}`, "", true},
		{"escalate outside a run", agent.ToolEscalateToHuman, `{"question":"?"}`, `tool "escalate_to_human" failed: no human can be reached from here`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := call
			cl.Name, cl.Arguments, cl.Tool = c.tool, c.args, builtin(c.tool)
			if c.name == "output of another tenant's run" {
				cl.Tenant = "other"
			}
			res := reg.Run(context.Background(), cl)
			if res.IsError != c.isError || (c.want != "" && res.Content != c.want) {
				t.Errorf("Run = %+v, want %q isError=%v", res, c.want, c.isError)
			}
		})
	}
	id := tools.FeedbackRunID(call)
	want := "acme/writer/" + id + "/Your previous output:\ndraft\n\nFeedback:\nshorter\n\nRevise your output accordingly."
	if len(runs.started) != 1 || runs.started[0] != want {
		t.Errorf("started %q, want %q", runs.started, want)
	}
	if !agent.ValidID(id) || tools.FeedbackRunID(call) != id {
		t.Errorf("feedback run id %q is not a stable valid id", id)
	}
}

func TestHTTPToolRefusesLinkLocalAddresses(t *testing.T) {
	reg := tools.New(tools.Options{})
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]:80/", "http://0.0.0.0:9/"} {
		tool := agent.Tool{Name: "t", Kind: agent.KindHTTP, HTTP: &agent.HTTPTool{URL: u, Method: "POST", TimeoutSeconds: 2}}
		res := reg.Run(context.Background(), tools.Call{Tenant: "acme", RunID: "r1", ToolCallID: "c1", Name: "t", Arguments: `{}`, Tool: tool})
		if !res.IsError || !strings.Contains(res.Content, "address refused") {
			t.Errorf("%s: %+v, want a tool error saying the address is refused", u, res)
		}
	}
}
