package bedrock

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Frame bounds of the event-stream encoding: a 12-byte prelude (total
// length, headers length, prelude CRC), headers, payload, 4-byte CRC.
const (
	preludeLen  = 12
	minFrameLen = preludeLen + 4
	// maxFrameLen bounds one frame, so a hostile or broken upstream cannot
	// make the reader buffer without limit (AWS caps payloads at 16 MiB
	// and headers at 128 KiB).
	maxFrameLen = 16<<20 + 128<<10
)

// blockKey names one Bedrock content block of one kind; a block index that
// changes kind opens a new canonical part.
type blockKey struct {
	index int
	kind  llm.PartKind
}

// stream reads a /converse-stream event stream. Recv is not safe for
// concurrent use; Close may be called from any goroutine.
type stream struct {
	ctx      context.Context
	cancel   context.CancelFunc
	provider string
	body     io.ReadCloser
	r        *bufio.Reader
	dec      *eventstream.Decoder
	frame    []byte
	payload  []byte

	id, model string
	started   bool
	stopped   bool
	done      bool
	err       error
	pending   []llm.Event
	parts     map[blockKey]int
	next      int
	usage     *llm.Usage // from the metadata event

	closeOnce sync.Once
	closed    atomic.Bool // set by Close, read by Recv
}

func newStream(ctx context.Context, cancel context.CancelFunc, provider string, body io.ReadCloser, id, model string) *stream {
	return &stream{
		ctx: ctx, cancel: cancel, provider: provider, body: body,
		r: bufio.NewReaderSize(body, 32<<10), dec: eventstream.NewDecoder(),
		id: id, model: model, parts: map[blockKey]int{},
	}
}

// Recv returns the next canonical event, io.EOF after the usage event, or
// the error that ended the stream.
func (s *stream) Recv() (llm.Event, error) {
	if s.closed.Load() && !s.done && s.err == nil {
		s.pending = nil
		s.err = &llm.Error{Kind: llm.KindCancelled, Status: 499, Message: "bedrock: the stream was closed", Provider: s.provider}
	}
	for {
		if len(s.pending) > 0 {
			ev := s.pending[0]
			s.pending = s.pending[1:]
			return ev, nil
		}
		if s.err != nil {
			return llm.Event{}, s.err
		}
		if s.done {
			return llm.Event{}, io.EOF
		}
		if err := s.step(); err != nil {
			s.err = err
			s.release()
		} else if s.done {
			s.release()
		}
	}
}

// Close releases the connection; before the end it cancels the call.
func (s *stream) Close() error {
	s.closed.Store(true)
	s.release()
	return nil
}

func (s *stream) release() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.body.Close()
	})
}

// step reads one frame and queues the events it yields.
func (s *stream) step() error {
	msg, err := s.readFrame()
	if err != nil {
		return err
	}
	switch header(msg.Headers, ":message-type") {
	case "event":
		return s.event(header(msg.Headers, ":event-type"), msg.Payload)
	case "exception":
		return s.exception(header(msg.Headers, ":exception-type"), msg.Payload)
	case "error":
		code, text := header(msg.Headers, ":error-code"), header(msg.Headers, ":error-message")
		return s.fail(llm.KindServer, code, "event stream error %s: %s", code, text)
	}
	return nil // unknown message types are ignored
}

// readFrame reads one whole frame, bounded, then decodes it with its CRCs
// checked. A clean end of the body between frames is reported as a
// truncated stream unless the metadata frame was seen.
func (s *stream) readFrame() (eventstream.Message, error) {
	var prelude [preludeLen]byte
	if _, err := io.ReadFull(s.r, prelude[:]); err != nil {
		return eventstream.Message{}, s.readError(err, true)
	}
	total := binary.BigEndian.Uint32(prelude[0:4])
	headersLen := binary.BigEndian.Uint32(prelude[4:8])
	if total < minFrameLen || total > maxFrameLen || headersLen > total-minFrameLen {
		return eventstream.Message{}, s.fail(llm.KindConnection, "", "malformed event stream frame (length %d, headers %d)", total, headersLen)
	}
	if cap(s.frame) < int(total) {
		s.frame = make([]byte, total)
	}
	s.frame = s.frame[:total]
	copy(s.frame, prelude[:])
	if _, err := io.ReadFull(s.r, s.frame[preludeLen:]); err != nil {
		return eventstream.Message{}, s.readError(err, false)
	}
	msg, err := s.dec.Decode(bytes.NewReader(s.frame), s.payload)
	if err != nil {
		var ce eventstream.ChecksumError
		if errors.As(err, &ce) {
			return eventstream.Message{}, s.fail(llm.KindConnection, "", "event stream checksum mismatch: the frame was corrupted in transit")
		}
		return eventstream.Message{}, s.fail(llm.KindConnection, "", "malformed event stream frame: %v", err)
	}
	s.payload = msg.Payload[:0]
	return msg, nil
}

