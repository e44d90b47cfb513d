package sim

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// call is what a chat request asked for, read by the format's decoder.
type call struct {
	model        string
	stream       bool
	includeUsage bool // OpenAI stream_options.include_usage
	sse          bool // Gemini alt=sse
	maxTokens    int
	// inputBytes is the size of the messages and system prompt, for the
	// computed input tokens.
	inputBytes int
	// lastUser is the text of the last message when it is a user message.
	lastUser string
	tool     *toolSpec // the first declared tool, nil when none
}

// toolSpec is a declared tool.
type toolSpec struct {
	name   string
	schema json.RawMessage
}

// blockKind is the kind of a reply block.
type blockKind uint8

const (
	blockThinking blockKind = iota + 1
	blockText
	blockTool
)

// block is one content block of a reply, with the fragments a stream sends.
type block struct {
	kind  blockKind
	text  string // thinking or text
	call  *llm.ToolCall
	tool  int // ordinal among the tool calls
	frags []string
}

// reply is what the simulator answers to one chat request.
type reply struct {
	id        string
	model     string
	blocks    []block
	stop      llm.StopReason
	usage     llm.Usage
	signature string // of the thinking block, "" when none
	start     time.Time
	created   int64 // unix seconds

	// status > 0 answers with an error (at once, or mid-stream after
	// errAfter tokens).
	status     int
	message    string
	retryAfter time.Duration
	errAfter   int
	hang       bool
	delay      time.Duration
}

// text is the concatenation of the reply's text blocks.
func (rp *reply) text() string {
	for _, b := range rp.blocks {
		if b.kind == blockText {
			return b.text
		}
	}
	return ""
}

// thinking is the reply's reasoning text.
func (rp *reply) thinking() string {
	for _, b := range rp.blocks {
		if b.kind == blockThinking {
			return b.text
		}
	}
	return ""
}

// hasTools reports whether the reply calls tools.
func (rp *reply) hasTools() bool {
	n := len(rp.blocks)
	return n > 0 && rp.blocks[n-1].kind == blockTool
}

// caps is what a format can carry.
type caps struct {
	thinking  bool // reasoning text is sent
	wholeArgs bool // tool arguments are sent whole (an object), not streamed
	idPrefix  string
}

// genTokens is the length of a generated reply.
const genTokens = 20

// argFrag is the size of a streamed tool-argument fragment, in bytes.
const argFrag = 6

var words = [...]string{"alpha", "bravo", "circuit", "delta", "echo", "flow", "gamma", "harbor",
	"index", "juniper", "kilo", "lambda", "matrix", "nimbus", "orbit", "prism", "quartz", "relay",
	"signal", "tensor", "umbra", "vector", "window", "xenon", "yield", "zenith", "amber", "breaker",
	"cobalt", "drift", "ember", "fable"}

// build makes the reply for c from a scripted step, or generates one.
func (s *Server) build(c *call, st *Step, scripted bool, k caps, cfg *Config) *reply {
	n := s.seq.Add(1)
	now := time.Now()
	rp := &reply{id: strconv.FormatUint(n, 36), model: c.model, start: now, created: now.Unix()}
	if !scripted {
		s.generate(c, rp, cfg, k)
	} else {
		rp.status, rp.message, rp.retryAfter = st.Status, st.ErrorMessage, st.RetryAfter
		rp.errAfter, rp.hang, rp.delay = st.ErrorAfterTokens, st.Hang, st.Delay
		if rp.errAfter > 0 && rp.status == 0 {
			rp.status = http.StatusInternalServerError
		}
		if st.Thinking != "" && k.thinking {
			rp.blocks = append(rp.blocks, block{kind: blockThinking, text: st.Thinking})
		}
		if st.Text != "" || (len(rp.blocks) == 0 && len(st.ToolCalls) == 0) {
			rp.blocks = append(rp.blocks, block{kind: blockText, text: st.Text})
		}
		for i, tc := range st.ToolCalls {
			if tc.ID == "" {
				tc.ID = k.idPrefix + rp.id + "_" + strconv.Itoa(i)
			}
			if tc.Arguments == "" {
				tc.Arguments = "{}"
			}
			rp.blocks = append(rp.blocks, block{kind: blockTool, call: &tc, tool: i})
		}
		rp.stop = st.StopReason
		if rp.stop == "" {
			rp.stop = llm.StopEnd
			if len(st.ToolCalls) > 0 {
				rp.stop = llm.StopToolCalls
			}
		}
	}
	out := 0
	for i := range rp.blocks {
		b := &rp.blocks[i]
		switch b.kind {
		case blockThinking, blockText:
			b.frags = tokens(b.text)
			out += len(b.frags)
		case blockTool:
			if k.wholeArgs {
				b.frags = []string{b.call.Arguments}
			} else {
				b.frags = fragments(b.call.Arguments, argFrag)
			}
			out += 1 + (len(b.call.Arguments)+3)/4
		}
		if b.kind == blockThinking {
			rp.signature = "sim-signature-" + rp.id
		}
	}
	if scripted && st.Usage != nil {
		rp.usage = *st.Usage
	} else {
		rp.usage = llm.Usage{Input: max(1, c.inputBytes/4), Output: out}
	}
	return rp
}

