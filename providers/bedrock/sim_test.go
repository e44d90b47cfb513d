package bedrock

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

// The simulator speaks Converse independently of this adapter (it encodes
// frames with the AWS encoder and verifies SigV4 signatures), so these
// tests check the two against each other: a scripted reply must come back
// the same from Chat and from an accumulated Stream.

const (
	simModel  = "anthropic.claude-3-5-sonnet-20240620-v1:0"
	simKeyID  = "AKIDSIMULATOR"
	simSecret = "simulator/secret+key"
)

func startSim(t *testing.T) (*sim.Server, *Client) {
	t.Helper()
	s := sim.New(sim.Config{AWSAccessKeyID: simKeyID, AWSSecretAccessKey: simSecret, AWSRegion: "eu-central-1"})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	c, err := New(providers.Config{Name: "bedrock-sim", BaseURL: srv.URL, Region: "eu-central-1",
		AccessKeyID: simKeyID, SecretAccessKey: simSecret, Client: srv.Client()})
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
		{"text with cache usage", sim.Step{Text: "Hello there, friend.", Usage: &llm.Usage{Input: 7, CacheRead: 30, CacheWrite: 3, Output: 4}},
			llm.Response{Parts: []llm.Part{llm.TextPart("Hello there, friend.")}, StopReason: llm.StopEnd, Usage: llm.Usage{Input: 7, CacheRead: 30, CacheWrite: 3, Output: 4}}},
		{"thinking, text and parallel tool calls", sim.Step{Thinking: "Two lookups.", Text: "Checking both.", ToolCalls: []llm.ToolCall{
			{ID: "tooluse_a", Name: "get_weather", Arguments: `{"city":"Madrid"}`},
			{ID: "tooluse_b", Name: "get_weather", Arguments: `{"city":"Brasilia","unit":"celsius"}`},
		}, Usage: &llm.Usage{Input: 50, Output: 20}},
			llm.Response{Parts: []llm.Part{
				{Kind: llm.PartThinking, Text: "Two lookups."},
				llm.TextPart("Checking both."),
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "tooluse_a", Name: "get_weather", Arguments: `{"city":"Madrid"}`}},
				{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "tooluse_b", Name: "get_weather", Arguments: `{"city":"Brasilia","unit":"celsius"}`}},
			}, StopReason: llm.StopToolCalls, Usage: llm.Usage{Input: 50, Output: 20}}},
		{"length", sim.Step{Text: "cut", StopReason: llm.StopLength, Usage: &llm.Usage{Input: 1, Output: 1}},
			llm.Response{Parts: []llm.Part{llm.TextPart("cut")}, StopReason: llm.StopLength, Usage: llm.Usage{Input: 1, Output: 1}}},
	}
	// Signatures and ids are the simulator's to choose.
	ignore := cmp.Options{cmpopts.IgnoreFields(llm.Response{}, "ID", "Model"), cmpopts.IgnoreFields(llm.Part{}, "Signature")}
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

	t.Run("throttled", func(t *testing.T) {
		s, c := startSim(t)
		s.Script(simModel, sim.Step{Status: 429, ErrorMessage: "Too many requests", RetryAfter: 2 * time.Second})
		_, err := c.Chat(context.Background(), req)
		if e := asLLMError(t, err); e.Kind != llm.KindRateLimit || e.RetryAfter != 2*time.Second || !strings.Contains(e.Message, "Too many requests") {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("exception mid-stream", func(t *testing.T) {
		s, c := startSim(t)
		s.Script(simModel, sim.Step{Text: "one two three four", ErrorAfterTokens: 2, Status: 429, ErrorMessage: "slow down"})
		st, err := c.Stream(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := collect(t, st)
		if e := asLLMError(t, err); e.Kind != llm.KindRateLimit || !strings.Contains(e.Message, "slow down") {
			t.Errorf("got %+v", e)
		}
		if got.Text() == "" {
			t.Error("no text before the exception")
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		s, _ := startSim(t)
		srv := httptest.NewServer(s.Handler())
		defer srv.Close()
		c, err := New(providers.Config{BaseURL: srv.URL, Region: "eu-central-1", AccessKeyID: simKeyID, SecretAccessKey: "wrong", Client: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Chat(context.Background(), req)
		if e := asLLMError(t, err); e.Kind != llm.KindUpstreamAuth {
			t.Errorf("got %+v", e)
		}
	})
}
