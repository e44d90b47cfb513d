package conformance

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
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

	if e.f.altAuth != nil { // the format's other credentials work as well
		alt := e.provider(t, e.f.altAuth(e.cfg))
		e.sim.Script(e.f.model, sim.Step{Text: replyText, Usage: &scriptedUsage})
		resp, err := alt.Chat(context.Background(), e.userAsk("How is the weather?"))
		if err != nil {
			t.Fatalf("Chat with the other credentials: %v", err)
		}
		if resp.Text() != replyText {
			t.Errorf("other credentials: text %q, want %q", resp.Text(), replyText)
		}
	}
}

// conversation has a system prompt, a tool call answered by its result,
// a forced tool choice and generation settings.
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
		Tools:       []llm.Tool{weatherTool},
		ToolChoice:  &llm.ToolChoice{Mode: "required"},
		MaxTokens:   256,
		Temperature: &half,
		Stop:        []string{"END"},
	}
}

var half = 0.5

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
	sameResponse(t, want, got)
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

func testTextAndTools(t *testing.T, e *env) {
	const plan = "Let me look both up."
	step := sim.Step{Text: plan, ToolCalls: parallelCalls, Usage: &scriptedUsage}
	e.sim.Script(e.f.model, step, step)
	chat, err := e.p.Chat(context.Background(), e.toolAsk())
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	st, err := e.p.Stream(context.Background(), e.toolAsk())
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	streamed, _, err := collect(t, st)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	sameResponse(t, chat, streamed)
	for name, resp := range map[string]*llm.Response{"chat": chat, "stream": streamed} {
		// The text part comes first, then the calls, numbered in order.
		var kinds []llm.PartKind
		for _, p := range resp.Parts {
			kinds = append(kinds, p.Kind)
		}
		want := []llm.PartKind{e.f.toolPlanKind, llm.PartToolCall, llm.PartToolCall}
		if d := cmp.Diff(want, kinds); d != "" {
			t.Errorf("%s: part kinds (-want +got):\n%s", name, d)
			continue
		}
		if resp.Parts[0].Text != plan {
			t.Errorf("%s: first part %q, want %q", name, resp.Parts[0].Text, plan)
		}
		if resp.StopReason != llm.StopToolCalls {
			t.Errorf("%s: stop reason %q, want %q", name, resp.StopReason, llm.StopToolCalls)
		}
	}
}

func testThinking(t *testing.T, e *env) {
	const thought = "The user wants the weather; answer briefly."
	step := sim.Step{Thinking: thought, Text: replyText, Usage: &scriptedUsage}
	e.sim.Script(e.f.model, step, step)
	req := e.userAsk("How is the weather?")
	req.ReasoningEffort = "low"
	chat, err := e.p.Chat(context.Background(), req)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	st, err := e.p.Stream(context.Background(), req)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	streamed, _, err := collect(t, st)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	sameResponse(t, chat, streamed)
	want := ""
	if e.f.thinking {
		want = thought
	}
	var got string
	textSeen := false
	for _, p := range chat.Parts {
		switch p.Kind {
		case llm.PartThinking:
			if textSeen {
				t.Errorf("thinking part after the text: %+v", chat.Parts)
			}
			got += p.Text
		case llm.PartText:
			textSeen = true
		}
	}
	if got != want {
		t.Errorf("thinking %q, want %q", got, want)
	}
	if chat.Text() != replyText {
		t.Errorf("text %q, want %q", chat.Text(), replyText)
	}
}

func testStopLength(t *testing.T, e *env) {
	step := sim.Step{Text: "cut short", StopReason: llm.StopLength, Usage: &scriptedUsage}
	e.sim.Script(e.f.model, step, step)
	req := e.userAsk("Write a long essay.")
	req.MaxTokens = 2
	chat, err := e.p.Chat(context.Background(), req)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	st, err := e.p.Stream(context.Background(), req)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	streamed, _, err := collect(t, st)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	for name, resp := range map[string]*llm.Response{"chat": chat, "stream": streamed} {
		if resp.StopReason != llm.StopLength || resp.Text() != "cut short" {
			t.Errorf("%s: %q stopping for %q, want %q stopping for %q", name, resp.Text(), resp.StopReason, "cut short", llm.StopLength)
		}
	}
}

// sameResponse checks that a streamed response equals the Chat one. Ids and
// signatures are the provider's to choose per response; only whether a
// part is signed must agree.
func sameResponse(t *testing.T, chat, streamed *llm.Response) {
	t.Helper()
	signed := cmp.Transformer("signed", func(p llm.Part) llm.Part {
		if p.Signature != "" {
			p.Signature = "<signed>"
		}
		return p
	})
	if d := cmp.Diff(chat, streamed, cmpopts.IgnoreFields(llm.Response{}, "ID"), signed); d != "" {
		t.Errorf("streamed response differs from Chat (-chat +stream):\n%s", d)
	}
}

func testConcurrent(t *testing.T, e *env) {
	// Unscripted replies are generated from the prompt, so a streamed and a
	// whole answer to the same prompt agree even when calls interleave.
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := e.userAsk(fmt.Sprintf("Question number %d, please.", i))
			chat, err := e.p.Chat(context.Background(), req)
			if err != nil {
				t.Errorf("%d: Chat: %v", i, err)
				return
			}
			st, err := e.p.Stream(context.Background(), req)
			if err != nil {
				t.Errorf("%d: Stream: %v", i, err)
				return
			}
			r := &refereed{Stream: st}
			streamed, err := llm.Collect(r)
			if err != nil || r.err != nil {
				t.Errorf("%d: stream: %v; order: %v", i, err, r.err)
				return
			}
			if !strings.HasPrefix(chat.Text(), "Simulated reply from ") || streamed.Text() != chat.Text() {
				t.Errorf("%d: chat %q, stream %q; want the same generated reply", i, chat.Text(), streamed.Text())
			}
			if chat.Usage.IsZero() || streamed.Usage != chat.Usage {
				t.Errorf("%d: usage chat %+v, stream %+v; want the same, non-zero", i, chat.Usage, streamed.Usage)
			}
		}()
	}
	wg.Wait()
	if got := len(e.sim.Requests()); got != 2*n {
		t.Errorf("simulator saw %d requests, want %d", got, 2*n)
	}
}

// pixel is the image the scenario "image" sends: a PNG signature and a few
// bytes that need base64 padding.
var pixel = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x01")

func testImage(t *testing.T, e *env) {
	e.sim.Script(e.f.model, sim.Step{Text: "A pixel."})
	req := &llm.Request{Model: e.f.model, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
		llm.TextPart("What is in this picture?"),
		{Kind: llm.PartImage, Image: &llm.Image{MediaType: "image/png", Data: pixel}},
	}}}}
	if _, err := e.p.Chat(context.Background(), req); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	reqs := e.sim.Requests()
	if len(reqs) != 1 {
		t.Fatalf("simulator got %d requests, want 1", len(reqs))
	}
	want := strings.ReplaceAll(e.f.image, "{{b64}}", base64.StdEncoding.EncodeToString(pixel))
	if err := matchJSON(reqs[0].Body, want); err != nil {
		t.Errorf("the image is not sent in the %s shape: %v\nbody: %s", e.f.name, err, reqs[0].Body)
	}
}
