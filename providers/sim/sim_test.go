package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sse"
)

// start runs a simulator on 127.0.0.1 for the test.
func start(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	s := New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// do sends a request with headers given as name, value pairs and returns
// the response with its whole body.
func do(t *testing.T, method, url, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// decode unmarshals b into a generic value, failing the test on bad JSON.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
	return v
}

// path reads a nested value: keys for objects, ints for arrays.
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// sseEvents reads every SSE event of a body.
func sseEvents(t *testing.T, b []byte) []sse.Event {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(b))
	var out []sse.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ev.Data = append([]byte(nil), ev.Data...)
		out = append(out, ev)
	}
}

const userHello = `[{"role":"user","content":"Hello there"}]`

func TestGeneratedReplyIsDeterministic(t *testing.T) {
	_, url := start(t, Config{Seed: 7})
	body := `{"model":"gpt-4o","messages":` + userHello + `}`
	texts := make([]string, 2)
	for i := range texts {
		res, b := do(t, "POST", url+"/v1/chat/completions", body, "Authorization", "Bearer k")
		if res.StatusCode != 200 {
			t.Fatalf("status %d: %s", res.StatusCode, b)
		}
		texts[i], _ = path(decode(t, b), "choices", 0, "message", "content").(string)
	}
	if texts[0] != texts[1] {
		t.Errorf("replies differ: %q, %q", texts[0], texts[1])
	}
	if !strings.HasPrefix(texts[0], "Simulated reply from gpt-4o:") || len(tokens(texts[0])) != genTokens {
		t.Errorf("reply %q: want the prefix and %d tokens", texts[0], genTokens)
	}
	_, other := start(t, Config{Seed: 8})
	_, b := do(t, "POST", other+"/v1/chat/completions", body, "Authorization", "Bearer k")
	if got := path(decode(t, b), "choices", 0, "message", "content"); got == texts[0] {
		t.Errorf("another seed gave the same reply %q", got)
	}
}

func TestScriptOrderWildcardAndReset(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("m1", Step{Text: "first"}, Step{Text: "second"})
	s.Script("*", Step{Text: "any"})
	chat := func(model string) string {
		_, b := do(t, "POST", url+"/v1/chat/completions", `{"model":"`+model+`","messages":`+userHello+`}`, "Authorization", "Bearer k")
		s, _ := path(decode(t, b), "choices", 0, "message", "content").(string)
		return s
	}
	got := []string{chat("m1"), chat("m1"), chat("m1")}
	if diff := cmp.Diff([]string{"first", "second", "any"}, got); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(chat("m1"), "Simulated reply") {
		t.Error("an empty queue should generate")
	}
	s.Script("m1", Step{Text: "dropped"})
	s.Reset()
	if s.Pending("m1") != 0 || len(s.Requests()) != 0 {
		t.Errorf("after Reset: %d pending, %d logged", s.Pending("m1"), len(s.Requests()))
	}
}

func TestRequestLog(t *testing.T) {
	s, url := start(t, Config{LogLimit: 2})
	body := `{"model":"claude-x","max_tokens":10,"messages":` + userHello + `}`
	do(t, "POST", url+"/v1/messages", body, "X-Api-Key", "k", "Anthropic-Version", "2023-06-01")
	do(t, "POST", url+"/v1/messages", body, "X-Api-Key", "k") // refused, still logged
	do(t, "POST", url+"/api/chat", `{"model":"llama3.2","stream":false,"messages":`+userHello+`}`)
	got := s.Requests()
	if len(got) != 2 {
		t.Fatalf("logged %d requests, want the last 2", len(got))
	}
	want := []Request{
		{Format: "anthropic", Method: "POST", Path: "/v1/messages", Model: "claude-x", Body: []byte(body)},
		{Format: "ollama", Method: "POST", Path: "/api/chat", Model: "llama3.2", Body: []byte(`{"model":"llama3.2","stream":false,"messages":` + userHello + `}`)},
	}
	opt := cmp.FilterPath(func(p cmp.Path) bool {
		n := p.Last().String()
		return n == ".Time" || n == ".Header"
	}, cmp.Ignore())
	if diff := cmp.Diff(want, got, opt); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if got[0].Header.Get("X-Api-Key") != "k" || got[0].Time.IsZero() {
		t.Errorf("entry lacks its header or time: %+v", got[0])
	}

	// The limit may change while the ring is wrapped; order is kept.
	model := func(i int) string { return "m" + strings.Repeat("x", i) }
	send := func(i int) { do(t, "POST", url+"/api/chat", `{"model":"`+model(i)+`","stream":false,"messages":[]}`) }
	s.Reset()
	for i := range 3 {
		send(i)
	}
	s.SetConfig(Config{LogLimit: 4})
	send(3)
	send(4)
	s.SetConfig(Config{LogLimit: 3})
	send(5)
	var models []string
	for _, r := range s.Requests() {
		models = append(models, r.Model)
	}
	if diff := cmp.Diff([]string{model(3), model(4), model(5)}, models); diff != "" {
		t.Errorf("log after limit changes (-want +got):\n%s", diff)
	}
}

