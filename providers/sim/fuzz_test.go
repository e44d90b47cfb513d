package sim

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeScript checks that the control endpoint's script decoder never
// panics and that what it accepts survives a round trip through the JSON
// form.
func FuzzDecodeScript(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","steps":[{"text":"hi"}]}`,
		`{"model":"*","steps":[{"thinking":"t","tool_calls":[{"name":"f","arguments":{"a":[1,{"b":null}]}}],"stop_reason":"tool_calls"}]}`,
		`{"model":"m","steps":[{"tool_calls":[{"id":"x","name":"f","arguments":"not json"}]}]}`,
		`{"model":"m","steps":[{"status":529,"retry_after":1500,"delay":"1ms","hang":true,"error_after_tokens":3}]}`,
		`{"model":"m","steps":[{"usage":{"input":1,"cacheRead":2,"cacheWrite":3,"output":4,"reasoning":5}}]}`,
		`{"model":"m","steps":[null]}`,
		`{"model":"m","steps":[{"delay":1e300}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sr, err := DecodeScript(data)
		if err != nil {
			return
		}
		for i, st := range sr.Steps {
			b, err := json.Marshal(st)
			if err != nil {
				t.Fatalf("step %d: marshal: %v", i, err)
			}
			var again Step
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatalf("step %d: %s does not decode: %v", i, b, err)
			}
			if diff := cmp.Diff(st, again); diff != "" {
				t.Fatalf("step %d round trip (-first +again):\n%s", i, diff)
			}
		}
	})
}

// FuzzDecoders feeds arbitrary bodies to every format's request decoder.
func FuzzDecoders(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"use a tool"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}]}`,
		`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"tools":[{"name":"f","input_schema":{}}]}`,
		`{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"properties":{"a":{"type":"STRING"}}}}]}]}`,
		`{"messages":[{"role":"user","content":[{"text":"x"}]}],"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{}}}}]}}`,
		`{"model":"m","input":[[1,2],[3]],"texts":["a"],"requests":[{"content":{"parts":[]}}]}`,
		`{"model":"m","stream":false,"options":{"num_predict":-1}}`,
		`[]`, `null`, `{"messages":[{}]}`,
	} {
		f.Add([]byte(s))
	}
	oai, az := &openAI{}, &openAI{azure: true}
	chats := []decodeFunc{oai.decode, az.decode, anthropic{}.decode, gemini{}.decode,
		bedrock{}.decode(false), cohere{}.decode, ollama{}.decode}
	embeds := []embedDecodeFunc{oai.decodeEmbed, az.decodeEmbed, gemini{}.decodeEmbed, cohere{}.decodeEmbed, ollama{}.decodeEmbed}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/v1beta/models/m:batchEmbedContents", nil)
		r.SetPathValue("call", "m:batchEmbedContents")
		r.SetPathValue("deployment", "d")
		r.SetPathValue("model", "m")
		for _, d := range chats {
			var c call
			if e := d(r, body, &c); e == nil {
				if c.tool != nil && !json.Valid([]byte(argsFor(c.tool.schema))) {
					t.Fatalf("invalid arguments for schema %s", c.tool.schema)
				}
			} else if e.status < 400 || e.message == "" {
				t.Fatalf("bad error %+v", e)
			}
		}
		for _, d := range embeds {
			var ec embedCall
			if e := d(r, body, &ec); e == nil && len(ec.inputs) == 0 {
				t.Fatalf("accepted %q without inputs", body)
			}
		}
	})
}

// FuzzAppendString checks the JSON string writer against encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\ nl\n tab\t", "\x00\x1f\x7f", "é\u2028\u2029😀", "\xff\xfe bad"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q gave invalid JSON %s: %v", s, b, err)
		}
		var want string // what encoding/json makes of s (bad bytes become U+FFFD)
		enc, _ := json.Marshal(s)
		if err := json.Unmarshal(enc, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%q decoded to %q, want %q", s, got, want)
		}
	})
}

// FuzzParseSigV4 checks the Authorization parser never panics.
func FuzzParseSigV4(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=,Signature=")
	f.Fuzz(func(t *testing.T, h string) {
		if a, ok := parseSigV4(h); ok && (a.accessKey == "" || a.signature == "") {
			t.Fatalf("accepted %q as %+v", h, a)
		}
	})
}

// FuzzConfigJSON checks the configuration decoder keeps its bounds.
func FuzzConfigJSON(f *testing.F) {
	f.Add([]byte(`{"latency":"10ms","ttft":5,"tokens_per_second":50,"error_rate":0.1,"rate_limit_rate":0.2,"seed":3}`))
	f.Add([]byte(`{"retry_after":"1h1s"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Config
		if json.Unmarshal(b, &c) != nil {
			return
		}
		if c.ErrorRate < 0 || c.ErrorRate > 1 || c.RateLimitRate < 0 || c.RateLimitRate > 1 || c.TokensPerSecond < 0 ||
			c.Latency < 0 || c.Latency > maxDuration || c.TTFT < 0 || c.RetryAfter < 0 {
			t.Fatalf("accepted %s as %+v", b, c)
		}
	})
}
