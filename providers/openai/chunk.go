package openai

import (
	"encoding/json"
)

// chunk is what the stream decoder reads of one chat.completion.chunk.
// Strings that are only needed once (id, model) stay as slices of the
// input.
type chunk struct {
	id, model, object []byte
	choices           int  // number of choices; -1 when "choices" is absent or null
	choice            bool // choice index 0 is present
	delta             respMessage
	finish            string
	usage             usage
	hasUsage          bool
	errRaw            []byte // the "error" member, when not null
	message, typ      looseString
}

// decodeChunk reads data into c. It accepts what encoding/json would
// accept into chatResponse, with the same leniency for the text fields
// (looseString); keys are matched exactly, and a later duplicate member
// replaces an earlier one.
func decodeChunk(data []byte, c *chunk) error {
	*c = chunk{choices: -1}
	r := jreader{b: data}
	if r.null() {
		r.end()
		return r.err
	}
	if !r.beginObject() {
		return r.err
	}
	first := true
	for {
		key, ok := r.member(&first)
		if !ok {
			break
		}
		switch string(key) {
		case "id":
			c.id = r.strOrNull()
		case "model":
			c.model = r.strOrNull()
		case "object":
			c.object = r.strOrNull()
		case "choices":
			readChoices(&r, c)
		case "usage":
			c.usage, c.hasUsage = usage{}, false
			if !r.null() {
				readUsage(&r, &c.usage)
				c.hasUsage = true
			}
		case "error":
			c.errRaw = nil
			if !r.null() {
				c.errRaw = r.skip()
			}
		case "message":
			r.loose(&c.message)
		case "type":
			r.loose(&c.typ)
		default:
			r.skip()
		}
	}
	r.end()
	return r.err
}

// strOrNull reads a string (as a slice of the input when it can) or null.
func (r *jreader) strOrNull() []byte {
	if r.null() {
		return nil
	}
	if r.peek() != '"' {
		r.fail("expected a string")
		return nil
	}
	return r.strBytes()
}

// loose reads a value into a looseString: strings directly, anything else
// through its UnmarshalJSON.
func (r *jreader) loose(s *looseString) {
	switch r.peek() {
	case '"':
		*s = looseString(r.strBytes())
	case 'n':
		r.null()
		*s = ""
	default:
		raw := r.skip()
		if r.err == nil {
			_ = s.UnmarshalJSON(raw)
		}
	}
}

func readChoices(r *jreader, c *chunk) {
	c.choices, c.choice, c.delta, c.finish = -1, false, respMessage{}, ""
	if r.null() {
		return
	}
	if !r.beginArray() {
		return
	}
	c.choices = 0
	first := true
	for r.element(&first) {
		c.choices++
		readChoice(r, c)
	}
}

// readChoice reads one choice; only index 0 is kept. Members may come in
// any order, so the delta is read into scratch space until the index is
// known. A "message" in a chunk is ignored: only "delta" is.
func readChoice(r *jreader, c *chunk) {
	if r.null() {
		c.choice = true // as encoding/json: a null choice is a zero one, of index 0
		return
	}
	if !r.beginObject() {
		return
	}
	var (
		index    int
		d        respMessage
		finish   looseString
		hasDelta bool
	)
	first := true
	for {
		key, ok := r.member(&first)
		if !ok {
			break
		}
		switch string(key) {
		case "index":
			if !r.null() {
				index = r.integer()
			}
		case "delta":
			d, hasDelta = respMessage{}, false
			if !r.null() {
				readDelta(r, &d)
				hasDelta = true
			}
		case "finish_reason":
			r.loose(&finish)
		default:
			r.skip()
		}
	}
	if r.err != nil || index != 0 || c.choice {
		return // only the first choice of index 0 counts
	}
	c.choice = true
	if hasDelta {
		c.delta = d
	}
	c.finish = string(finish)
}

func readDelta(r *jreader, d *respMessage) {
	if !r.beginObject() {
		return
	}
	first := true
	for {
		key, ok := r.member(&first)
		if !ok {
			return
		}
		switch string(key) {
		case "content":
			r.loose(&d.Content)
		case "refusal":
			r.loose(&d.Refusal)
		case "reasoning_content":
			r.loose(&d.ReasoningContent)
		case "reasoning":
			r.loose(&d.Reasoning)
		case "tool_calls":
			d.ToolCalls = nil
			if r.null() {
				continue
			}
			if !r.beginArray() {
				return
			}
			f := true
			for r.element(&f) {
				var tc toolCall
				readToolCall(r, &tc)
				d.ToolCalls = append(d.ToolCalls, tc)
			}
		default:
			r.skip()
		}
	}
}

func readToolCall(r *jreader, tc *toolCall) {
	if !r.beginObject() {
		return
	}
	first := true
	for {
		key, ok := r.member(&first)
		if !ok {
			return
		}
		switch string(key) {
		case "index":
			tc.Index = nil
			if !r.null() {
				n := r.integer()
				tc.Index = &n
			}
		case "id":
			tc.ID = string(r.strOrNull())
		case "type":
			tc.Type = string(r.strOrNull())
		case "function":
			tc.Function = functionCall{}
			if r.null() || !r.beginObject() {
				continue
			}
			f := true
			for {
				k, ok := r.member(&f)
				if !ok {
					break
				}
				switch string(k) {
				case "name":
					tc.Function.Name = string(r.strOrNull())
				case "arguments":
					tc.Function.Arguments = string(r.strOrNull())
				default:
					r.skip()
				}
			}
		default:
			r.skip()
		}
	}
}

func readUsage(r *jreader, u *usage) {
	if !r.beginObject() {
		return
	}
	first := true
	for {
		key, ok := r.member(&first)
		if !ok {
			return
		}
		switch string(key) {
		case "prompt_tokens":
			u.PromptTokens = r.intOrNull()
		case "completion_tokens":
			u.CompletionTokens = r.intOrNull()
		case "total_tokens":
			u.TotalTokens = r.intOrNull()
		case "prompt_cache_hit_tokens":
			u.PromptCacheHitTokens = r.intOrNull()
		case "prompt_tokens_details":
			if r.null() {
				u.PromptTokensDetails = nil
				continue
			}
			if u.PromptTokensDetails == nil {
				u.PromptTokensDetails = &promptDetails{}
			}
			readDetail(r, "cached_tokens", &u.PromptTokensDetails.CachedTokens)
		case "completion_tokens_details":
			if r.null() {
				u.CompletionTokensDetails = nil
				continue
			}
			if u.CompletionTokensDetails == nil {
				u.CompletionTokensDetails = &outputDetails{}
			}
			readDetail(r, "reasoning_tokens", &u.CompletionTokensDetails.ReasoningTokens)
		default:
			r.skip()
		}
	}
}

// readDetail reads an object and the one integer member named name.
func readDetail(r *jreader, name string, n *int) {
	if !r.beginObject() {
		return
	}
	first := true
	for {
		key, ok := r.member(&first)
		if !ok {
			return
		}
		if string(key) == name {
			*n = r.intOrNull()
		} else {
			r.skip()
		}
	}
}

func (r *jreader) intOrNull() int {
	if r.null() {
		return 0
	}
	return r.integer()
}

// errorObject returns the chunk's error member, if any.
func (c *chunk) errorObject() (errorObject, bool) {
	if c.errRaw == nil {
		return errorObject{}, false
	}
	return errorFrom(json.RawMessage(c.errRaw))
}
