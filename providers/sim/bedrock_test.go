package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

const bedBody = `{"messages":[{"role":"user","content":[{"text":"Hello there"}]}],"inferenceConfig":{"maxTokens":100}}`

// bedModel is a model id with a colon, escaped in paths as the SDKs do.
const bedModel = "anthropic.claude-3-5-sonnet-20240620-v1:0"

func bedURL(base, op string) string {
	return base + "/model/" + strings.ReplaceAll(bedModel, ":", "%3A") + "/" + op
}

func TestBedrockConverse(t *testing.T) {
	s, url := start(t, Config{})
	s.Script(bedModel, Step{Thinking: "Hmm.", Text: "Looking.", ToolCalls: []llm.ToolCall{{ID: "tooluse_1", Name: "f", Arguments: `{"k":"v"}`}},
		Usage: &llm.Usage{Input: 5, CacheRead: 3, CacheWrite: 2, Output: 4}})
	res, b := do(t, "POST", bedURL(url, "converse"), bedBody, "Authorization", "Bearer key")
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	checkPaths(t, decode(t, b), map[string]any{
		"output.message.role": "assistant",
		"output.message.content.0.reasoningContent.reasoningText.text": "Hmm.",
		"output.message.content.1.text":                                "Looking.",
		"output.message.content.2.toolUse.toolUseId":                   "tooluse_1",
		"output.message.content.2.toolUse.input":                       map[string]any{"k": "v"},
		"stopReason":                                                   "tool_use",
		"usage.inputTokens":                                            5.0,
		"usage.outputTokens":                                           4.0,
		"usage.totalTokens":                                            14.0,
		"usage.cacheReadInputTokens":                                   3.0,
		"usage.cacheWriteInputTokens":                                  2.0,
	})
	if s.Requests()[0].Model != bedModel {
		t.Errorf("logged model %q", s.Requests()[0].Model)
	}
	// An inference-profile ARN as model id: its slash is escaped.
	arn := "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
	s.Script(arn, Step{Text: "via profile"})
	res, b = do(t, "POST", url+"/model/"+strings.NewReplacer(":", "%3A", "/", "%2F").Replace(arn)+"/converse", bedBody, "Authorization", "Bearer key")
	if res.StatusCode != 200 || path(decode(t, b), "output", "message", "content", 0, "text") != "via profile" {
		t.Errorf("ARN model id: %d %s", res.StatusCode, b)
	}
}

// frames decodes an event stream, checking every CRC.
func frames(t *testing.T, b []byte) []eventstream.Message {
	t.Helper()
	dec := eventstream.NewDecoder()
	r := bytes.NewReader(b)
	var out []eventstream.Message
	for r.Len() > 0 {
		m, err := dec.Decode(r, nil)
		if err != nil {
			t.Fatalf("frame %d: %v", len(out), err)
		}
		m.Payload = append([]byte(nil), m.Payload...)
		out = append(out, m)
	}
	return out
}

func header(m eventstream.Message, name string) string {
	if v := m.Headers.Get(name); v != nil {
		return v.String()
	}
	return ""
}