// readError classifies a failed read of the body. atBoundary says no byte
// of the current frame was read yet.
func (s *stream) readError(err error, atBoundary bool) error {
	switch {
	case err == io.EOF && atBoundary:
		if !s.stopped {
			return s.fail(llm.KindConnection, "", "the event stream ended before messageStop")
		}
		return s.fail(llm.KindConnection, "", "the event stream ended before the metadata event (usage)")
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return s.fail(llm.KindConnection, "", "the event stream ended inside a frame")
	}
	return llm.FromTransport(s.ctx, s.provider, fmt.Errorf("bedrock: read event stream: %w", err))
}

// Event payloads. Unknown fields (such as the "p" padding) are ignored.
type (
	blockStart struct {
		ContentBlockIndex int `json:"contentBlockIndex"`
		Start             struct {
			ToolUse *struct {
				ToolUseID string `json:"toolUseId"`
				Name      string `json:"name"`
			} `json:"toolUse"`
		} `json:"start"`
	}
	blockDelta struct {
		ContentBlockIndex int `json:"contentBlockIndex"`
		Delta             struct {
			Text    *string `json:"text"`
			ToolUse *struct {
				Input string `json:"input"`
			} `json:"toolUse"`
			ReasoningContent *struct {
				Text      *string `json:"text"`
				Signature *string `json:"signature"`
			} `json:"reasoningContent"`
		} `json:"delta"`
	}
	messageStopEvent struct {
		StopReason string `json:"stopReason"`
	}
	metadataEvent struct {
		Usage *wireUsage `json:"usage"`
	}
)

