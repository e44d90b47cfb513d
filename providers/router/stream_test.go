package router

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/google/go-cmp/cmp"
)

func TestStream(t *testing.T) {
	u := &llm.Usage{Input: 1000, CacheRead: 2000, Output: 500}
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "openai", Provider: "openai"}}})
	s.fakes["openai"].script(step{took: 100 * time.Millisecond, events: streamEvents("Hello", u)})
	st, call, err := s.r.Stream(context.Background(), userRequest("gpt-4o", "hi"), Caller{Tenant: "t"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := llm.Collect(st)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() != "Hello" || resp.Usage != *u {
		t.Errorf("response %+v", resp)
	}
	recs := s.rec.Calls()
	if len(recs) != 1 {
		t.Fatalf("%d calls recorded", len(recs))
	}
	got := recs[0]
	if got.ID != call.ID || !got.Stream || got.Outcome != OutcomeOK || got.UsageEstimated || got.Usage != *u {
		t.Errorf("recorded %+v", got)
	}
	if want := (1000*2.5 + 2000*1.25 + 500*10) / 1e6; !got.Priced || math.Abs(got.CostUSD-want) > 1e-12 {
		t.Errorf("cost %.12f priced %v, want %.12f", got.CostUSD, got.Priced, want)
	}
	// Each Recv takes 100 ms: start at 100, text at 200, stop, usage, EOF
	// at 500.
	if got.TTFT != 200*time.Millisecond || got.Latency != 500*time.Millisecond {
		t.Errorf("TTFT %v latency %v", got.TTFT, got.Latency)
	}
	if diff := cmp.Diff([]string{"openai:ok"}, routeOf(&got)); diff != "" {
		t.Errorf("route (-want +got):\n%s", diff)
	}
	if n := s.fakes["openai"].streams[0].Closed(); n != 1 {
		t.Errorf("upstream closed %d times", n)
	}
}

func TestStreamFallsOverBeforeTheFirstEvent(t *testing.T) {
	tests := []struct {
		name  string
		first step
		route []string
	}{
		{"Stream fails", step{err: llm.FromStatus("a", 503, "", "busy", 0)}, []string{"a:error:overloaded", "b:ok"}},
		{"first Recv fails", step{streamErr: &llm.Error{Kind: llm.KindConnection, Status: 502, Message: "reset"}}, []string{"a:error:connection", "b:ok"}},
		{"empty stream", step{}, []string{"a:error:server", "b:ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}}, Retry: Retry{MaxAttempts: 1}})
			s.fakes["a"].script(tt.first)
			s.fakes["b"].script(step{events: streamEvents("from b", nil)})
			st, call, err := s.r.Stream(context.Background(), userRequest("m", "hi"), Caller{})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := llm.Collect(st)
			if err != nil || resp.Text() != "from b" {
				t.Fatalf("text %q err %v", resp.Text(), err)
			}
			if diff := cmp.Diff(tt.route, routeOf(call)); diff != "" {
				t.Errorf("route (-want +got):\n%s", diff)
			}
			for _, fs := range s.fakes["a"].streams {
				if fs.Closed() != 1 {
					t.Error("a's failed stream was not closed")
				}
			}
		})
	}
}

func TestStreamNoFallbackMidStream(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}, {Name: "b"}}})
	midErr := &llm.Error{Kind: llm.KindOverloaded, Status: 503, Message: "overloaded_error", Provider: "a"}
	s.fakes["a"].script(step{events: streamEvents("partial", nil)[:2], streamErr: midErr})
	st, call, err := s.r.Stream(context.Background(), userRequest("m", "hi"), Caller{})
	if err != nil {
		t.Fatal(err)
	}
	var types []llm.EventType
	for {
		ev, err := st.Recv()
		if err != nil {
			if !errors.Is(err, midErr) {
				t.Fatalf("err = %v, want the provider's mid-stream error", err)
			}
			break
		}
		types = append(types, ev.Type)
	}
	st.Close()
	if diff := cmp.Diff([]llm.EventType{llm.EventStart, llm.EventText}, types); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := s.fakes["b"].Calls(); n != 0 {
		t.Errorf("b called %d times after the first event", n)
	}
	if n := s.fakes["a"].Calls(); n != 1 {
		t.Errorf("a called %d times: a mid-stream error was retried", n)
	}
	recs := s.rec.Calls()
	if len(recs) != 1 {
		t.Fatalf("%d calls recorded", len(recs))
	}
	if got := recs[0]; got.Outcome != OutcomeError || got.ErrorKind != llm.KindOverloaded || !got.UsageEstimated || got.Usage.Output != 2 {
		t.Errorf("recorded %+v", got)
	}
	if diff := cmp.Diff([]string{"a:error:overloaded"}, routeOf(call)); diff != "" {
		t.Errorf("route (-want +got):\n%s", diff)
	}
	// Recv after the end keeps returning the error.
	if _, err := st.Recv(); !errors.Is(err, midErr) {
		t.Errorf("Recv after the error: %v", err)
	}
}

