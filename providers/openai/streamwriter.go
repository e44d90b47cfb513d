package openai

import (
	"fmt"
	"io"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// StreamOptions configure a [StreamWriter].
type StreamOptions struct {
	// Model is the name every chunk reports; empty uses the start event's.
	Model string
	// Created is the Unix time in seconds every chunk reports.
	Created int64
	// IncludeUsage is the caller's stream_options.include_usage: send the
	// usage chunk ("choices": []) and "usage": null on every other chunk.
	IncludeUsage bool
	// ID is the id every chunk reports; empty uses the start event's, or a
	// fresh "chatcmpl-" id when that is empty too.
	ID string
}

// StreamWriter renders stream events as chat.completion.chunk server-sent
// events. It writes each chunk with one call to the underlying writer and
// never flushes: the HTTP handler flushes. It is not safe for concurrent
// use.
//
// Tool calls carry their own "index", counting from 0 in the order the calls
// start, as OpenAI's clients expect (not the canonical part index); the id,
// type and name go only with a call's first fragment. Thinking goes out as
// "reasoning_content" deltas; thinking signatures are not sent.
type StreamWriter struct {
	w       io.Writer
	opts    StreamOptions
	buf     []byte
	prefix  []byte // `data: {"id":…,"object":…,"created":…,"model":…,` shared by all chunks
	started bool
	// tools maps canonical part indices to tool-call ordinals: tools[k] is
	// the part index of the k-th tool call.
	tools []int
}

// NewStreamWriter renders chunks to w.
func NewStreamWriter(w io.Writer, opts StreamOptions) *StreamWriter {
	return &StreamWriter{w: w, opts: opts, buf: make([]byte, 0, 512)}
}

// Write renders one event. Events must come in the order llm.Stream
// documents; content before the start event gets an implied start. A usage
// event is dropped unless IncludeUsage is set.
func (s *StreamWriter) Write(ev llm.Event) error {
	if ev.Type == llm.EventStart {
		if s.started {
			return fmt.Errorf("openai: second stream start")
		}
		return s.start(ev.ID, ev.Model)
	}
	if !s.started {
		if err := s.start("", ""); err != nil {
			return err
		}
	}
	b := s.buf[:0]
	switch ev.Type {
	case llm.EventText:
		if ev.Text == "" {
			return nil
		}
		b = s.open(b)
		b = append(b, `{"content":`...)
		b = appendString(b, ev.Text)
		b = append(b, '}')
	case llm.EventThinking:
		if ev.Text == "" {
			return nil
		}
		b = s.open(b)
		b = append(b, `{"reasoning_content":`...)
		b = appendString(b, ev.Text)
		b = append(b, '}')
	case llm.EventToolCall:
		if ev.ToolCall == nil {
			return fmt.Errorf("openai: tool-call event without a tool call")
		}
		k := len(s.tools)
		s.tools = append(s.tools, ev.Index)
		b = s.open(b)
		b = append(b, `{"tool_calls":[{"index":`...)
		b = appendInt(b, int64(k))
		b = append(b, `,"id":`...)
		b = appendString(b, ev.ToolCall.ID)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = appendString(b, ev.ToolCall.Name)
		b = append(b, `,"arguments":`...)
		b = appendString(b, ev.ToolCall.Arguments)
		b = append(b, "}}]}"...)
	case llm.EventToolArgs:
		k := s.toolOrdinal(ev.Index)
		if k < 0 {
			return fmt.Errorf("openai: tool arguments for part %d, which is not a tool call", ev.Index)
		}
		if ev.ToolCall == nil || ev.ToolCall.Arguments == "" {
			return nil
		}
		b = s.open(b)
		b = append(b, `{"tool_calls":[{"index":`...)
		b = appendInt(b, int64(k))
		b = append(b, `,"function":{"arguments":`...)
		b = appendString(b, ev.ToolCall.Arguments)
		b = append(b, "}}]}"...)
	case llm.EventStop:
		b = s.open(b)
		b = append(b, `{},"logprobs":null,"finish_reason":"`...)
		b = append(b, finishReason(ev.StopReason)...)
		b = append(b, `"}]`...)
		return s.flushChunk(b)
	case llm.EventUsage:
		if !s.opts.IncludeUsage || ev.Usage == nil {
			return nil
		}
		u := ev.Usage
		b = append(b, s.prefix...)
		b = append(b, `"choices":[],"usage":{"prompt_tokens":`...)
		b = appendInt(b, int64(u.Prompt()))
		b = append(b, `,"completion_tokens":`...)
		b = appendInt(b, int64(u.Completion()))
		b = append(b, `,"total_tokens":`...)
		b = appendInt(b, int64(u.Total()))
		b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
		b = appendInt(b, int64(u.CacheRead))
		b = append(b, `},"completion_tokens_details":{"reasoning_tokens":`...)
		b = appendInt(b, int64(u.Reasoning))
		b = append(b, "}}}\n\n"...)
		return s.send(b)
	default:
		return fmt.Errorf("openai: unknown stream event type %d", ev.Type)
	}
	b = append(b, `,"logprobs":null,"finish_reason":null}]`...)
	return s.flushChunk(b)
}

// start writes the first chunk: the assistant role and empty content.
func (s *StreamWriter) start(id, model string) error {
	s.started = true
	if s.opts.ID != "" {
		id = s.opts.ID
	}
	if id == "" {
		id = NewID()
	}
	if s.opts.Model != "" {
		model = s.opts.Model
	}
	p := append(s.prefix[:0], `data: {"id":`...)
	p = appendString(p, id)
	p = append(p, `,"object":"chat.completion.chunk","created":`...)
	p = appendInt(p, s.opts.Created)
	p = append(p, `,"model":`...)
	p = appendString(p, model)
	s.prefix = append(p, ',')
	b := s.open(s.buf[:0])
	b = append(b, `{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]`...)
	return s.flushChunk(b)
}

// open appends the chunk prefix up to the delta's value.
func (s *StreamWriter) open(b []byte) []byte {
	b = append(b, s.prefix...)
	return append(b, `"choices":[{"index":0,"delta":`...)
}

// flushChunk closes the chunk object (with "usage": null when the caller
// asked for usage) and writes it.
func (s *StreamWriter) flushChunk(b []byte) error {
	if s.opts.IncludeUsage {
		b = append(b, `,"usage":null`...)
	}
	b = append(b, "}\n\n"...)
	return s.send(b)
}

func (s *StreamWriter) send(b []byte) error {
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("openai: writing the stream: %w", err)
	}
	return nil
}

func (s *StreamWriter) toolOrdinal(part int) int {
	for k, p := range s.tools {
		if p == part {
			return k
		}
	}
	return -1
}

// Done writes the end of the stream, "data: [DONE]".
func (s *StreamWriter) Done() error {
	return s.send(append(s.buf[:0], "data: [DONE]\n\n"...))
}

// WriteError writes a mid-stream error as OpenAI does,
// data: {"error":{…}} (see [EncodeError]). The stream should end after it,
// without [DONE].
func (s *StreamWriter) WriteError(e *llm.Error) error {
	b := append(s.buf[:0], "data: "...)
	b = append(b, EncodeError(e)...)
	return s.send(append(b, "\n\n"...))
}