func TestBedrockConverseStream(t *testing.T) {
	s, url := start(t, Config{})
	s.Script(bedModel, Step{Thinking: "Hmm.", Text: "Two calls.", ToolCalls: []llm.ToolCall{
		{Name: "a", Arguments: `{"query":"weather in Paris"}`}, {Name: "b"}}})
	res, b := do(t, "POST", bedURL(url, "converse-stream"), bedBody, "Authorization", "Bearer key")
	if ct := res.Header.Get("Content-Type"); ct != "application/vnd.amazon.eventstream" {
		t.Fatalf("content type %q: %s", ct, b)
	}
	var names []string
	text, reasoning, sig := "", "", ""
	input := map[float64]string{}
	var usage, stop any
	for _, m := range frames(t, b) {
		if header(m, ":message-type") != "event" || header(m, ":content-type") != "application/json" {
			t.Errorf("headers %v", m.Headers)
		}
		ev := header(m, ":event-type")
		if len(names) == 0 || names[len(names)-1] != ev || ev != "contentBlockDelta" {
			names = append(names, ev)
		}
		v := decode(t, m.Payload)
		if _, ok := v["p"]; !ok {
			t.Errorf("%s has no padding: %s", ev, m.Payload)
		}
		switch ev {
		case "contentBlockStart":
			if path(v, "start", "toolUse", "toolUseId") == nil || path(v, "start", "toolUse", "name") == nil {
				t.Errorf("contentBlockStart %s", m.Payload)
			}
		case "contentBlockDelta":
			i := v["contentBlockIndex"].(float64)
			if s, ok := path(v, "delta", "text").(string); ok {
				text += s
			}
			if s, ok := path(v, "delta", "reasoningContent", "text").(string); ok {
				reasoning += s
			}
			if s, ok := path(v, "delta", "reasoningContent", "signature").(string); ok {
				sig = s
			}
			if s, ok := path(v, "delta", "toolUse", "input").(string); ok {
				input[i] += s
			}
		case "messageStop":
			stop = v["stopReason"]
		case "metadata":
			usage = v["usage"]
			if path(v, "metrics", "latencyMs") == nil {
				t.Errorf("metadata %s", m.Payload)
			}
		}
	}
	want := []string{"messageStart",
		"contentBlockDelta", "contentBlockStop", // reasoning
		"contentBlockDelta", "contentBlockStop", // text: no start
		"contentBlockStart", "contentBlockDelta", "contentBlockStop",
		"contentBlockStart", "contentBlockDelta", "contentBlockStop",
		"messageStop", "metadata"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if text != "Two calls." || reasoning != "Hmm." || sig == "" || stop != "tool_use" || path(usage, "totalTokens") == nil {
		t.Errorf("text %q reasoning %q sig %q stop %v usage %v", text, reasoning, sig, stop, usage)
	}
	if input[2] != `{"query":"weather in Paris"}` || !json.Valid([]byte(input[2])) || input[3] != "{}" {
		t.Errorf("tool input %v", input)
	}
}

func TestBedrockErrors(t *testing.T) {
	s, url := start(t, Config{APIKey: "key"})
	s.Script(bedModel, Step{Status: 429}, Step{Text: "a b c", ErrorAfterTokens: 2, Status: 429})
	res, b := do(t, "POST", bedURL(url, "converse"), bedBody, "Authorization", "Bearer key")
	if res.StatusCode != 429 || !strings.HasPrefix(res.Header.Get("X-Amzn-Errortype"), "ThrottlingException") || decode(t, b)["message"] == nil {
		t.Errorf("429: %d %v %s", res.StatusCode, res.Header, b)
	}
	_, b = do(t, "POST", bedURL(url, "converse-stream"), bedBody, "Authorization", "Bearer key")
	fs := frames(t, b)
	last := fs[len(fs)-1]
	if header(last, ":message-type") != "exception" || header(last, ":exception-type") != "throttlingException" ||
		decode(t, last.Payload)["message"] == nil {
		t.Errorf("last frame %v %s", last.Headers, last.Payload)
	}
	tests := []struct {
		name, auth, errType string
	}{
		{"no auth", "", "MissingAuthenticationTokenException"},
		{"wrong key", "Bearer nope", "UnrecognizedClientException"},
		{"garbage", "Basic abc", "IncompleteSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, b := do(t, "POST", bedURL(url, "converse"), bedBody, "Authorization", tt.auth)
			if res.StatusCode != 403 || !strings.HasPrefix(res.Header.Get("X-Amzn-Errortype"), tt.errType) {
				t.Errorf("%d %v %s", res.StatusCode, res.Header.Get("X-Amzn-Errortype"), b)
			}
		})
	}
}

// signed builds a request signed with SigV4 for service bedrock.
func signed(t *testing.T, url, body string, creds aws.Credentials, region string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-User-Agent", "test")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "bedrock", region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestBedrockSigV4(t *testing.T) {
	_, url := start(t, Config{AWSAccessKeyID: "AKIDSIM", AWSSecretAccessKey: "secret", AWSRegion: "us-east-1"})
	good := aws.Credentials{AccessKeyID: "AKIDSIM", SecretAccessKey: "secret", SessionToken: "tok"}
	now := time.Now()
	tests := []struct {
		name    string
		req     func() *http.Request
		status  int
		errType string
	}{
		{"valid", func() *http.Request { return signed(t, bedURL(url, "converse"), bedBody, good, "us-east-1", now) }, 200, ""},
		{"valid stream", func() *http.Request {
			return signed(t, bedURL(url, "converse-stream"), bedBody, good, "us-east-1", now)
		}, 200, ""},
		{"tampered body", func() *http.Request {
			r := signed(t, bedURL(url, "converse"), bedBody, good, "us-east-1", now)
			tampered := strings.Replace(bedBody, "Hello", "Jello", 1)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(tampered)), int64(len(tampered))
			return r
		}, 403, "InvalidSignatureException"},
		{"tampered header", func() *http.Request {
			r := signed(t, bedURL(url, "converse"), bedBody, good, "us-east-1", now)
			r.Header.Set("X-Amz-User-Agent", "other")
			return r
		}, 403, "InvalidSignatureException"},
		{"wrong secret", func() *http.Request {
			return signed(t, bedURL(url, "converse"), bedBody, aws.Credentials{AccessKeyID: "AKIDSIM", SecretAccessKey: "nope"}, "us-east-1", now)
		}, 403, "InvalidSignatureException"},
		{"unknown key id", func() *http.Request {
			return signed(t, bedURL(url, "converse"), bedBody, aws.Credentials{AccessKeyID: "OTHER", SecretAccessKey: "secret"}, "us-east-1", now)
		}, 403, "UnrecognizedClientException"},
		{"wrong region", func() *http.Request { return signed(t, bedURL(url, "converse"), bedBody, good, "eu-west-1", now) }, 403, "InvalidSignatureException"},
		{"expired", func() *http.Request {
			return signed(t, bedURL(url, "converse"), bedBody, good, "us-east-1", now.Add(-time.Hour))
		}, 403, "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := http.DefaultClient.Do(tt.req())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || !strings.HasPrefix(res.Header.Get("X-Amzn-Errortype"), tt.errType) {
				t.Errorf("%d %q %s", res.StatusCode, res.Header.Get("X-Amzn-Errortype"), b)
			}
		})
	}
}

