// Package sse reads and writes Server-Sent Events (text/event-stream) as the
// LLM providers use them: "event:" names, multi-line "data:", comments and
// CRLF line ends. The reader bounds line length so a hostile upstream cannot
// make it buffer without limit.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLine bounds one line of the stream.
const MaxLine = 8 << 20

// ErrLineTooLong is returned for a line longer than MaxLine.
var ErrLineTooLong = errors.New("sse: line too long")

// Event is one dispatched event.
type Event struct {
	// Event is the "event:" name; empty for unnamed events.
	Event string
	// Data is the "data:" lines joined with "\n". It is valid until the next
	// call to Next.
	Data []byte
	ID   string
}

// Reader reads events from a stream.
type Reader struct {
	r    *bufio.Reader
	data []byte
	line []byte
}

// NewReader reads events from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 16<<10)} }

// Next returns the next event that has data or a name. It returns io.EOF
// at the end of the stream; an event not terminated by a blank line before
// the end is still returned.
func (r *Reader) Next() (Event, error) {
	var ev Event
	r.data = r.data[:0]
	hasData := false
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && (hasData || ev.Event != "") {
				ev.Data = r.data
				return ev, nil
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if hasData || ev.Event != "" {
				ev.Data = r.data
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
		case "event":
			ev.Event = string(value)
		case "id":
			ev.ID = string(value)
		}
	}
}

// readLine returns one line without its end (LF, CRLF or CR+LF).
func (r *Reader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		chunk, err := r.r.ReadSlice('\n')
		r.line = append(r.line, chunk...)
		if len(r.line) > MaxLine {
			return nil, ErrLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(r.line) > 0 {
				return bytes.TrimRight(r.line, "\r"), nil
			}
			return nil, err
		}
		l := r.line[:len(r.line)-1]
		if n := len(l); n > 0 && l[n-1] == '\r' {
			l = l[:n-1]
		}
		return l, nil
	}
}

// Append appends one event in wire form to b: an optional "event:" line, one
// "data:" line per line of data, and the blank line.
func Append(b []byte, event string, data []byte) []byte {
	if event != "" {
		b = append(b, "event: "...)
		b = append(b, event...)
		b = append(b, '\n')
	}
	for {
		i := bytes.IndexByte(data, '\n')
		b = append(b, "data: "...)
		if i < 0 {
			b = append(b, data...)
			b = append(b, '\n')
			break
		}
		b = append(b, data[:i]...)
		b = append(b, '\n')
		data = data[i+1:]
	}
	return append(b, '\n')
}

// Write writes one event to w.
func Write(w io.Writer, event string, data []byte) error {
	_, err := w.Write(Append(nil, event, data))
	if err != nil {
		return fmt.Errorf("sse: write: %w", err)
	}
	return nil
}
