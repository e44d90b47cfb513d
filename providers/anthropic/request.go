package anthropic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// DefaultMaxTokens is the max_tokens sent when the request sets none:
// Anthropic requires the field.
const DefaultMaxTokens = 4096

// thinkingBudget is the extended-thinking budget per reasoning effort.
var thinkingBudget = map[string]int{"low": 1024, "medium": 4096, "high": 16384}

// emptySchema stands in for a tool without parameters: Anthropic requires
// an input_schema.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// encodeRequest builds the Messages body for req.
func encodeRequest(req *llm.Request, stream bool) ([]byte, error) {
	w := wireRequest{
		Model:         req.Model,
		MaxTokens:     req.MaxTokens,
		StopSequences: req.Stop,
		Stream:        stream,
		Temperature:   req.Temperature,
		TopP:          req.TopP,
	}
	if w.MaxTokens <= 0 {
		w.MaxTokens = DefaultMaxTokens
	}
	if t := w.Temperature; t != nil && (*t < 0 || *t > 1) {
		c := min(max(*t, 0), 1)
		w.Temperature = &c
	}
	if w.Temperature != nil {
		w.TopP = nil // current models refuse both
	}
	if req.User != "" {
		w.Metadata = &wireMetadata{UserID: req.User}
	}
	sys, err := encodeSystem(req.System)
	if err != nil {
		return nil, err
	}
	w.System = sys
	if w.Messages, err = encodeMessages(req.Messages); err != nil {
		return nil, err
	}
	for _, t := range req.Tools {
		schema := t.Parameters
		if len(bytes.TrimSpace(schema)) == 0 || bytes.Equal(bytes.TrimSpace(schema), []byte("null")) {
			schema = emptySchema
		}
		w.Tools = append(w.Tools, wireTool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	if req.ToolChoice != nil && len(w.Tools) > 0 {
		tc, err := encodeToolChoice(req.ToolChoice)
		if err != nil {
			return nil, err
		}
		w.ToolChoice = tc
	}
	if budget, ok := thinkingBudget[req.ReasoningEffort]; ok && !forcesTool(w.ToolChoice) && thinkingFits(w.Messages) {
		w.Thinking = &wireThinking{Type: "enabled", BudgetTokens: budget}
		if w.MaxTokens <= budget {
			w.MaxTokens = budget + DefaultMaxTokens
		}
		w.Temperature, w.TopP = nil, nil
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type == "json_schema" && len(rf.Schema) > 0 {
		w.OutputConfig = &wireOutputConfig{Format: &wireFormat{Type: "json_schema", Schema: rf.Schema}}
	}
	body, err := json.Marshal(&w)
	if err != nil {
		return nil, llm.Errorf(llm.KindInvalidRequest, "anthropic: encode request: %v", err)
	}
	return body, nil
}

// thinkingFits reports whether extended thinking may be turned on for the
// conversation: Anthropic requires the last assistant turn, when it called
// tools, to start with its (signed) thinking, which a history from another
// provider does not have.
func thinkingFits(msgs []wireMessage) bool {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Role != "assistant" {
			continue
		}
		for _, b := range m.Content {
			if b.Type == "tool_use" {
				return m.Content[0].Type == "thinking" || m.Content[0].Type == "redacted_thinking"
			}
		}
		return true
	}
	return true
}

func forcesTool(tc *wireToolChoice) bool { return tc != nil && (tc.Type == "any" || tc.Type == "tool") }

func encodeToolChoice(tc *llm.ToolChoice) (*wireToolChoice, error) {
	switch tc.Mode {
	case "", "auto":
		return &wireToolChoice{Type: "auto"}, nil
	case "none":
		return &wireToolChoice{Type: "none"}, nil
	case "required", "any":
		return &wireToolChoice{Type: "any"}, nil
	case "tool":
		if tc.Name == "" {
			return nil, llm.Errorf(llm.KindInvalidRequest, "tool_choice: mode \"tool\" needs a tool name")
		}
		return &wireToolChoice{Type: "tool", Name: tc.Name}, nil
	}
	return nil, llm.Errorf(llm.KindInvalidRequest, "tool_choice: unknown mode %q", tc.Mode)
}

// encodeSystem returns the system field: a string for one text part, text
// blocks for several, nothing for none.
func encodeSystem(parts []llm.Part) (json.RawMessage, error) {
	var texts []string
	for i, p := range parts {
		switch p.Kind {
		case llm.PartText:
			if p.Text != "" {
				texts = append(texts, p.Text)
			}
		default:
			return nil, llm.Errorf(llm.KindInvalidRequest, "system.%d: only text parts are allowed in the system prompt", i)
		}
	}
	switch len(texts) {
	case 0:
		return nil, nil
	case 1:
		return appendString(nil, texts[0]), nil
	}
	out := []byte{'['}
	for i, t := range texts {
		if i > 0 {
			out = append(out, ',')
		}
		out, _ = appendBlock(out, &wireBlock{Type: "text", Text: t})
	}
	return append(out, ']'), nil
}

// encodeMessages turns the conversation into alternating user and
// assistant turns.
func encodeMessages(msgs []llm.Message) ([]wireMessage, error) {
	out := make([]wireMessage, 0, len(msgs))
	ids := idMapper{}
	for mi, m := range msgs {
		var role string
		switch m.Role {
		case llm.RoleUser, llm.RoleTool:
			role = "user"
		case llm.RoleAssistant:
			role = "assistant"
		default:
			return nil, llm.Errorf(llm.KindInvalidRequest, "messages.%d.role: unknown role %q", mi, m.Role)
		}
		var blocks []wireBlock
		for pi, p := range m.Parts {
			b, ok, err := encodePart(p, role, &ids)
			if err != nil {
				return nil, llm.Errorf(llm.KindInvalidRequest, "messages.%d.parts.%d: %s", mi, pi, err.Error())
			}
			if ok {
				blocks = append(blocks, b)
			}
		}
		if len(blocks) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Role == role {
			out[n-1].Content = append(out[n-1].Content, blocks...)
			continue
		}
		out = append(out, wireMessage{Role: role, Content: blocks})
	}
	for i := range out {
		if out[i].Role == "user" {
			resultsFirst(out[i].Content)
		}
	}
	return out, nil
}

// resultsFirst moves tool_result blocks to the front, keeping order:
// Anthropic requires them before any other content of the turn.
func resultsFirst(blocks []wireBlock) {
	seenOther, misplaced := false, false
	for _, b := range blocks {
		if b.Type != "tool_result" {
			seenOther = true
		} else if seenOther {
			misplaced = true
		}
	}
	if !misplaced {
		return
	}
	sorted := make([]wireBlock, 0, len(blocks))
	for _, b := range blocks {
		if b.Type == "tool_result" {
			sorted = append(sorted, b)
		}
	}
	for _, b := range blocks {
		if b.Type != "tool_result" {
			sorted = append(sorted, b)
		}
	}
	copy(blocks, sorted)
}

// partError is an error about one part; the caller adds where it is.
type partError string

func (e partError) Error() string { return string(e) }

func encodePart(p llm.Part, role string, ids *idMapper) (wireBlock, bool, error) {
	switch p.Kind {
	case llm.PartText:
		if p.Text == "" {
			return wireBlock{}, false, nil
		}
		return wireBlock{Type: "text", Text: p.Text}, true, nil
	case llm.PartImage:
		if p.Image == nil {
			return wireBlock{}, false, partError("image part without an image")
		}
		b, err := encodeImage(p.Image)
		return b, err == nil, err
	case llm.PartThinking:
		if p.Signature == "" || role != "assistant" {
			return wireBlock{}, false, nil // another provider's thinking: Anthropic would refuse it
		}
		return wireBlock{Type: "thinking", Thinking: p.Text, Signature: p.Signature}, true, nil
	case llm.PartToolCall:
		tc := p.ToolCall
		if tc == nil {
			return wireBlock{}, false, partError("tool-call part without a tool call")
		}
		if role != "assistant" {
			return wireBlock{}, false, partError("tool calls belong in assistant messages")
		}
		input, err := toolInput(tc.Arguments)
		if err != nil {
			return wireBlock{}, false, partError("tool call " + strconv.Quote(tc.Name) + ": arguments are not a JSON object: " + err.Error())
		}
		return wireBlock{Type: "tool_use", ID: ids.call(tc.ID, tc.Name), Name: tc.Name, Input: input}, true, nil
	case llm.PartToolResult:
		tr := p.ToolResult
		if tr == nil {
			return wireBlock{}, false, partError("tool-result part without a tool result")
		}
		if role != "user" {
			return wireBlock{}, false, partError("tool results belong in user or tool messages")
		}
		content, err := encodeResultContent(tr.Content)
		if err != nil {
			return wireBlock{}, false, err
		}
		return wireBlock{Type: "tool_result", ToolUseID: ids.result(tr.CallID, tr.Name), Content: content, IsError: tr.IsError}, true, nil
	}
	return wireBlock{}, false, partError("unknown part kind " + strconv.Itoa(int(p.Kind)))
}

// toolInput checks that args is a JSON object and returns it compacted;
// empty arguments are the empty object.
func toolInput(args string) (json.RawMessage, error) {
	s := strings.TrimSpace(args)
	if s == "" {
		return json.RawMessage("{}"), nil
	}
	if s[0] != '{' {
		return nil, partError("want an object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeImage(img *llm.Image) (wireBlock, error) {
	typ := "image"
	if img.MediaType == "application/pdf" {
		typ = "document"
	}
	switch {
	case len(img.Data) > 0:
		mt := img.MediaType
		if mt == "" {
			return wireBlock{}, partError("inline image without a media type")
		}
		return wireBlock{Type: typ, Source: &wireSource{Type: "base64", MediaType: mt, Data: base64.StdEncoding.EncodeToString(img.Data)}}, nil
	case strings.HasPrefix(img.URL, "data:"):
		mt, data, ok := parseDataURL(img.URL)
		if !ok {
			return wireBlock{}, partError("image data URL is not base64 data: want data:<type>;base64,<data>")
		}
		if mt == "application/pdf" {
			typ = "document"
		}
		return wireBlock{Type: typ, Source: &wireSource{Type: "base64", MediaType: mt, Data: data}}, nil
	case img.URL != "":
		return wireBlock{Type: typ, Source: &wireSource{Type: "url", URL: img.URL}}, nil
	}
	return wireBlock{}, partError("image without data or URL")
}

// parseDataURL splits "data:<type>;base64,<data>".
func parseDataURL(u string) (mediaType, data string, ok bool) {
	meta, data, found := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	if !found {
		return "", "", false
	}
	mediaType, found = strings.CutSuffix(meta, ";base64")
	if !found || mediaType == "" {
		return "", "", false
	}
	return mediaType, data, true
}

// encodeResultContent renders a tool result's content: a string for text
// only, blocks when it has images, nothing when empty.
func encodeResultContent(parts []llm.Part) (json.RawMessage, error) {
	onlyText := true
	for _, p := range parts {
		if p.Kind != llm.PartText {
			onlyText = false
		}
	}
	if onlyText {
		t := llm.ToolResult{Content: parts}.Text()
		if t == "" {
			return nil, nil
		}
		return appendString(nil, t), nil
	}
	out := []byte{'['}
	n := 0
	for i, p := range parts {
		var b wireBlock
		switch p.Kind {
		case llm.PartText:
			if p.Text == "" {
				continue
			}
			b = wireBlock{Type: "text", Text: p.Text}
		case llm.PartImage:
			if p.Image == nil {
				return nil, partError("tool result content " + strconv.Itoa(i) + ": image part without an image")
			}
			var err error
			if b, err = encodeImage(p.Image); err != nil {
				return nil, partError("tool result content " + strconv.Itoa(i) + ": " + err.Error())
			}
		default:
			return nil, partError("tool result content " + strconv.Itoa(i) + ": only text and images are allowed")
		}
		if n > 0 {
			out = append(out, ',')
		}
		out, _ = appendBlock(out, &b)
		n++
	}
	return append(out, ']'), nil
}

// idMapper keeps tool-use ids valid for Anthropic and consistent between a
// call and its result. Calls without an id get a generated one, which the
// next result without an id for the same tool name takes.
type idMapper struct {
	pending map[string][]string // tool name → generated ids not yet answered
}

func (m *idMapper) call(id, name string) string {
	if id != "" {
		return sanitizeID(id)
	}
	id = newID("toolu_")
	if m.pending == nil {
		m.pending = make(map[string][]string)
	}
	m.pending[name] = append(m.pending[name], id)
	return id
}

func (m *idMapper) result(id, name string) string {
	if id != "" {
		return sanitizeID(id)
	}
	if q := m.pending[name]; len(q) > 0 {
		m.pending[name] = q[1:]
		return q[0]
	}
	return ""
}
