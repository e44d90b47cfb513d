package cohere

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// The simulator speaks Cohere v2 independently of this adapter, so these
// tests check the two against each other: a scripted reply must come back
// the same from Chat and from an accumulated Stream.

const simModel = "command-a-03-2025"

func startSim(t *testing.T) (*sim.Server, *Client) {
	t.Helper()
	s := sim.New(sim.Config{APIKey: "sim-key"})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	c, err := New(providers.Config{Name: "cohere-sim", BaseURL: srv.URL, APIKey: "sim-key", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestAgainstSimulator(t *testing.T) {
	tests := []struct {
		name string
		step sim.Step
		want llm.Response
	}{
		{"text with cached tokens", sim.Step{Text: "Hello there, friend.", Usage: &llm.Usage{Input: 7, CacheRead: 30, Output: 4}},
			llm.Response{Parts: []llm.Part{llm.TextPart("Hello there, friend.")}, StopReason: llm.StopEnd, Usage: llm.Usage{Input: 7, CacheRead: 30, Output: 4}}},
		{"tool plan and parallel tool calls", sim.Step{Text: "I will check both.", ToolCalls: []llm.ToolCall{
			{ID: "get_weather_a", Name: "get_weather", Arguments: `{"city":"Madrid"}`},
			{ID: "get_weather_b", Name: "get_weather", Arguments: `{"city":"Brasilia","unit":"celsius"}`},
		}, Usage: &llm.Usage{Input: 50, Output: 20}},
			llm.Response{Parts: []llm.Part{
				{Kind: llm.PartThinking, Text: "I will check both."},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "get_weather_a", Name: "get_weather", Arguments: `{"city":"Madrid"}`}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "get_weather_b", Name: "get_weather", Arguments: `{"city":"Brasilia","unit":"celsius"}`}},
			}, StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 50, Output: 20}}},
		{"thinking and text", sim.Step{Thinking: "Count.", Text: "One two", StopReason: llm.StopLength, Usage: &llm.Usage{Input: 1, Output: 9}},
			llm.Response{Parts: []llm.Part{{Kind: llm.PartThinking, Text: "Count."}, llm.TextPart("One two")}, StopReason: llm.StopLength, Usage: llm.Usage{Input: 1, Output: 9}}},
	}
	ignore := cmpopts.IgnoreFields(llm.Response{}, "ID", "Model")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := startSim(t)
			s.Script(simModel, tt.step, tt.step)
			req := &llm.Request{Model: simModel, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hello")}}}}
			got, err := c.Chat(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, got, ignore); d != "" {
				t.Errorf("Chat (-want +got):\n%s", d)
			}
			st, err := c.Stream(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			streamed, _, err := collect(t, st)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, streamed, ignore); d != "" {
				t.Errorf("Stream (-want +got):\n%s", d)
			}
		})
	}
}

func TestAgainstSimulatorFailures(t *testing.T) {
	req := &llm.Request{Model: simModel, Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart("hello")}}}}
	t.Run("rate limited", func(t *testing.T) {
		s, c := startSim(t)
		s.Script(simModel, sim.Step{Status: 429, ErrorMessage: "too many requests", RetryAfter: 2 * time.Second})
		_, err := c.Chat(context.Background(), req)
		if e := asLLMError(t, err); e.Kind != llm.KindRateLimit || e.RetryAfter != 2*time.Second || !strings.Contains(e.Message, "too many requests") {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("error mid-stream", func(t *testing.T) {
		s, c := startSim(t)
		s.Script(simModel, sim.Step{Text: "one two three four", ErrorAfterTokens: 2, ErrorMessage: "model failed"})
		st, err := c.Stream(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := collect(t, st)
		if e := asLLMError(t, err); e.Kind != llm.KindServer || !strings.Contains(e.Message, "model failed") {
			t.Errorf("got %+v", e)
		}
		if got.Text() == "" {
			t.Error("no text before the error")
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		s, _ := startSim(t)
		srv := httptest.NewServer(s.Handler())
		defer srv.Close()
		c, err := New(providers.Config{BaseURL: srv.URL, APIKey: "wrong", Client: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Chat(context.Background(), req)
		if e := asLLMError(t, err); e.Kind != llm.KindUpstreamAuth {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("embed", func(t *testing.T) {
		_, c := startSim(t)
		resp, err := c.Embed(context.Background(), &llm.EmbedRequest{Model: "embed-v4.0", Input: []string{"a", "b", "c"}, Dimensions: 8})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Vectors) != 3 || len(resp.Vectors[0]) != 8 || resp.Usage.Input == 0 {
			t.Errorf("got %d vectors of %d, usage %+v", len(resp.Vectors), len(resp.Vectors[0]), resp.Usage)
		}
	})
}
