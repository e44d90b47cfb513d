package gql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/circuit-breaker/circuit-breaker/api/apierr"
	"github.com/circuit-breaker/circuit-breaker/api/gateway"
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/router"
)

// LLM is the router as the schema uses it; *router.Router implements it.
type LLM interface {
	Chat(ctx context.Context, req *llm.Request, who router.Caller) (*llm.Response, *router.Call, error)
	Stream(ctx context.Context, req *llm.Request, who router.Caller) (llm.Stream, *router.Call, error)
	ModelsFor(tenant string) []router.ModelInfo
	Deployments() []router.DeploymentInfo
}

func (c *core) llmEnabled() error {
	if c.llm == nil {
		return newError(apierr.CodeUnavailable, "the LLM router is not enabled on this server")
	}
	return nil
}

// llmCaller is who an LLM call is recorded for.
func llmCaller(ctx context.Context, in *llmChatInput) router.Caller {
	return gateway.Caller(principal(ctx), deref(in.User), deref(in.Project))
}

type llmMessageInput struct {
	Role       string
	Content    *string
	ToolCallID *string
	ToolCalls  *[]llmToolCallInput
}

type llmToolCallInput struct {
	ID, Name, Arguments string
}

type llmToolInput struct {
	Name        string
	Description *string
	Parameters  *JSON
}

type llmChatInput struct {
	Model            string
	Messages         []llmMessageInput
	Temperature      *float64
	MaxTokens        *int32
	TopP             *float64
	Stop             *[]string
	Tools            *[]llmToolInput
	ToolChoice       *string
	FallbackModels   *[]string
	CostThreshold    *float64
	LatencyTarget    *int32
	CostOptimization *bool
	LatencyPriority  *bool
	User             *string
	Project          *string
}

// request turns the input into a canonical request, naming the field of
// the first problem.
func (in *llmChatInput) request(stream bool) (*llm.Request, error) {
	bad := func(path, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		return &Error{Code: apierr.CodeValidation, Msg: "invalid LLM request: " + path + ": " + msg, Problems: []Problem{{Path: path, Msg: msg}}}
	}
	if in.Model == "" {
		return nil, bad("input.model", "must not be empty")
	}
	if len(in.Messages) == 0 {
		return nil, bad("input.messages", "must hold at least one message")
	}
	req := &llm.Request{Model: in.Model, Stream: stream, Temperature: in.Temperature, TopP: in.TopP, User: deref(in.User)}
	if in.MaxTokens != nil {
		if *in.MaxTokens < 1 {
			return nil, bad("input.maxTokens", "must be 1 or more, got %d", *in.MaxTokens)
		}
		req.MaxTokens = int(*in.MaxTokens)
	}
	if in.Stop != nil {
		req.Stop = *in.Stop
	}
	for i, m := range in.Messages {
		path := fmt.Sprintf("input.messages[%d]", i)
		text := deref(m.Content)
		switch m.Role {
		case "system", "developer":
			req.System = append(req.System, llm.TextPart(text))
		case "user":
			req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{llm.TextPart(text)}})
		case "assistant":
			msg := llm.Message{Role: llm.RoleAssistant}
			if text != "" {
				msg.Parts = append(msg.Parts, llm.TextPart(text))
			}
			if m.ToolCalls != nil {
				for j, tc := range *m.ToolCalls {
					if !json.Valid([]byte(tc.Arguments)) {
						return nil, bad(fmt.Sprintf("%s.toolCalls[%d].arguments", path, j), "must be a JSON object in text")
					}
					msg.Parts = append(msg.Parts, llm.Part{Kind: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments}})
				}
			}
			if len(msg.Parts) == 0 {
				return nil, bad(path, "an assistant message needs content or toolCalls")
			}
			req.Messages = append(req.Messages, msg)
		case "tool":
			if m.ToolCallID == nil || *m.ToolCallID == "" {
				return nil, bad(path+".toolCallId", "is required for role tool")
			}
			req.Messages = append(req.Messages, llm.Message{Role: llm.RoleTool, Parts: []llm.Part{{Kind: llm.PartToolResult,
				ToolResult: &llm.ToolResult{CallID: *m.ToolCallID, Content: []llm.Part{llm.TextPart(text)}}}}})
		default:
			return nil, bad(path+".role", "must be system, user, assistant or tool, got %q", m.Role)
		}
	}
	if in.Tools != nil {
		for i, t := range *in.Tools {
			if t.Name == "" {
				return nil, bad(fmt.Sprintf("input.tools[%d].name", i), "must not be empty")
			}
			tool := llm.Tool{Name: t.Name, Description: deref(t.Description), Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}
			if t.Parameters != nil {
				b, err := json.Marshal(t.Parameters.V)
				if err != nil {
					return nil, bad(fmt.Sprintf("input.tools[%d].parameters", i), "%v", err)
				}
				tool.Parameters = b
			}
			req.Tools = append(req.Tools, tool)
		}
	}
	if in.ToolChoice != nil {
		switch c := *in.ToolChoice; c {
		case "auto", "none", "required":
			req.ToolChoice = &llm.ToolChoice{Mode: c}
		default:
			req.ToolChoice = &llm.ToolChoice{Mode: "tool", Name: c}
		}
	}
	ro := llm.RouteOptions{CostThreshold: deref64(in.CostThreshold), CostOptimization: derefBool(in.CostOptimization), LatencyPriority: derefBool(in.LatencyPriority)}
	if in.FallbackModels != nil {
		ro.FallbackModels = *in.FallbackModels
	}
	if in.LatencyTarget != nil {
		ro.LatencyTarget = int(*in.LatencyTarget)
	}
	if ro.CostThreshold < 0 {
		return nil, bad("input.costThreshold", "must be 0 or more, got %g", ro.CostThreshold)
	}
	if ro.FallbackModels != nil || ro.CostThreshold > 0 || ro.CostOptimization || ro.LatencyPriority || ro.LatencyTarget > 0 {
		req.Route = &ro
	}
	return req, nil
}