// TestStreamCancelled closes a stream half-way: the upstream is cancelled
// and the call is billed for what was streamed.
func TestStreamCancelled(t *testing.T) {
	tests := []struct {
		name      string
		events    []llm.Event
		read      int
		usage     llm.Usage
		estimated bool
	}{
		{
			name:   "no usage yet: estimated",
			events: streamEvents("Hello, world", nil)[:2], // 12 bytes: 3 tokens
			read:   2,
			// "Summarise this text please" is 26 bytes: 7 tokens.
			usage:     llm.Usage{Input: 7, Output: 3},
			estimated: true,
		},
		{
			name: "thinking and a tool call",
			events: []llm.Event{{Type: llm.EventStart}, {Type: llm.EventThinking, Text: "12345678"},
				{Type: llm.EventToolCall, Index: 1, ToolCall: &llm.ToolCall{ID: "c", Name: "get", Arguments: `{"a":`}}},
			read:      3,
			usage:     llm.Usage{Input: 7, Output: 2, Reasoning: 2},
			estimated: true,
		},
		{
			name:   "usage already sent",
			events: streamEvents("Hello", &llm.Usage{Input: 40, Output: 9}),
			read:   4,
			usage:  llm.Usage{Input: 40, Output: 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, Config{Deployments: []Deployment{{Name: "openai", Provider: "openai"}}})
			s.fakes["openai"].script(step{events: tt.events, block: true})
			st, _, err := s.r.Stream(context.Background(), userRequest("gpt-4o", "Summarise this text please"), Caller{})
			if err != nil {
				t.Fatal(err)
			}
			for range tt.read {
				if _, err := st.Recv(); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			up := s.fakes["openai"].streams[0]
			if up.Closed() != 1 || up.ctx.Err() == nil {
				t.Errorf("upstream closed %d times, context %v", up.Closed(), up.ctx.Err())
			}
			recs := s.rec.Calls()
			if len(recs) != 1 {
				t.Fatalf("%d calls recorded", len(recs))
			}
			got := recs[0]
			if got.Outcome != OutcomeCancelled || got.ErrorKind != llm.KindCancelled || got.Usage != tt.usage || got.UsageEstimated != tt.estimated {
				t.Errorf("recorded outcome %q kind %q usage %+v estimated %v", got.Outcome, got.ErrorKind, got.Usage, got.UsageEstimated)
			}
			want := (float64(tt.usage.Input)*2.5 + float64(tt.usage.Output+tt.usage.Reasoning)*10) / 1e6
			if !got.Priced || math.Abs(got.CostUSD-want) > 1e-12 {
				t.Errorf("cost %.12f priced %v, want %.12f", got.CostUSD, got.Priced, want)
			}
			if _, err := st.Recv(); llm.AsError(err).Kind != llm.KindCancelled {
				t.Errorf("Recv after Close: %v", err)
			}
			st.Close()
			if len(s.rec.Calls()) != 1 || up.Closed() != 1 {
				t.Error("a second Close recorded again or closed upstream again")
			}
		})
	}
}

// TestStreamCallerGoesAway cancels the caller's context while the stream
// waits for the provider.
func TestStreamCallerGoesAway(t *testing.T) {
	s := newSetup(t, Config{Deployments: []Deployment{{Name: "a"}}})
	s.fakes["a"].script(step{events: streamEvents("abcd", nil)[:2], block: true})
	ctx, cancel := context.WithCancel(context.Background())
	st, _, err := s.r.Stream(ctx, userRequest("m", "x"), Caller{})
	if err != nil {
		t.Fatal(err)
	}
	st.Recv()
	st.Recv()
	cancel()
	if _, err := st.Recv(); llm.AsError(err).Kind != llm.KindCancelled {
		t.Fatalf("err = %v", err)
	}
	st.Close()
	recs := s.rec.Calls()
	if len(recs) != 1 || recs[0].Outcome != OutcomeCancelled || recs[0].Usage.Output != 1 {
		t.Errorf("recorded %+v", recs)
	}
	if st := s.r.Deployments()[0]; st.Breaker != "closed" || st.Failures != 0 {
		t.Errorf("a cancelled stream counted against the circuit: %+v", st)
	}
}

// httpProvider streams one text event per line of a real HTTP response.
type httpProvider struct{ url string }

func (p httpProvider) Chat(context.Context, *llm.Request) (*llm.Response, error) {
	return nil, llm.Errorf(llm.KindInvalidRequest, "streams only")
}

func (p httpProvider) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return nil, llm.AsError(err)
	}
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return nil, llm.FromTransport(ctx, "http", err)
	}
	return &lineStream{ctx: ctx, body: resp.Body, sc: bufio.NewScanner(resp.Body)}, nil
}

type lineStream struct {
	ctx     context.Context
	body    io.ReadCloser
	sc      *bufio.Scanner
	started bool
}

func (s *lineStream) Recv() (llm.Event, error) {
	if !s.started {
		s.started = true
		return llm.Event{Type: llm.EventStart}, nil
	}
	if s.sc.Scan() {
		return llm.Event{Type: llm.EventText, Text: s.sc.Text()}, nil
	}
	if err := s.sc.Err(); err != nil {
		return llm.Event{}, llm.FromTransport(s.ctx, "http", err)
	}
	return llm.Event{}, io.EOF
}

func (s *lineStream) Close() error { return s.body.Close() }

// TestStreamCloseCancelsUpstreamRequest checks over real HTTP that closing
// the router's stream ends the upstream request.
func TestStreamCloseCancelsUpstreamRequest(t *testing.T) {
	gone := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first line\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(gone)
	}))
	defer srv.Close()
	rec := &recorder{}
	r, err := New(Config{Deployments: []Deployment{{Name: "h", Client: httpProvider{url: srv.URL}, Models: []string{"m"}}}, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := r.Stream(context.Background(), userRequest("m", "x"), Caller{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	if ev, err := st.Recv(); err != nil || ev.Text != "first line" {
		t.Fatalf("event %+v err %v", ev, err)
	}
	st.Close()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
	if c := rec.Calls(); len(c) != 1 || c[0].Outcome != OutcomeCancelled || c[0].Usage.Output != 3 {
		t.Errorf("recorded %+v", c)
	}
}
