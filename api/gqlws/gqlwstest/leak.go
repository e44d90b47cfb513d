package gqlwstest

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// watched marks the goroutines that count as leaks: those of the transports,
// the GraphQL library, gorilla/websocket and net/http server connections.
var watched = []string{
	"github.com/circuit-breaker/",
	"github.com/graph-gophers/",
	"github.com/gorilla/websocket",
	"net/http.(*conn).serve",
}

// CheckLeaks fails t if goroutines started during the test are still running
// when its cleanups have run (it waits up to 5 s for them to end). Call it
// first in the test so that its cleanup runs last.
func CheckLeaks(t testing.TB) {
	t.Helper()
	before := goroutines()
	t.Cleanup(func() {
		var leaked []string
		deadline := time.Now().Add(5 * time.Second)
		for {
			leaked = leaked[:0]
			for id, stack := range goroutines() {
				if _, old := before[id]; !old && isWatched(stack) {
					leaked = append(leaked, stack)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(leaked) > 0 {
			t.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	})
}

func isWatched(stack string) bool {
	// The checker's own goroutine runs the test's cleanups.
	if strings.Contains(stack, "gqlwstest.CheckLeaks") {
		return false
	}
	for _, w := range watched {
		if strings.Contains(stack, w) {
			return true
		}
	}
	return false
}

// goroutines maps the id line of each goroutine to its stack.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		s := string(g)
		head, _, _ := strings.Cut(s, "[")
		out[strings.TrimSpace(head)] = s
	}
	return out
}
