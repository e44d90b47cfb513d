package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// sharedErrors are the statuses every format must classify.
var sharedErrors = []errorCase{
	{http.StatusBadRequest, llm.KindInvalidRequest},
	{http.StatusUnauthorized, llm.KindUpstreamAuth},
	{http.StatusForbidden, llm.KindUpstreamAuth},
	{http.StatusNotFound, llm.KindUpstreamModel},
	{http.StatusTooManyRequests, llm.KindRateLimit},
	{http.StatusInternalServerError, llm.KindServer},
	{http.StatusServiceUnavailable, llm.KindOverloaded},
}

func testErrors(t *testing.T, e *env) {
	for _, ec := range append(append([]errorCase(nil), sharedErrors...), e.f.extraErrors...) {
		msg := fmt.Sprintf("scripted failure %d for the conformance suite", ec.status)
		for _, stream := range []bool{false, true} {
			e.sim.Script(e.f.model, sim.Step{Status: ec.status, ErrorMessage: msg})
			var err error
			if stream {
				var st llm.Stream
				st, err = e.p.Stream(context.Background(), e.userAsk("hello"))
				if err == nil {
					st.Close()
					t.Errorf("%d: Stream succeeded, want an error before any event", ec.status)
					continue
				}
			} else {
				_, err = e.p.Chat(context.Background(), e.userAsk("hello"))
				if err == nil {
					t.Errorf("%d: Chat succeeded, want an error", ec.status)
					continue
				}
			}
			le := asError(t, err)
			what := fmt.Sprintf("%d (stream %v)", ec.status, stream)
			if le.Kind != ec.kind {
				t.Errorf("%s: kind %q, want %q (%v)", what, le.Kind, ec.kind, le)
			}
			if le.UpstreamStatus != ec.status {
				t.Errorf("%s: upstream status %d, want %d", what, le.UpstreamStatus, ec.status)
			}
			if !strings.Contains(le.Message, msg) {
				t.Errorf("%s: message %q does not carry the provider's %q", what, le.Message, msg)
			}
			if le.Provider != e.cfg.Name {
				t.Errorf("%s: provider %q, want %q", what, le.Provider, e.cfg.Name)
			}
		}
	}
	if n := e.sim.Pending(e.f.model); n != 0 {
		t.Errorf("%d scripted steps were not consumed", n)
	}

	// Credentials the simulator refuses.
	bad := e.provider(t, e.f.badKey(e.cfg))
	_, err := bad.Chat(context.Background(), e.userAsk("hello"))
	if err == nil {
		t.Fatal("Chat with a wrong key succeeded")
	}
	if le := asError(t, err); le.Kind != llm.KindUpstreamAuth {
		t.Errorf("wrong key: kind %q, want %q (%v)", le.Kind, llm.KindUpstreamAuth, le)
	}
}

func testStreamError(t *testing.T, e *env) {
	for _, ec := range e.f.streamErrors {
		t.Run(strconv.Itoa(ec.status), func(t *testing.T) {
			msg := fmt.Sprintf("the model stopped for a scripted %d", ec.status)
			e.sim.Script(e.f.model, sim.Step{Text: replyText, ErrorAfterTokens: 3, Status: ec.status, ErrorMessage: msg})
			st, err := e.p.Stream(context.Background(), e.userAsk("hello"))
			if err != nil {
				t.Fatalf("Stream: %v (the failure comes after some tokens)", err)
			}
			resp, _, err := collect(t, st)
			if err == nil || err == io.EOF {
				t.Fatalf("stream ended with %v, want an *llm.Error", err)
			}
			le := asError(t, err)
			if le.Kind != ec.kind {
				t.Errorf("kind %q, want %q (%v)", le.Kind, ec.kind, le)
			}
			if !strings.Contains(le.Message, msg) {
				t.Errorf("message %q does not carry the provider's %q", le.Message, msg)
			}
			if txt := resp.Text(); txt == "" || !strings.HasPrefix(replyText, txt) || txt == replyText {
				t.Errorf("text before the failure = %q, want a proper prefix of %q", txt, replyText)
			}
		})
	}
}

// testTimeout runs each case on a simulator of its own: a call cut short
// before it reaches the simulator leaves its scripted step queued.
func testTimeout(t *testing.T, e *env) {
	t.Run("chat", func(t *testing.T) {
		e := newEnv(t, e.f)
		e.sim.Script(e.f.model, sim.Step{Hang: true})
		ctx := newDeadlineCtx()
		done := make(chan error, 1)
		go func() {
			_, err := e.p.Chat(ctx, e.userAsk("hello"))
			done <- err
		}()
		e.waitForRequests(t, 1) // the call is in the hung handler
		ctx.expire()
		err := <-done
		if err == nil {
			t.Fatal("Chat on a hung request succeeded")
		}
		if le := asError(t, err); le.Kind != llm.KindTimeout {
			t.Errorf("kind %q, want %q (%v)", le.Kind, llm.KindTimeout, le)
		}
	})
	t.Run("chat with a real deadline", func(t *testing.T) {
		e := newEnv(t, e.f)
		e.sim.Script(e.f.model, sim.Step{Hang: true})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := e.p.Chat(ctx, e.userAsk("hello"))
		if err == nil {
			t.Fatal("Chat on a hung request succeeded")
		}
		if le := asError(t, err); le.Kind != llm.KindTimeout {
			t.Errorf("kind %q, want %q (%v)", le.Kind, llm.KindTimeout, le)
		}
	})
	t.Run("stream stalls", func(t *testing.T) {
		e := newEnv(t, e.f)
		e.sim.Script(e.f.model, sim.Step{Text: replyText, Hang: true, ErrorAfterTokens: 3})
		ctx := newDeadlineCtx()
		st, err := e.p.Stream(ctx, e.userAsk("hello"))
		if err != nil {
			t.Fatalf("Stream: %v", err)
		}
		defer st.Close()
		text := recvText(t, st)
		ctx.expire()
		for {
			ev, err := st.Recv()
			if err == nil {
				text += ev.Text
				continue
			}
			if err == io.EOF {
				t.Fatal("a stalled stream ended normally after its deadline")
			}
			if le := asError(t, err); le.Kind != llm.KindTimeout {
				t.Errorf("kind %q, want %q (%v)", le.Kind, llm.KindTimeout, le)
			}
			break
		}
		if !strings.HasPrefix(replyText, text) {
			t.Errorf("text %q is not a prefix of %q", text, replyText)
		}
	})
}

func testClose(t *testing.T, e *env) {
	e.sim.Script(e.f.model, sim.Step{Text: replyText, Hang: true, ErrorAfterTokens: 3})
	st, err := e.p.Stream(context.Background(), e.userAsk("hello"))
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	recvText(t, st)
	if active, gone := e.watch.counts(); active != 1 || gone != 0 {
		t.Fatalf("before Close: %d handlers running, %d saw the client go; want 1, 0", active, gone)
	}
	if err := st.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	waitFor(t, "the simulator to see the client go away", func() bool {
		active, gone := e.watch.counts()
		return active == 0 && gone == 1
	})
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Events already read off the wire may still come out; then Recv must
	// fail, not report a clean end.
	for i := 0; ; i++ {
		_, err := st.Recv()
		if err == nil && i < 8 {
			continue
		}
		if err == nil || err == io.EOF {
			t.Errorf("Recv after Close = %v after %d events, want an error", err, i)
		} else if le := asError(t, err); le.Kind != llm.KindCancelled {
			t.Errorf("Recv after Close: kind %q, want %q (%v)", le.Kind, llm.KindCancelled, le)
		}
		break
	}
}