func TestParseSigV4(t *testing.T) {
	a, ok := parseSigV4("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	want := sigV4Auth{accessKey: "AKID", date: "20240101", region: "us-east-1", service: "bedrock",
		signedHeaders: []string{"host", "x-amz-date"}, signature: "abc"}
	if !ok || !cmp.Equal(want, a, cmp.AllowUnexported(sigV4Auth{})) {
		t.Errorf("parse: %v %+v", ok, a)
	}
	for _, bad := range []string{"", "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256 Credential=a/b/c, Signature=x", "Bearer x"} {
		if _, ok := parseSigV4(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestSigV4MatchesLibrary checks the verifier's canonical request and
// signature against the AWS SDK's signer on awkward requests.
func TestSigV4MatchesLibrary(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	tests := []struct {
		name, method, url, body string
		hdr                     []string
	}{
		{"vanilla", "GET", "http://example.amazonaws.com/", "", nil},
		{"query", "GET", "http://example.amazonaws.com/?b=2&a=1&a=0&sp=a%20b&t=~x&u=%C3%A9&plus=%2B", "", nil},
		{"escaped path", "POST", "http://127.0.0.1:4010/model/a.b-v1%3A0/converse-stream", bedBody, []string{"Content-Type", "application/json"}},
		{"spaces in values", "POST", "http://h:1/p", "x", []string{"X-Amz-Meta", "  a   b  c ", "Content-Type", "text/plain"}},
		{"multi-valued", "POST", "http://h/p%20q", "x", []string{"X-Amz-Multi", "one", "X-Amz-Multi", "two"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				req.Header.Add(tt.hdr[i], tt.hdr[i+1])
			}
			sum := sha256.Sum256([]byte(tt.body))
			hash := hex.EncodeToString(sum[:])
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "service", "us-east-1", at); err != nil {
				t.Fatal(err)
			}
			a, ok := parseSigV4(req.Header.Get("Authorization"))
			if !ok {
				t.Fatalf("unparsable %q", req.Header.Get("Authorization"))
			}
			// As a server sees it: Host apart, path as sent.
			seen := &http.Request{Method: req.Method, URL: req.URL, Host: req.URL.Host, Header: req.Header}
			got := sigV4Signature(creds.SecretAccessKey, a, req.Header.Get("X-Amz-Date"), canonicalRequest(seen, []byte(tt.body), a.signedHeaders, hash))
			if got != a.signature {
				t.Errorf("signature %s, the SDK's %s\ncanonical:\n%s", got, a.signature, canonicalRequest(seen, []byte(tt.body), a.signedHeaders, hash))
			}
		})
	}
	// Over HTTP/2 the JavaScript SDK signs ":authority" where others sign
	// "host"; both take the request's host.
	r := &http.Request{Method: "POST", URL: &url.URL{Path: "/p"}, Host: "h:1", Header: http.Header{"X-Amz-Date": {"20150830T123600Z"}}}
	host := canonicalRequest(r, nil, []string{"host", "x-amz-date"}, "e3b0")
	auth := canonicalRequest(r, nil, []string{":authority", "x-amz-date"}, "e3b0")
	if strings.ReplaceAll(host, "host", ":authority") != auth {
		t.Errorf("canonical requests differ:\n%s\n%s", host, auth)
	}
}