func deref64(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

func derefBool(b *bool) bool { return b != nil && *b }

// llmErr turns a router error into a GraphQL error with a stable code.
func llmErr(err error) error {
	e := llm.AsError(err)
	code := apierr.CodeInternal
	switch e.Fault() {
	case llm.FaultCaller:
		code = apierr.CodeBadRequest
		switch e.Kind {
		case llm.KindNotFound:
			code = apierr.CodeNotFound
		case llm.KindAuthentication:
			code = apierr.CodeUnauthenticated
		case llm.KindPermission:
			code = apierr.CodeForbidden
		}
	case llm.FaultPolicy:
		code = apierr.CodeForbidden
	case llm.FaultProvider:
		code = apierr.CodeUnavailable
	}
	return &Error{Code: code, Msg: e.Error(), Details: map[string]any{"llmErrorKind": string(e.Kind), "fault": e.Fault().String()}, Err: err}
}

func (m *mutation) LlmChatCompletion(ctx context.Context, args struct{ Input llmChatInput }) (*llmCompletion, error) {
	if err := m.c.llmEnabled(); err != nil {
		return nil, err
	}
	req, err := args.Input.request(false)
	if err != nil {
		return nil, err
	}
	resp, call, err := m.c.llm.Chat(ctx, req, llmCaller(ctx, &args.Input))
	if err != nil {
		return nil, llmErr(err)
	}
	return &llmCompletion{resp: resp, call: call}, nil
}

func (s *subscription) LlmStream(ctx context.Context, args struct{ Input llmChatInput }) (<-chan *llmChunk, error) {
	if err := s.c.llmEnabled(); err != nil {
		return nil, err
	}
	req, err := args.Input.request(true)
	if err != nil {
		return nil, err
	}
	st, call, err := s.c.llm.Stream(ctx, req, llmCaller(ctx, &args.Input))
	if err != nil {
		return nil, llmErr(err)
	}
	out := make(chan *llmChunk)
	go func() {
		defer close(out)
		defer st.Close()
		send := func(c *llmChunk) bool {
			select {
			case out <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			ev, err := st.Recv()
			if err == io.EOF {
				st.Close()
				done := &llmChunk{typ: "DONE", callID: call.ID, provider: call.Provider, model: call.Model}
				if call.Priced {
					done.cost = &call.CostUSD
				}
				send(done)
				return
			}
			if err != nil {
				e := llm.AsError(err)
				if !errors.Is(err, context.Canceled) {
					send(&llmChunk{typ: "ERROR", err: e.Message, errKind: string(e.Kind), callID: call.ID})
				}
				return
			}
			if !send(chunkOf(ev)) {
				return
			}
		}
	}()
	return out, nil
}
