package examples

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/circuit-breaker/circuit-breaker/agent"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// file is an example file, decoded.
type file struct {
	agents []agent.Definition
	flow   workflow.Definition
}

// load decodes and validates an example file the way apply does, with
// the tool server's address put in.
func load(t *testing.T, e Example) file {
	t.Helper()
	src, err := e.Source()
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.ReplaceAll(src, []byte("${"+ToolsURLVar+":-"+DefaultToolsURL+"}"), []byte(DefaultToolsURL))
	if bytes.Contains(src, []byte("${")) {
		t.Fatalf("%s: a ${...} other than ${%s:-%s}", e.File(), ToolsURLVar, DefaultToolsURL)
	}
	js, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Agents   []json.RawMessage `json:"agents"`
		Workflow json.RawMessage   `json:"workflow"`
	}
	if err := json.Unmarshal(js, &top); err != nil {
		t.Fatal(err)
	}
	var f file
	wf := top.Workflow
	if wf == nil {
		wf = js // a workflow-only file
	}
	for i, raw := range top.Agents {
		a, err := agent.Parse(raw)
		if err != nil {
			t.Fatalf("agents[%d]: %v", i, err)
		}
		if err := agent.Validate(a); err != nil {
			t.Errorf("agents[%d]: %v", i, err)
		}
		f.agents = append(f.agents, a)
	}
	if f.flow, err = workflow.Parse(wf); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if err := workflow.Validate(&f.flow); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if _, err := workflow.Compile(f.flow); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	return f
}

// TestFilesAreExamples checks that the catalogue lists every file, that
// the embedded files are the ones on disk, and that every file is valid.
func TestFilesAreExamples(t *testing.T) {
	names, err := fs.Glob(Files(), "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, e := range All() {
		listed = append(listed, e.File())
	}
	if !slices.Equal(names, listed) {
		t.Fatalf("files %v, catalogue %v", names, listed)
	}
	for _, e := range All() {
		t.Run(e.Name, func(t *testing.T) {
			src, _ := e.Source()
			disk, err := os.ReadFile(e.File())
			if err != nil || !bytes.Equal(src, disk) {
				t.Fatalf("embedded file differs from the one on disk (%v)", err)
			}
			f := load(t, e)
			if f.flow.ID != e.WorkflowID {
				t.Errorf("workflow id %q, catalogue %q", f.flow.ID, e.WorkflowID)
			}
		})
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "content-creation") {
		t.Errorf("Lookup(nope) = %v; want the list of examples", err)
	}
	if e, err := Lookup(DefaultExample + ".yaml"); err != nil || e.Name != DefaultExample {
		t.Errorf("Lookup(default.yaml) = %v, %v", e.Name, err)
	}
}

// TestScenariosFitTheirExamples checks each scenario against its file:
// the models it scripts are the agents' and offered by ServerConfig, the
// tools it calls are the agents' and served by Tools, its answers and
// fired activities exist, and it ends in a state of the workflow.
func TestScenariosFitTheirExamples(t *testing.T) {
	offered := map[string]bool{}
	for _, ms := range Models {
		for _, m := range ms {
			offered[m] = true
		}
	}
	for _, e := range All() {
		t.Run(e.Name, func(t *testing.T) {
			f := load(t, e)
			sc := e.Scenario
			models := map[string][]agent.Tool{} // model → tools its agents may call
			agents := map[string]bool{}
			for _, a := range f.agents {
				agents[a.ID] = true
				models[a.Model] = append(models[a.Model], a.Tools...)
			}
			acts := map[string]workflow.Activity{}
			for _, act := range f.flow.Activities {
				acts[act.ID] = act
				if c := act.AgentConfig; c != nil {
					if c.AgentID != "" && !agents[c.AgentID] {
						t.Errorf("activity %s runs agent %q, not in the file", act.ID, c.AgentID)
					}
					if c.Model != "" {
						models[c.Model] = append(models[c.Model], agent.Tool{})
					}
				}
			}
			for m := range models {
				if !offered[m] {
					t.Errorf("model %s is not offered by ServerConfig", m)
				}
			}
			for i, r := range sc.Replies {
				tools, ok := models[r.Model]
				if !ok {
					t.Errorf("replies[%d]: no agent uses %s", i, r.Model)
				}
				for _, c := range r.Step.ToolCalls {
					if !slices.ContainsFunc(tools, func(tl agent.Tool) bool { return tl.Name == c.Name }) {
						t.Errorf("replies[%d] calls %s, not a tool of the %s agents", i, c.Name, r.Model)
					}
					if !agent.IsBuiltin(c.Name) && !slices.Contains(ToolNames(), c.Name) {
						t.Errorf("replies[%d] calls %s, not served by Tools", i, c.Name)
					}
					if !json.Valid([]byte(c.Arguments)) {
						t.Errorf("replies[%d]: arguments of %s are not JSON: %s", i, c.Name, c.Arguments)
					}
				}
			}
			for a := range sc.Answers {
				act, ok := acts[a]
				if !ok || act.WaitForHuman == nil && act.AgentConfig == nil {
					t.Errorf("answer for %s, which neither waits for a human nor runs an agent", a)
				}
			}
			for _, fire := range sc.Fire {
				act, ok := acts[fire.Activity]
				if !ok || act.ToState != fire.To {
					t.Errorf("fire %s to %s: no such activity", fire.Activity, fire.To)
				}
			}
			if !slices.Contains(f.flow.States, sc.Settle) || !slices.Contains(f.flow.States, sc.End()) {
				t.Errorf("settles in %q and ends in %q: not states of the workflow", sc.Settle, sc.End())
			}
		})
	}
}