// generate fills rp with the generated reply (see the package doc).
func (s *Server) generate(c *call, rp *reply, cfg *Config, k caps) {
	if c.tool != nil && hasWord(c.lastUser, "tool") {
		tc := llm.ToolCall{ID: k.idPrefix + rp.id + "_0", Name: c.tool.name, Arguments: argsFor(c.tool.schema)}
		rp.blocks = []block{{kind: blockTool, call: &tc}}
		rp.stop = llm.StopToolCalls
		return
	}
	n := genTokens
	rp.stop = llm.StopEnd
	if c.maxTokens > 0 && c.maxTokens < genTokens {
		n, rp.stop = c.maxTokens, llm.StopLength
	}
	h := fnv.New64a()
	var seed [8]byte
	for i := range seed {
		seed[i] = byte(cfg.Seed >> (8 * i))
	}
	h.Write(seed[:])
	h.Write([]byte(c.model))
	h.Write([]byte{0})
	h.Write([]byte(c.lastUser))
	x := h.Sum64()
	var b strings.Builder
	b.Grow(16 + len(c.model) + 8*n)
	b.WriteString("Simulated reply from ")
	b.WriteString(c.model)
	b.WriteByte(':')
	for i := 4; i < n; i++ {
		x = splitmix(x)
		b.WriteByte(' ')
		b.WriteString(words[x%uint64(len(words))])
	}
	text := b.String()
	if n < 4 { // keep the first n tokens of the prefix
		toks := tokens(text)
		text = strings.Join(toks[:n], "")
	}
	rp.blocks = []block{{kind: blockText, text: text}}
}

// splitmix is one step of the SplitMix64 generator.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	z := x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// tokens splits s into words, each with the whitespace before it.
func tokens(s string) []string {
	if s == "" {
		return nil
	}
	out := make([]string, 0, len(s)/5+1)
	start, inWord := 0, false
	for i, r := range s {
		space := unicode.IsSpace(r)
		if space && inWord {
			out = append(out, s[start:i])
			start, inWord = i, false
		} else if !space {
			inWord = true
		}
	}
	if !inWord && len(out) > 0 { // trailing whitespace joins the last word
		out[len(out)-1] += s[start:]
		return out
	}
	return append(out, s[start:])
}

// fragments splits s into pieces of about size bytes on rune boundaries.
func fragments(s string, size int) []string {
	if s == "" {
		return []string{""}
	}
	out := make([]string, 0, len(s)/size+1)
	for len(s) > size {
		i := size
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// hasWord reports whether s contains w as a whole word, in any case.
func hasWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if !strings.EqualFold(s[i:i+len(w)], w) {
			continue
		}
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(w):])
		if (i == 0 || !isWordRune(before)) && (i+len(w) == len(s) || !isWordRune(after)) {
			return true
		}
	}
	return false
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// argsFor makes tool-call arguments that fill every property of a JSON
// Schema with a placeholder of its type.
func argsFor(schema json.RawMessage) string {
	var sc struct {
		Properties map[string]struct {
			Type json.RawMessage `json:"type"`
			Enum []any           `json:"enum"`
		} `json:"properties"`
	}
	if len(schema) == 0 || json.Unmarshal(schema, &sc) != nil || len(sc.Properties) == 0 {
		return "{}"
	}
	names := make([]string, 0, len(sc.Properties))
	for k := range sc.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	b := []byte{'{'}
	for i, name := range names {
		p := sc.Properties[name]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
		b = append(b, ':')
		if len(p.Enum) > 0 {
			v, err := json.Marshal(p.Enum[0])
			if err == nil {
				b = append(b, v...)
				continue
			}
		}
		switch schemaType(p.Type) {
		case "integer", "number":
			b = append(b, '1')
		case "boolean":
			b = append(b, "true"...)
		case "array":
			b = append(b, "[]"...)
		case "object":
			b = append(b, "{}"...)
		default:
			b = append(b, `"sim"`...)
		}
	}
	return string(append(b, '}'))
}

// schemaType reads a schema's type: a name or a list of names (the first
// that is not "null"), in any case (Gemini writes "STRING").
func schemaType(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return strings.ToLower(one)
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, t := range many {
			if !strings.EqualFold(t, "null") {
				return strings.ToLower(t)
			}
		}
	}
	return ""
}

// vector is a deterministic unit vector for an embedding input.
func vector(seed int64, text string, dims int) []float32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	x := h.Sum64() ^ uint64(seed)
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		x = splitmix(x)
		f := float64(x>>11)/float64(1<<53)*2 - 1
		v[i] = float32(f)
		norm += f * f
	}
	if norm > 0 {
		inv := 1 / math.Sqrt(norm)
		for i := range v {
			v[i] = float32(float64(v[i]) * inv)
		}
	}
	return v
}

// defaultDims is the size of a simulated embedding when none is asked.
const defaultDims = 64

// maxDims bounds a requested embedding size.
const maxDims = 8192
