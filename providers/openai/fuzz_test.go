package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"s"}]},{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]}],"stop":"x","stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{},"strict":true}},"circuit_breaker":{"fallback_models":["b"],"cost_threshold":0.1}}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5,"temperature":1,"top_p":0.5,"n":1,"user":"u","reasoning_effort":"high"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, opts, err := DecodeRequest(body)
		if err != nil {
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.KindInvalidRequest || le.Message == "" {
				t.Fatalf("error %v is not an invalid-request *llm.Error", err)
			}
			return
		}
		if req.Model == "" || len(req.Messages)+len(req.System) == 0 || opts == nil {
			t.Fatalf("accepted an empty request: %+v", req)
		}
		wire, err := encodeRequest(req, req.Stream, true)
		if err != nil {
			t.Fatalf("a decoded request does not encode: %v", err)
		}
		if _, err := json.Marshal(wire); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}

// streamSeeds are the recorded fixtures and a StreamWriter output.
func streamSeeds(f *testing.F) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sse"))
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	var buf bytes.Buffer
	w := NewStreamWriter(&buf, StreamOptions{ID: "x", Model: "m", IncludeUsage: true})
	for _, ev := range toolStream {
		w.Write(ev)
	}
	w.Done()
	return append(out, buf.Bytes())
}

// FuzzStreamDecoder: any bytes give a well-formed event sequence (checked
// by llm.Accumulator) or an *llm.Error, never a panic.
func FuzzStreamDecoder(f *testing.F) {
	for _, s := range streamSeeds(f) {
		f.Add(s)
	}
	c := &Client{name: "fuzz"}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newStream(t.Context(), func() {}, c, io.NopCloser(bytes.NewReader(data)))
		_, err := llm.Collect(s)
		if err != nil {
			var le *llm.Error
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not an *llm.Error (a malformed event sequence?)", err)
			}
		}
	})
}

// FuzzChunk checks the hand-written chunk reader against encoding/json:
// what json accepts it accepts and reads the same way (for inputs without
// duplicate or case-folded keys, where encoding/json merges or folds), and
// it accepts only valid JSON.
func FuzzChunk(f *testing.F) {
	for _, s := range streamSeeds(f) {
		for _, line := range bytes.Split(s, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				f.Add(d)
			}
		}
	}
	f.Add([]byte(`{"choices":[null,{"index":0,"delta":{"content":["a",{"type":"text","text":"b"}],"tool_calls":null}}],"usage":{"prompt_tokens":1,"prompt_tokens_details":null}}`))
	f.Add([]byte(`{"id":"\ud83d\ude00\ud800x\u00e9\/","error":"e","message":5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var mine chunk
		myErr := decodeChunk(data, &mine)
		if myErr == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		var ref chatResponse
		if json.Unmarshal(data, &ref) != nil || !plainKeys(data) {
			return
		}
		if myErr != nil {
			t.Fatalf("rejected %q that encoding/json reads: %v", data, myErr)
		}
		if diff := cmp.Diff(viewRef(&ref), viewMine(&mine), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%q read differently (-json +mine):\n%s", data, diff)
		}
	})
}

// chunkView is what the stream decoder uses of a chunk.
type chunkView struct {
	ID, Model, Object string
	Choices           int
	Choice            bool
	Delta             respMessage
	Finish            string
	Usage             *usage
	Err               errorObject
	HasErr            bool
	Message, Type     looseString
}

func viewRef(r *chatResponse) chunkView {
	v := chunkView{ID: r.ID, Model: r.Model, Object: r.Object, Choices: -1, Usage: r.Usage, Message: r.Message, Type: r.Type}
	if r.Choices != nil {
		v.Choices = len(r.Choices)
	}
	if c := pickChoice(r.Choices); c != nil {
		v.Choice, v.Delta, v.Finish = true, c.Delta, string(c.FinishReason)
	}
	v.Err, v.HasErr = errorFrom(r.Error)
	return v
}

func viewMine(c *chunk) chunkView {
	v := chunkView{ID: string(c.id), Model: string(c.model), Object: string(c.object), Choices: c.choices,
		Choice: c.choice, Delta: c.delta, Finish: c.finish, Message: c.message, Type: c.typ}
	if c.hasUsage {
		u := c.usage
		v.Usage = &u
	}
	v.Err, v.HasErr = c.errorObject()
	return v
}

// plainKeys reports whether every object key in data is lower-case ASCII
// and unique in its object.
func plainKeys(data []byte) bool {
	r := jreader{b: data}
	ok := true
	var walk func()
	walk = func() {
		switch r.peek() {
		case '{':
			r.beginObject()
			seen := map[string]bool{}
			first := true
			for {
				k, more := r.member(&first)
				if !more {
					return
				}
				for _, c := range k {
					if c >= 'A' && c <= 'Z' || c >= 0x80 {
						ok = false
					}
				}
				if seen[string(k)] {
					ok = false
				}
				seen[string(k)] = true
				walk()
			}
		case '[':
			r.beginArray()
			first := true
			for r.element(&first) {
				walk()
			}
		default:
			r.skip()
		}
	}
	walk()
	return ok && r.err == nil
}

func TestJSONStrings(t *testing.T) {
	for _, in := range []string{
		`"plain"`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`,
		`"\udc00\ud800x"`, "\"bad \xff utf8\"", `""`, `"\u0000"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		r := jreader{b: []byte(in)}
		got := r.str()
		r.end()
		if r.err != nil || got != want {
			t.Errorf("%s: got %q (%v), want %q", in, got, r.err, want)
		}
	}
	for _, in := range []string{`"unterminated`, `"bad \x"`, `"\u12"`, "\"ctl \x01\"", `"a" x`} {
		r := jreader{b: []byte(in)}
		r.str()
		r.end()
		if r.err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
