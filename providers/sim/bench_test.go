package sim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchServe measures the simulator's own cost for one request, in memory.
func benchServe(b *testing.B, path, body string, hdr ...string) {
	s := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkOpenAIJSON(b *testing.B) {
	benchServe(b, "/v1/chat/completions", `{"model":"gpt-4o","messages":`+userHello+`}`, "Authorization", bearerK)
}

func BenchmarkOpenAIStream(b *testing.B) {
	benchServe(b, "/v1/chat/completions", `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":`+userHello+`}`,
		"Authorization", bearerK)
}

func BenchmarkAnthropicStream(b *testing.B) {
	benchServe(b, "/v1/messages", `{"model":"claude","max_tokens":100,"stream":true,"messages":`+userHello+`}`, antHeaders...)
}

func BenchmarkBedrockStream(b *testing.B) {
	benchServe(b, "/model/m/converse-stream", bedBody, "Authorization", "Bearer k")
}