// event handles one ":message-type: event" frame.
func (s *stream) event(typ string, payload []byte) error {
	switch typ {
	case "messageStart":
		s.start()
	case "contentBlockStart":
		var ev blockStart
		if err := s.decode(typ, payload, &ev); err != nil {
			return err
		}
		if tu := ev.Start.ToolUse; tu != nil {
			if s.stopped {
				return s.fail(llm.KindServer, "", "contentBlockStart after messageStop")
			}
			if _, dup := s.parts[blockKey{ev.ContentBlockIndex, llm.PartToolCall}]; dup {
				return s.fail(llm.KindServer, "", "second contentBlockStart for content block %d", ev.ContentBlockIndex)
			}
			s.start()
			idx := s.open(ev.ContentBlockIndex, llm.PartToolCall)
			s.pending = append(s.pending, llm.Event{Type: llm.EventToolCall, Index: idx, ToolCall: &llm.ToolCall{ID: tu.ToolUseID, Name: tu.Name}})
		}
	case "contentBlockDelta":
		var ev blockDelta
		if err := s.decode(typ, payload, &ev); err != nil {
			return err
		}
		if s.stopped {
			return s.fail(llm.KindServer, "", "contentBlockDelta after messageStop")
		}
		s.start()
		d, bi := ev.Delta, ev.ContentBlockIndex
		switch {
		case d.Text != nil:
			if *d.Text != "" {
				s.pending = append(s.pending, llm.Event{Type: llm.EventText, Index: s.open(bi, llm.PartText), Text: *d.Text})
			}
		case d.ToolUse != nil:
			idx, ok := s.parts[blockKey{bi, llm.PartToolCall}]
			if !ok {
				return s.fail(llm.KindServer, "", "toolUse delta for content block %d, which never started", bi)
			}
			if d.ToolUse.Input != "" {
				s.pending = append(s.pending, llm.Event{Type: llm.EventToolArgs, Index: idx, ToolCall: &llm.ToolCall{Arguments: d.ToolUse.Input}})
			}
		case d.ReasoningContent != nil:
			rc := d.ReasoningContent
			ev := llm.Event{Type: llm.EventThinking}
			if rc.Text != nil {
				ev.Text = *rc.Text
			}
			if rc.Signature != nil {
				ev.Signature = *rc.Signature
			}
			if ev.Text != "" || ev.Signature != "" {
				ev.Index = s.open(bi, llm.PartThinking)
				s.pending = append(s.pending, ev)
			}
			// Redacted reasoning has no canonical form.
		}
	case "contentBlockStop":
		// Parts need no closing event.
	case "messageStop":
		var ev messageStopEvent
		if err := s.decode(typ, payload, &ev); err != nil {
			return err
		}
		if s.stopped {
			return s.fail(llm.KindServer, "", "second messageStop")
		}
		s.start()
		s.stopped = true
		s.pending = append(s.pending, llm.Event{Type: llm.EventStop, StopReason: stopReason(ev.StopReason)})
		if s.usage != nil { // metadata came early: the stream is complete
			s.pending = append(s.pending, llm.Event{Type: llm.EventUsage, Usage: s.usage})
			s.done = true
		}
	case "metadata":
		var ev metadataEvent
		if err := s.decode(typ, payload, &ev); err != nil {
			return err
		}
		if s.usage != nil {
			return s.fail(llm.KindServer, "", "second metadata event")
		}
		u := ev.Usage.canonical()
		s.usage = &u
		if s.stopped {
			s.pending = append(s.pending, llm.Event{Type: llm.EventUsage, Usage: s.usage})
			s.done = true
		}
	}
	return nil
}

// start queues EventStart once, before anything else.
func (s *stream) start() {
	if !s.started {
		s.started = true
		s.pending = append(s.pending, llm.Event{Type: llm.EventStart, ID: s.id, Model: s.model})
	}
}

// open returns the canonical index of a block, numbering it if new.
func (s *stream) open(block int, kind llm.PartKind) int {
	k := blockKey{block, kind}
	if idx, ok := s.parts[k]; ok {
		return idx
	}
	idx := s.next
	s.next++
	s.parts[k] = idx
	return idx
}

func (s *stream) decode(typ string, payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return s.fail(llm.KindServer, "", "unreadable %s event: %v", typ, err)
	}
	return nil
}

// exception turns an exception frame into an *llm.Error.
func (s *stream) exception(typ string, payload []byte) error {
	var body struct {
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(payload, &body)
	msg := body.Message
	if msg == "" {
		msg = body.MessageU
	}
	if msg == "" {
		msg = "the model stream failed"
	}
	kind, status := llm.KindServer, http.StatusInternalServerError
	switch typ {
	case "throttlingException":
		kind, status = llm.KindRateLimit, http.StatusTooManyRequests
	case "serviceUnavailableException":
		kind, status = llm.KindOverloaded, http.StatusServiceUnavailable
	case "modelStreamErrorException":
		kind, status = llm.KindServer, http.StatusFailedDependency
	case "validationException":
		kind, status = llm.KindInvalidRequest, http.StatusBadRequest
	case "modelTimeoutException":
		kind, status = llm.KindTimeout, http.StatusRequestTimeout
	}
	e := s.fail(kind, typ, "%s", msg)
	e.UpstreamStatus = status
	return e
}

// fail makes the stream's *llm.Error.
func (s *stream) fail(kind llm.ErrorKind, upstreamType, format string, args ...any) *llm.Error {
	e := llm.Errorf(kind, "bedrock: "+format, args...)
	e.Provider = s.provider
	e.UpstreamType = upstreamType
	return e
}

// header returns a string header's value, or "".
func header(h eventstream.Headers, name string) string {
	if v, ok := h.Get(name).(eventstream.StringValue); ok {
		return string(v)
	}
	return ""
}
