package gql

import (
	"context"
	"time"

	graphql "github.com/graph-gophers/graphql-go"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

type llmCompletion struct {
	resp *llm.Response
	call *router.Call
}

func (c *llmCompletion) ID() graphql.ID { return graphql.ID(c.call.ID) }
func (c *llmCompletion) Model() string {
	if c.resp.Model != "" {
		return c.resp.Model
	}
	return c.call.Model
}
func (c *llmCompletion) Provider() *string   { return strp(c.call.Provider) }
func (c *llmCompletion) Deployment() *string { return strp(c.call.Deployment) }
func (c *llmCompletion) Content() string     { return c.resp.Text() }
func (c *llmCompletion) ToolCalls() []*llmToolCall {
	out := []*llmToolCall{}
	for _, tc := range c.resp.ToolCalls() {
		out = append(out, &llmToolCall{tc})
	}
	return out
}
func (c *llmCompletion) StopReason() string { return string(c.resp.StopReason) }
func (c *llmCompletion) Usage() *llmUsage   { return &llmUsage{c.resp.Usage} }
func (c *llmCompletion) CostUsd() *float64 {
	if !c.call.Priced {
		return nil
	}
	v := c.call.CostUSD
	return &v
}
func (c *llmCompletion) LatencyMs() float64 { return ms(c.call.Latency) }
func (c *llmCompletion) AddedMs() float64   { return ms(c.call.AddedTime) }
func (c *llmCompletion) Route() []*llmAttempt {
	out := make([]*llmAttempt, len(c.call.Route))
	for i := range c.call.Route {
		out[i] = &llmAttempt{c.call.Route[i]}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type llmToolCall struct{ tc llm.ToolCall }

func (t *llmToolCall) ID() string        { return t.tc.ID }
func (t *llmToolCall) Name() string      { return t.tc.Name }
func (t *llmToolCall) Arguments() string { return t.tc.Arguments }

type llmUsage struct{ u llm.Usage }

func (u *llmUsage) InputTokens() int32      { return int32(u.u.Input) }
func (u *llmUsage) CacheReadTokens() int32  { return int32(u.u.CacheRead) }
func (u *llmUsage) CacheWriteTokens() int32 { return int32(u.u.CacheWrite) }
func (u *llmUsage) OutputTokens() int32     { return int32(u.u.Output) }
func (u *llmUsage) ReasoningTokens() int32  { return int32(u.u.Reasoning) }
func (u *llmUsage) PromptTokens() int32     { return int32(u.u.Prompt()) }
func (u *llmUsage) CompletionTokens() int32 { return int32(u.u.Completion()) }
func (u *llmUsage) TotalTokens() int32      { return int32(u.u.Total()) }

type llmAttempt struct{ a router.Attempt }

func (a *llmAttempt) Deployment() string { return a.a.Deployment }
func (a *llmAttempt) Model() string      { return a.a.Model }
func (a *llmAttempt) Outcome() string    { return a.a.Outcome }
func (a *llmAttempt) ErrorKind() *string { return strp(string(a.a.ErrorKind)) }
func (a *llmAttempt) Status() *int32 {
	if a.a.Status == 0 {
		return nil
	}
	s := int32(a.a.Status)
	return &s
}
func (a *llmAttempt) LatencyMs() float64 { return a.a.LatencyMs }

// llmChunk is one step of an llmStream subscription.
type llmChunk struct {
	typ             string
	index           *int32
	text            *string
	toolCall        *llmToolCall
	stopReason      *string
	usage           *llmUsage
	callID          string
	cost            *float64
	provider, model string
	err, errKind    string
}

var chunkTypes = map[llm.EventType]string{
	llm.EventStart: "START", llm.EventText: "TEXT", llm.EventThinking: "THINKING", llm.EventToolCall: "TOOL_CALL",
	llm.EventToolArgs: "TOOL_ARGS", llm.EventStop: "STOP", llm.EventUsage: "USAGE",
}

func chunkOf(ev llm.Event) *llmChunk {
	c := &llmChunk{typ: chunkTypes[ev.Type]}
	switch ev.Type {
	case llm.EventStart:
		c.model = ev.Model
	case llm.EventText, llm.EventThinking:
		i, t := int32(ev.Index), ev.Text
		c.index, c.text = &i, &t
	case llm.EventToolCall, llm.EventToolArgs:
		i := int32(ev.Index)
		c.index = &i
		if ev.ToolCall != nil {
			c.toolCall = &llmToolCall{*ev.ToolCall}
		}
	case llm.EventStop:
		r := string(ev.StopReason)
		c.stopReason = &r
	case llm.EventUsage:
		if ev.Usage != nil {
			c.usage = &llmUsage{*ev.Usage}
		}
	}
	return c
}

func (c *llmChunk) Type() string           { return c.typ }
func (c *llmChunk) Index() *int32          { return c.index }
func (c *llmChunk) Text() *string          { return c.text }
func (c *llmChunk) ToolCall() *llmToolCall { return c.toolCall }
func (c *llmChunk) StopReason() *string    { return c.stopReason }
func (c *llmChunk) Usage() *llmUsage       { return c.usage }
func (c *llmChunk) CallID() *graphql.ID {
	if c.callID == "" {
		return nil
	}
	id := graphql.ID(c.callID)
	return &id
}
func (c *llmChunk) CostUsd() *float64  { return c.cost }
func (c *llmChunk) Provider() *string  { return strp(c.provider) }
func (c *llmChunk) Model() *string     { return strp(c.model) }
func (c *llmChunk) Error() *string     { return strp(c.err) }
func (c *llmChunk) ErrorKind() *string { return strp(c.errKind) }

type llmModel struct{ m router.ModelInfo }

func (m *llmModel) ID() graphql.ID    { return graphql.ID(m.m.ID) }
func (m *llmModel) OwnedBy() string   { return m.m.OwnedBy }
func (m *llmModel) Virtual() bool     { return m.m.Virtual }
func (m *llmModel) Strategy() *string { return strp(m.m.Strategy) }
func (m *llmModel) Deployments() []string {
	if m.m.Deployments == nil {
		return []string{}
	}
	return m.m.Deployments
}

type llmProvider struct{ d router.DeploymentInfo }

func (p *llmProvider) Name() string      { return p.d.Name }
func (p *llmProvider) Provider() *string { return strp(p.d.Provider) }
func (p *llmProvider) Breaker() string   { return p.d.Breaker }
func (p *llmProvider) Failures() int32   { return int32(p.d.Failures) }
func (p *llmProvider) Models() int32     { return int32(p.d.Models) }

func (q *query) LlmModels(ctx context.Context) ([]*llmModel, error) {
	if err := q.c.llmEnabled(); err != nil {
		return nil, err
	}
	out := []*llmModel{}
	for _, m := range q.c.llm.ModelsFor(principal(ctx).Tenant) {
		out = append(out, &llmModel{m})
	}
	return out, nil
}

func (q *query) LlmProviders(ctx context.Context) ([]*llmProvider, error) {
	if err := q.c.llmEnabled(); err != nil {
		return nil, err
	}
	out := []*llmProvider{}
	for _, d := range q.c.llm.Deployments() {
		out = append(out, &llmProvider{d})
	}
	return out, nil
}