func TestInjectedFailures(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		wantStatus int
		wantRetry  string
	}{
		{"rate limit", Config{RateLimitRate: 1, RetryAfter: 3 * time.Second}, 429, "3"},
		{"rate limit default retry", Config{RateLimitRate: 1}, 429, "1"},
		{"server error", Config{ErrorRate: 1}, 500, ""},
		{"none", Config{}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := start(t, tt.cfg)
			res, b := do(t, "POST", url+"/v2/chat", `{"model":"command-r","messages":`+userHello+`}`, "Authorization", "Bearer k")
			if res.StatusCode != tt.wantStatus || res.Header.Get("Retry-After") != tt.wantRetry {
				t.Errorf("status %d Retry-After %q, want %d %q (%s)", res.StatusCode, res.Header.Get("Retry-After"), tt.wantStatus, tt.wantRetry, b)
			}
		})
	}
}

func TestHangAndDisconnect(t *testing.T) {
	s, url := start(t, Config{TokensPerSecond: 1})
	s.Script("m", Step{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":`+userHello+`}`))
	req.Header.Set("Authorization", "Bearer k")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("a hanging step answered %d", res.StatusCode)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}

	// A slow stream stops when the client goes away (the server's Close,
	// run at cleanup, waits for the handler).
	ctx2, cancel2 := context.WithCancel(context.Background())
	req, _ = http.NewRequestWithContext(ctx2, "POST", url+"/v1/chat/completions", strings.NewReader(`{"model":"slow","stream":true,"messages":`+userHello+`}`))
	req.Header.Set("Authorization", "Bearer k")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sse.NewReader(res.Body).Next()
	if err != nil || !bytes.Contains(ev.Data, []byte(`"role":"assistant"`)) {
		t.Fatalf("first event %q, %v", ev.Data, err)
	}
	cancel2()
	res.Body.Close()

	// Hang with ErrorAfterTokens stalls after that many tokens.
	s.SetConfig(Config{})
	s.Script("stall", Step{Text: "a b c d", ErrorAfterTokens: 2, Hang: true})
	ctx3, cancel3 := context.WithCancel(context.Background())
	defer cancel3()
	req, _ = http.NewRequestWithContext(ctx3, "POST", url+"/v1/chat/completions", strings.NewReader(`{"model":"stall","stream":true,"messages":`+userHello+`}`))
	req.Header.Set("Authorization", "Bearer k")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := sse.NewReader(res.Body)
	var text string
	for range 3 { // role chunk and two tokens
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		s, _ := path(decode(t, ev.Data), "choices", 0, "delta", "content").(string)
		text += s
	}
	if text != "a b" {
		t.Errorf("before the stall: %q", text)
	}
	cancel3()
}

func TestComputedUsage(t *testing.T) {
	s, url := start(t, Config{})
	s.Script("m", Step{Text: "one two three", ToolCalls: []llm.ToolCall{{Name: "f", Arguments: `{"a":"12345678"}`}}})
	body := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 400) + `"}]}`
	_, b := do(t, "POST", url+"/v1/chat/completions", body, "Authorization", "Bearer k")
	u := path(decode(t, b), "usage").(map[string]any)
	// input: 402 bytes of content / 4; output: 3 words + 1 + ceil(16/4) for the call.
	if u["prompt_tokens"] != 100.0 || u["completion_tokens"] != 8.0 {
		t.Errorf("usage %v, want prompt 100 completion 8", u)
	}
}

func TestHelpers(t *testing.T) {
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"tokens", tokens("  Hello, big\nworld "), []string{"  Hello,", " big", "\nworld "}},
		{"tokens empty", tokens(""), []string(nil)},
		{"fragments utf8", fragments("ééééé", 3), []string{"éé", "éé", "é"}},
		{"fragments empty", fragments("", 6), []string{""}},
		{"word", hasWord("Please use a TOOL.", "tool"), true},
		{"not a word", hasWord("use the tools", "tool"), false},
		{"prefix", hasWord("toolbox", "tool"), false},
		{"args", argsFor(json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"n":{"type":"integer"},"ok":{"type":["boolean","null"]},"u":{"enum":["c","f"]},"l":{"type":"ARRAY"}}}`)),
			`{"city":"sim","l":[],"n":1,"ok":true,"u":"c"}`},
		{"args without schema", argsFor(nil), "{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestConcurrentStepsServedOnce(t *testing.T) {
	s, url := start(t, Config{})
	const n = 40
	for i := range n {
		s.Script("*", Step{Text: "step " + strconv.Itoa(i)})
	}
	got := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var text string
			if i%2 == 0 {
				_, b := do(t, "POST", url+"/v1/chat/completions", `{"model":"m`+strconv.Itoa(i)+`","stream":true,"messages":`+userHello+`}`, "Authorization", bearerK)
				chunks, _ := oaiChunks(t, b)
				for _, c := range chunks {
					s, _ := path(c, "choices", 0, "delta", "content").(string)
					text += s
				}
			} else {
				_, b := do(t, "POST", url+"/v1/messages", `{"model":"c","max_tokens":5,"messages":`+userHello+`}`, antHeaders...)
				text, _ = path(decode(t, b), "content", 0, "text").(string)
			}
			got <- text
		})
	}
	wg.Wait()
	close(got)
	seen := map[string]bool{}
	for text := range got {
		if seen[text] || !strings.HasPrefix(text, "step ") {
			t.Errorf("reply %q repeated or not scripted", text)
		}
		seen[text] = true
	}
	if len(seen) != n || s.Pending("*") != 0 || len(s.Requests()) != n {
		t.Errorf("%d distinct replies, %d pending, %d logged", len(seen), s.Pending("*"), len(s.Requests()))
	}
}
