package anthropic

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// StreamOptions configure a [StreamWriter].
type StreamOptions struct {
	// Model is the model name to report; empty uses the upstream's.
	Model string
	// ID is the message id; empty uses the upstream's, or a generated
	// "msg_…".
	ID string
	// InputUsage, when known before the upstream reports usage, fills the
	// input counts of message_start.
	InputUsage *llm.Usage
}

// ErrStreamEnded is returned by [StreamWriter.Write] after message_stop or
// an error event was written.
var ErrStreamEnded = errors.New("anthropic: stream already ended")

// StreamWriter writes canonical stream events as an Anthropic Messages
// event stream. Whatever the upstream, the output is a valid sequence:
// exactly one message_start (written on the first event), content blocks
// with increasing indices, each closed before the next one starts, then
// message_delta with the stop reason and usage, then message_stop.
//
// Canonical streams report usage after the stop, so the stop is held until
// EventUsage arrives or [StreamWriter.Finish] is called. A part that
// receives text again after a later part started gets a new block (text is
// only ever appended). Tool-call arguments for a call whose block was
// already closed cannot be expressed and are an error; no built-in upstream
// interleaves them.
//
// The writer never flushes: the caller flushes after Write when it wants
// the bytes on the wire. It is not safe for concurrent use.
type StreamWriter struct {
	w    io.Writer
	opts StreamOptions
	buf  []byte

	started  bool
	ended    bool
	stopped  bool
	stop     llm.Event
	usage    llm.Usage
	hasUsage bool
	hasTools bool

	kinds    []llm.PartKind // kind of each canonical part seen
	open     bool           // a block is open
	openPart int            // canonical part of the open block
	nextWire int            // index of the next block
}

// NewStreamWriter returns a writer of Anthropic events to w.
func NewStreamWriter(w io.Writer, opts StreamOptions) *StreamWriter {
	return &StreamWriter{w: w, opts: opts, buf: make([]byte, 0, 512)}
}

// Write writes what ev adds to the stream.
func (s *StreamWriter) Write(ev llm.Event) error {
	if s.ended {
		return ErrStreamEnded
	}
	s.buf = s.buf[:0]
	err := s.add(ev)
	if ferr := s.flushBuf(); ferr != nil {
		return ferr
	}
	return err
}

func (s *StreamWriter) add(ev llm.Event) error {
	switch ev.Type {
	case llm.EventStart:
		s.ensureStart(ev.ID, ev.Model)
		return nil
	case llm.EventUsage:
		if ev.Usage != nil {
			s.usage, s.hasUsage = *ev.Usage, true
		}
		if s.stopped {
			s.finish()
		}
		return nil
	case llm.EventStop:
		if s.stopped {
			return nil
		}
		s.ensureStart("", "")
		s.closeOpen()
		s.stopped, s.stop = true, ev
		return nil
	case llm.EventText, llm.EventThinking, llm.EventToolCall, llm.EventToolArgs:
	default:
		return fmt.Errorf("anthropic: stream event of unknown type %d", ev.Type)
	}
	if s.stopped {
		return fmt.Errorf("anthropic: stream content event for part %d after the stop", ev.Index)
	}
	s.ensureStart("", "")
	if ev.Index < 0 || ev.Index > len(s.kinds) {
		return fmt.Errorf("anthropic: stream event for part %d, but %d parts were started", ev.Index, len(s.kinds))
	}
	isNew := ev.Index == len(s.kinds)
	switch ev.Type {
	case llm.EventText, llm.EventThinking:
		kind := llm.PartText
		if ev.Type == llm.EventThinking {
			kind = llm.PartThinking
		}
		if isNew {
			s.kinds = append(s.kinds, kind)
		} else if s.kinds[ev.Index] != kind {
			return fmt.Errorf("anthropic: stream %s event for part %d of another kind", kindName(kind), ev.Index)
		}
		if !s.open || s.openPart != ev.Index {
			s.closeOpen()
			s.startBlock(ev.Index, kind, nil)
		}
		if kind == llm.PartText {
			if ev.Text != "" {
				s.delta("text_delta", "text", ev.Text)
			}
			return nil
		}
		if ev.Text != "" {
			s.delta("thinking_delta", "thinking", ev.Text)
		}
		if ev.Signature != "" {
			s.delta("signature_delta", "signature", ev.Signature)
		}
		return nil
	case llm.EventToolCall:
		if !isNew {
			return fmt.Errorf("anthropic: stream tool call reopens part %d", ev.Index)
		}
		if ev.ToolCall == nil {
			return fmt.Errorf("anthropic: stream tool-call event for part %d without a tool call", ev.Index)
		}
		s.kinds = append(s.kinds, llm.PartToolCall)
		s.closeOpen()
		s.startBlock(ev.Index, llm.PartToolCall, ev.ToolCall)
		if ev.ToolCall.Arguments != "" {
			s.delta("input_json_delta", "partial_json", ev.ToolCall.Arguments)
		}
		return nil
	}
	// EventToolArgs
	if isNew || s.kinds[ev.Index] != llm.PartToolCall {
		return fmt.Errorf("anthropic: stream tool arguments for part %d, which is not a tool call", ev.Index)
	}
	if !s.open || s.openPart != ev.Index {
		return fmt.Errorf("anthropic: stream tool arguments for part %d after its block was closed", ev.Index)
	}
	if ev.ToolCall != nil && ev.ToolCall.Arguments != "" {
		s.delta("input_json_delta", "partial_json", ev.ToolCall.Arguments)
	}
	return nil
}

func kindName(k llm.PartKind) string {
	if k == llm.PartThinking {
		return "thinking"
	}
	return "text"
}

