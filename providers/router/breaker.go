package router

import (
	"sync"
	"sync/atomic"
	"time"
)

// Circuit states.
const (
	stateClosed int32 = iota
	stateOpen
	stateHalfOpen
)

func stateName(s int32) string {
	switch s {
	case stateOpen:
		return "open"
	case stateHalfOpen:
		return "half-open"
	}
	return "closed"
}

// breaker is one deployment's circuit. Closed, it lets every call through
// and counts consecutive provider faults; at the threshold it opens and
// refuses calls for the open period; then it is half-open and lets exactly
// one probe through: the probe's success closes it, its failure opens it
// again. Outcomes that say nothing about the deployment (the caller's
// fault, a cancelled call) release the probe without a verdict.
//
// The closed state is read with one atomic load, without the lock.
type breaker struct {
	state    atomic.Int32
	failures atomic.Int32 // written under mu
	mu       sync.Mutex
	until    time.Time // end of the open period
	probing  bool      // a half-open probe is in flight
}

// allow reports whether a call may go to the deployment now, and whether
// it is the half-open probe.
func (b *breaker) allow(now func() time.Time) (ok, probe bool) {
	if b.state.Load() == stateClosed {
		return true, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state.Load() {
	case stateClosed:
		return true, false
	case stateOpen:
		if now().Before(b.until) {
			return false, false
		}
		b.state.Store(stateHalfOpen)
		b.probing = true
		return true, true
	}
	if b.probing {
		return false, false
	}
	b.probing = true
	return true, true
}

// success records a call the deployment answered; it reports whether the
// circuit closed.
func (b *breaker) success() bool {
	if b.state.Load() == stateClosed && b.failures.Load() == 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	was := b.state.Load()
	b.state.Store(stateClosed)
	b.failures.Store(0)
	b.probing = false
	return was != stateClosed
}

// failure records a provider fault; it reports whether the circuit opened.
func (b *breaker) failure(now time.Time, threshold int, openFor time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state.Load() {
	case stateHalfOpen:
		b.state.Store(stateOpen)
		b.until = now.Add(openFor)
		b.probing = false
		return true
	case stateOpen:
		// A call let through before the circuit opened; it is open already.
		return false
	}
	n := b.failures.Add(1)
	if int(n) >= threshold {
		b.state.Store(stateOpen)
		b.until = now.Add(openFor)
		return true
	}
	return false
}

// release ends a probe without a verdict on the deployment, so that the
// next call probes instead.
func (b *breaker) release(probe bool) {
	if !probe {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Load() == stateHalfOpen {
		b.probing = false
	}
}

// closed reports whether the circuit is closed.
func (b *breaker) closed() bool { return b.state.Load() == stateClosed }

// snapshot returns the state, the consecutive failures and the end of the
// open period.
func (b *breaker) snapshot() (state int32, failures int, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state.Load(), int(b.failures.Load()), b.until
}
