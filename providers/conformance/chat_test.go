package conformance

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// replyText is the scripted text reply: several words, so that it streams
// in several deltas.
const replyText = "It is sunny in Paris today, twenty-one degrees."

// weatherTool is the tool the tool scenarios declare.
var weatherTool = llm.Tool{Name: "get_weather", Description: "Current weather of a city.",
	Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"units":{"type":"array","items":{"type":"string"}},"days":{"type":"integer"}},"required":["city"]}`)}

// parallelCalls are the scripted parallel tool calls; their arguments
// nest an array and a number, and carry non-ASCII text.
var parallelCalls = []llm.ToolCall{
	{ID: "call_a1", Name: "get_weather", Arguments: `{"city":"Madrid"}`},
	{ID: "call_b2", Name: "get_weather", Arguments: `{"city":"Brasília","units":["celsius","kelvin"],"days":3}`},
}

func testPlain(t *testing.T, e *env) {
	e.sim.Script(e.f.model, sim.Step{Text: replyText, Usage: &scriptedUsage})
	resp, err := e.p.Chat(context.Background(), e.userAsk("How is the weather?"))
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if got := resp.Text(); got != replyText {
		t.Errorf("text = %q, want %q", got, replyText)
	}
	if resp.StopReason != llm.StopEnd {
		t.Errorf("stop reason = %q, want %q", resp.StopReason, llm.StopEnd)
	}
	if d := cmp.Diff(e.f.usage, resp.Usage); d != "" {
		t.Errorf("usage (-want +got):\n%s", d)
	}
	if resp.ID == "" {
		t.Error("response has no id")
	}
	if len(resp.ToolCalls()) != 0 {
		t.Errorf("unexpected tool calls %+v", resp.ToolCalls())
	}
	if reqs := e.sim.Requests(); len(reqs) != 1 || reqs[0].Format != e.f.name || reqs[0].Stream {
		t.Errorf("simulator log = %+v, want one non-streamed %s request", reqs, e.f.name)
	} else if reqs[0].Model != e.f.model {
		t.Errorf("model sent = %q, want %q", reqs[0].Model, e.f.model)
	}
}

// conversation has a system prompt and a tool call answered by its result.
func (e *env) conversation() *llm.Request {
	return &llm.Request{
		Model:  e.f.model,
		System: []llm.Part{llm.TextPart("You are a terse weather bot.")},
		Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("Weather in Paris?")}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{{Kind: llm.PartToolCall,
				ToolCall: &llm.ToolCall{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
			{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult, ToolResult: &llm.ToolResult{
				CallID: "call_w1", Name: "get_weather", Content: []llm.Part{llm.TextPart("sunny, 21C")}}}}},
		},
		Tools: []llm.Tool{weatherTool},
	}
}

func testRequest(t *testing.T, e *env) {
	e.sim.Script(e.f.model, sim.Step{Text: replyText, Usage: &scriptedUsage}, sim.Step{Text: replyText, Usage: &scriptedUsage})
	if _, err := e.p.Chat(context.Background(), e.conversation()); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	st, err := e.p.Stream(context.Background(), e.conversation())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if _, _, err := collect(t, st); err != nil {
		t.Fatalf("stream: %v", err)
	}
	reqs := e.sim.Requests()
	if len(reqs) != 2 {
		t.Fatalf("simulator got %d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		if err := matchJSON(r.Body, e.f.request); err != nil {
			t.Errorf("request %d (stream %v) does not carry the conversation in the %s shape: %v\nbody: %s", i, r.Stream, e.f.name, err, r.Body)
		}
	}
	if !reqs[1].Stream || reqs[0].Stream {
		t.Errorf("simulator saw stream = %v, %v; want false, true", reqs[0].Stream, reqs[1].Stream)
	}
}

func testStream(t *testing.T, e *env) {
	step := sim.Step{Text: replyText, Usage: &scriptedUsage}
	e.sim.Script(e.f.model, step, step)
	req := e.userAsk("How is the weather?")
	want, err := e.p.Chat(context.Background(), req)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	st, err := e.p.Stream(context.Background(), req)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	got, ref, err := collect(t, st)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(llm.Response{}, "ID")); d != "" {
		t.Errorf("streamed response differs from Chat (-chat +stream):\n%s", d)
	}
	if ref.texts < 2 {
		t.Errorf("text came in %d deltas, want several", ref.texts)
	}
	if ref.usages != 1 {
		t.Errorf("%d usage events, want 1", ref.usages)
	}
	if got.ID == "" {
		t.Error("stream start has no id")
	}
	if reqs := e.sim.Requests(); len(reqs) != 2 || !reqs[1].Stream {
		t.Errorf("simulator did not see a streamed request: %+v", reqs)
	}
}

func (e *env) toolAsk() *llm.Request {
	req := e.userAsk("Weather in Madrid and Brasília?")
	req.Tools = []llm.Tool{weatherTool}
	return req
}

func testToolCall(t *testing.T, e *env) {
	e.sim.Script(e.f.model, sim.Step{ToolCalls: parallelCalls, Usage: &scriptedUsage})
	resp, err := e.p.Chat(context.Background(), e.toolAsk())
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	e.checkToolCalls(t, resp)
}

func testStreamToolCall(t *testing.T, e *env) {
	e.sim.Script(e.f.model, sim.Step{ToolCalls: parallelCalls, Usage: &scriptedUsage})
	st, err := e.p.Stream(context.Background(), e.toolAsk())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	resp, _, err := collect(t, st)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	e.checkToolCalls(t, resp)
}

// checkToolCalls checks that resp holds parallelCalls and nothing else.
func (e *env) checkToolCalls(t *testing.T, resp *llm.Response) {
	t.Helper()
	if resp.StopReason != llm.StopToolCalls {
		t.Errorf("stop reason = %q, want %q", resp.StopReason, llm.StopToolCalls)
	}
	if txt := resp.Text(); txt != "" {
		t.Errorf("unexpected text %q", txt)
	}
	if d := cmp.Diff(e.f.usage, resp.Usage); d != "" {
		t.Errorf("usage (-want +got):\n%s", d)
	}
	got := resp.ToolCalls()
	if len(got) != len(parallelCalls) {
		t.Fatalf("got %d tool calls %+v, want %d", len(got), got, len(parallelCalls))
	}
	ids := map[string]bool{}
	for i, want := range parallelCalls {
		g := got[i]
		if g.Name != want.Name {
			t.Errorf("call %d: name %q, want %q", i, g.Name, want.Name)
		}
		var ga, wa any
		if err := json.Unmarshal([]byte(g.Arguments), &ga); err != nil {
			t.Errorf("call %d: arguments %q are not JSON: %v", i, g.Arguments, err)
		}
		if err := json.Unmarshal([]byte(want.Arguments), &wa); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(wa, ga); d != "" {
			t.Errorf("call %d: arguments (-want +got):\n%s", i, d)
		}
		switch {
		case g.ID == "":
			t.Errorf("call %d has no id", i)
		case ids[g.ID]:
			t.Errorf("call %d repeats the id %q", i, g.ID)
		case e.f.keepsCallIDs && g.ID != want.ID:
			t.Errorf("call %d: id %q, want the scripted %q", i, g.ID, want.ID)
		case !e.f.keepsCallIDs && (g.ID == want.ID || !strings.HasPrefix(g.ID, "call_")):
			t.Errorf("call %d: id %q, want one made up as call_<n> (the format carries none)", i, g.ID)
		}
		ids[g.ID] = true
	}
}