// Finish ends the stream: it closes the open block and writes
// message_delta and message_stop with the stop reason and usage seen so
// far ("end_turn" when no stop was seen). It does nothing after the stream
// ended.
func (s *StreamWriter) Finish() error {
	if s.ended {
		return nil
	}
	s.buf = s.buf[:0]
	s.ensureStart("", "")
	s.closeOpen()
	s.finish()
	return s.flushBuf()
}

// Close is Finish, so a StreamWriter is an io.Closer.
func (s *StreamWriter) Close() error { return s.Finish() }

// WriteError writes an "error" event with the Anthropic error object for e
// and ends the stream. Nothing is written after the stream ended.
func (s *StreamWriter) WriteError(e *llm.Error) error {
	if s.ended {
		return ErrStreamEnded
	}
	s.ended = true
	s.buf = append(s.buf[:0], "event: error\ndata: "...)
	s.buf = appendError(s.buf, e)
	s.buf = append(s.buf, "\n\n"...)
	return s.flushBuf()
}

func (s *StreamWriter) flushBuf() error {
	if len(s.buf) == 0 {
		return nil
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("anthropic: write stream: %w", err)
	}
	return nil
}

func (s *StreamWriter) begin(event string) {
	s.buf = append(s.buf, "event: "...)
	s.buf = append(s.buf, event...)
	s.buf = append(s.buf, "\ndata: "...)
}

func (s *StreamWriter) end() { s.buf = append(s.buf, "\n\n"...) }

func (s *StreamWriter) ensureStart(id, model string) {
	if s.started {
		return
	}
	s.started = true
	if s.opts.ID != "" {
		id = s.opts.ID
	}
	if id == "" {
		id = newID("msg_")
	}
	if s.opts.Model != "" {
		model = s.opts.Model
	}
	var in llm.Usage
	if s.opts.InputUsage != nil {
		in = *s.opts.InputUsage
		in.Output, in.Reasoning = 0, 0
	}
	s.begin("message_start")
	s.buf = append(s.buf, `{"type":"message_start","message":{"id":`...)
	s.buf = appendString(s.buf, id)
	s.buf = append(s.buf, `,"type":"message","role":"assistant","model":`...)
	s.buf = appendString(s.buf, model)
	s.buf = append(s.buf, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	s.buf = appendUsage(s.buf, in)
	s.buf = append(s.buf, "}}"...)
	s.end()
}

// startBlock opens the next block for canonical part, of kind.
func (s *StreamWriter) startBlock(part int, kind llm.PartKind, tc *llm.ToolCall) {
	s.open, s.openPart = true, part
	s.begin("content_block_start")
	s.buf = append(s.buf, `{"type":"content_block_start","index":`...)
	s.buf = strconv.AppendInt(s.buf, int64(s.nextWire), 10)
	switch kind {
	case llm.PartText:
		s.buf = append(s.buf, `,"content_block":{"type":"text","text":""}}`...)
	case llm.PartThinking:
		s.buf = append(s.buf, `,"content_block":{"type":"thinking","thinking":"","signature":""}}`...)
	case llm.PartToolCall:
		s.hasTools = true
		id := tc.ID
		if id == "" {
			id = newID("toolu_")
		}
		s.buf = append(s.buf, `,"content_block":{"type":"tool_use","id":`...)
		s.buf = appendString(s.buf, id)
		s.buf = append(s.buf, `,"name":`...)
		s.buf = appendString(s.buf, tc.Name)
		s.buf = append(s.buf, `,"input":{}}}`...)
	}
	s.end()
}

// delta writes a content_block_delta of typ for the open block.
func (s *StreamWriter) delta(typ, field, value string) {
	s.begin("content_block_delta")
	s.buf = append(s.buf, `{"type":"content_block_delta","index":`...)
	s.buf = strconv.AppendInt(s.buf, int64(s.nextWire), 10)
	s.buf = append(s.buf, `,"delta":{"type":"`...)
	s.buf = append(s.buf, typ...)
	s.buf = append(s.buf, `","`...)
	s.buf = append(s.buf, field...)
	s.buf = append(s.buf, `":`...)
	s.buf = appendString(s.buf, value)
	s.buf = append(s.buf, "}}"...)
	s.end()
}

func (s *StreamWriter) closeOpen() {
	if !s.open {
		return
	}
	s.begin("content_block_stop")
	s.buf = append(s.buf, `{"type":"content_block_stop","index":`...)
	s.buf = strconv.AppendInt(s.buf, int64(s.nextWire), 10)
	s.buf = append(s.buf, '}')
	s.end()
	s.open = false
	s.nextWire++
}

// finish writes message_delta and message_stop.
func (s *StreamWriter) finish() {
	s.ended = true
	reason := wireStopReason(s.stop.StopReason, s.hasTools)
	u := s.usage
	if !s.hasUsage && s.opts.InputUsage != nil {
		u = *s.opts.InputUsage
		u.Output, u.Reasoning = 0, 0
	}
	s.begin("message_delta")
	s.buf = append(s.buf, `{"type":"message_delta","delta":{"stop_reason":`...)
	s.buf = appendString(s.buf, reason)
	s.buf = append(s.buf, `,"stop_sequence":`...)
	if reason == "stop_sequence" {
		s.buf = appendString(s.buf, s.stop.StopSequence)
	} else {
		s.buf = append(s.buf, "null"...)
	}
	s.buf = append(s.buf, `},"usage":`...)
	s.buf = appendUsage(s.buf, u)
	s.buf = append(s.buf, '}')
	s.end()
	s.begin("message_stop")
	s.buf = append(s.buf, `{"type":"message_stop"}`...)
	s.end()
}
