package main

import (
	"bytes"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	keyPos  = []byte(`"position":`)
	keyTime = []byte(`"time":"`)
	keyNext = []byte(`"type":"next"`)
	keyPing = []byte(`"type":"ping"`)
)

// nextErrors counts "next" messages that carry errors instead of an event.
var nextErrors atomic.Int64

// parseNext extracts position and time from a "next" message without a
// full JSON decode (the client shares the 2 cores with the server).
func parseNext(m []byte) (pos, evt int64, ok bool) {
	i := bytes.Index(m, keyPos)
	j := bytes.Index(m, keyTime)
	if i < 0 || j < 0 {
		return 0, 0, false
	}
	rest := m[i+len(keyPos):]
	k := bytes.IndexAny(rest, ",}")
	if k < 0 {
		return 0, 0, false
	}
	p, err := strconv.ParseInt(string(bytes.TrimSpace(rest[:k])), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	rest = m[j+len(keyTime):]
	k = bytes.IndexByte(rest, '"')
	if k < 0 {
		return 0, 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:k]))
	if err != nil {
		return 0, 0, false
	}
	return p, t.UnixNano(), true
}

// samples is the record of one subscriber, written by its reader and read
// by the measurement.
type samples struct {
	last   atomic.Int64 // position of the last event received
	closed atomic.Int64 // close code, -1 without a close frame, 0 while open
	mu     sync.Mutex
	list   []sample
}

func (s *samples) add(x sample) {
	s.mu.Lock()
	s.list = append(s.list, x)
	s.mu.Unlock()
	s.last.Store(x.pos)
}

func (s *samples) lastPos() int64    { return s.last.Load() }
func (s *samples) closedCode() int64 { return s.closed.Load() }

func (s *samples) snapshot() []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.list)
}