func TestServerConfig(t *testing.T) {
	c := ServerConfig("http://127.0.0.1:9", "info")
	for _, want := range []string{`base_url = "http://127.0.0.1:9/v1"`, `[llm.providers.anthropic]`, `from_env = false`,
		`models = ["claude-sonnet-4-5", "claude-haiku-4-5"]`} {
		if !strings.Contains(c, want) {
			t.Errorf("config lacks %s:\n%s", want, c)
		}
	}
}

func TestTools(t *testing.T) {
	h := Tools()
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // substring of the answer
	}{
		{"search", "POST", "/web_search", `{"query": "octopus intelligence"}`, 200, "https://encyclopedia.example/octopus-intelligence"},
		{"toxicity of the moderated post", "POST", "/toxicity_detector", `{"text": "` + moderatedPost + `"}`, 200, `"toxicity_score":0.6`},
		{"clean text", "POST", "/toxicity_detector", `{"text": "What a lovely day"}`, 200, `"toxicity_score":0`},
		{"policy", "POST", "/policy_checker", `{"text": "buy now http://x"}`, 200, `"spam"`},
		{"fact check", "POST", "/fact_check", `{"claims": ["Octopuses always win"]}`, 200, `"overstated"`},
		{"ticket", "POST", "/format_review", `{"content_id": "POST-789"}`, 200, `"REV-1744"`},
		{"priority", "POST", "/priority_assessment", `{"toxicity_score": 0.9}`, 200, `"high"`},
		{"inventory", "POST", "/check_inventory", `{"skus": ["LAPTOP-001", "NOPE"]}`, 200, `"available":12`},
		{"reserve backorders what is missing", "POST", "/reserve_items",
			`{"order_id": "O-1", "items": [{"sku": "MONITOR-003", "quantity": 1}]}`, 200, `"backordered":[{"quantity":1,"sku":"MONITOR-003"}]`},
		{"no arguments", "POST", "/style_guide", ``, 200, "Active voice"},
		{"missing argument", "POST", "/web_search", `{}`, 400, `argument "query" is required`},
		{"wrong type", "POST", "/fact_check", `{"claims": "one"}`, 400, `must be an array`},
		{"not an object", "POST", "/payment_history", `[1]`, 400, "must be a JSON object"},
		{"null", "POST", "/payment_history", `null`, 400, "not null"},
		{"unknown tool", "POST", "/launch_rockets", `{}`, 404, "web_search"},
		{"GET", "GET", "/web_search", ``, 405, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Fatalf("%d %s; want %d with %s", rec.Code, rec.Body, tt.status, tt.want)
			}
		})
	}
}

// FuzzTools sends arbitrary arguments to every tool: the answer is a
// result or a 400, never a panic.
func FuzzTools(f *testing.F) {
	for _, s := range []string{`{}`, `{"text": "idiot"}`, `{"items": [{"sku": "X", "quantity": 2}], "order_id": "o"}`,
		`{"skus": [1]}`, `{"claims": [null]}`, `{"toxicity_score": "high"}`, `[]`, `nul`} {
		f.Add(s)
	}
	h := Tools()
	f.Fuzz(func(t *testing.T, body string) {
		for _, name := range ToolNames() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", "/"+name, strings.NewReader(body)))
			if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
				t.Fatalf("%s(%q) = %d %s", name, body, rec.Code, rec.Body)
			}
			if rec.Code == http.StatusOK && !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s(%q) answered invalid JSON %s", name, body, rec.Body)
			}
		}
	})
}
