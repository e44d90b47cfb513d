package gemini

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Wire types of a generateContent request (and the parts of a response).

type request struct {
	Contents          []content         `json:"contents"`
	SystemInstruction *content          `json:"systemInstruction,omitempty"`
	Tools             []tool            `json:"tools,omitempty"`
	ToolConfig        *toolConfig       `json:"toolConfig,omitempty"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitempty"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

type part struct {
	// Text is a pointer so that an empty text part carrying only a
	// signature survives a round trip.
	Text             *string           `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	ThoughtSignature string            `json:"thoughtSignature,omitempty"`
	InlineData       *blob             `json:"inlineData,omitempty"`
	FileData         *fileData         `json:"fileData,omitempty"`
	FunctionCall     *functionCall     `json:"functionCall,omitempty"`
	FunctionResponse *functionResponse `json:"functionResponse,omitempty"`
}

type blob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type fileData struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type functionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type functionResponse struct {
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type tool struct {
	FunctionDeclarations []functionDeclaration `json:"functionDeclarations"`
}

type functionDeclaration struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type toolConfig struct {
	FunctionCallingConfig functionCallingConfig `json:"functionCallingConfig"`
}

type functionCallingConfig struct {
	Mode                 string   `json:"mode"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type generationConfig struct {
	MaxOutputTokens  int             `json:"maxOutputTokens,omitempty"`
	Temperature      *float64        `json:"temperature,omitempty"`
	TopP             *float64        `json:"topP,omitempty"`
	StopSequences    []string        `json:"stopSequences,omitempty"`
	ResponseMimeType string          `json:"responseMimeType,omitempty"`
	ResponseSchema   json.RawMessage `json:"responseSchema,omitempty"`
	ThinkingConfig   *thinkingConfig `json:"thinkingConfig,omitempty"`
}

type thinkingConfig struct {
	IncludeThoughts bool   `json:"includeThoughts"`
	ThinkingBudget  int    `json:"thinkingBudget,omitempty"`
	ThinkingLevel   string `json:"thinkingLevel,omitempty"`
}

// thinkingBudgets are the Gemini 2.x budgets for each reasoning effort.
var thinkingBudgets = map[string]int{"low": 1024, "medium": 8192, "high": 24576}

func invalid(format string, args ...any) *llm.Error {
	return llm.Errorf(llm.KindInvalidRequest, format, args...)
}

// buildRequest encodes req as a generateContent body.
func buildRequest(req *llm.Request) ([]byte, error) {
	if req.Model == "" {
		return nil, invalid("model: a model is required")
	}
	var w request
	sys, err := systemInstruction(req.System)
	if err != nil {
		return nil, err
	}
	w.SystemInstruction = sys
	if w.Contents, err = contents(req.Messages); err != nil {
		return nil, err
	}
	if len(req.Tools) > 0 {
		decls := make([]functionDeclaration, len(req.Tools))
		for i, t := range req.Tools {
			if t.Name == "" {
				return nil, invalid("tools[%d].name: a tool needs a name", i)
			}
			params, err := toolParameters(t.Parameters)
			if err != nil {
				return nil, invalid("tools[%d].parameters: %v", i, err)
			}
			decls[i] = functionDeclaration{Name: t.Name, Description: t.Description, Parameters: params}
		}
		w.Tools = []tool{{FunctionDeclarations: decls}}
	}
	if w.ToolConfig, err = toolChoice(req.ToolChoice); err != nil {
		return nil, err
	}
	if w.GenerationConfig, err = generation(req); err != nil {
		return nil, err
	}
	b, err := json.Marshal(&w)
	if err != nil {
		return nil, invalid("the request cannot be encoded: %v", err)
	}
	return b, nil
}

func systemInstruction(parts []llm.Part) (*content, error) {
	var out []part
	for i, p := range parts {
		switch p.Kind {
		case llm.PartText:
			if p.Text != "" {
				out = append(out, part{Text: &p.Text})
			}
		default:
			return nil, invalid("system[%d]: Gemini system instructions take text only", i)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &content{Parts: out}, nil
}

// contents converts the messages, merging consecutive turns of one role.
func contents(msgs []llm.Message) ([]content, error) {
	names := map[string]string{} // tool call id → tool name, from earlier calls
	var out []content
	for i, m := range msgs {
		var role string
		var parts []part
		var err error
		switch m.Role {
		case llm.RoleUser, llm.RoleTool:
			role = "user"
			parts, err = userParts(i, m.Parts, names)
		case llm.RoleAssistant:
			role = "model"
			parts, err = modelParts(i, m.Parts, names)
		default:
			return nil, invalid("messages[%d].role: unknown role %q", i, m.Role)
		}
		if err != nil {
			return nil, err
		}
		if len(parts) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Role == role {
			out[n-1].Parts = append(out[n-1].Parts, parts...)
			continue
		}
		out = append(out, content{Role: role, Parts: parts})
	}
	if len(out) == 0 {
		return nil, invalid("messages: at least one message with content is required")
	}
	return out, nil
}

func userParts(i int, in []llm.Part, names map[string]string) ([]part, error) {
	var out []part
	for j, p := range in {
		switch p.Kind {
		case llm.PartText:
			if p.Text != "" {
				out = append(out, part{Text: &p.Text})
			}
		case llm.PartImage:
			ip, err := imagePart(i, j, p.Image)
			if err != nil {
				return nil, err
			}
			out = append(out, ip)
		case llm.PartToolResult:
			fr, err := toolResult(i, j, p.ToolResult, names)
			if err != nil {
				return nil, err
			}
			out = append(out, part{FunctionResponse: fr})
		case llm.PartThinking:
			// Reasoning is the model's; a user turn has none to echo.
		default:
			return nil, invalid("messages[%d].parts[%d]: a user message cannot hold a part of kind %d", i, j, p.Kind)
		}
	}
	return out, nil
}

func modelParts(i int, in []llm.Part, names map[string]string) ([]part, error) {
	var out []part
	pending := "" // a signature waiting for the part it belongs to
	add := func(p part) {
		if pending != "" {
			p.ThoughtSignature, pending = pending, ""
		}
		out = append(out, p)
	}
	for j, p := range in {
		switch p.Kind {
		case llm.PartText:
			if p.Text != "" || pending != "" {
				add(part{Text: &p.Text})
			}
		case llm.PartThinking:
			switch {
			case p.Signature == "":
				// Unsigned reasoning (another provider's) cannot go back.
			case p.Text == "":
				pending = p.Signature
			default:
				out = append(out, part{Text: &p.Text, Thought: true, ThoughtSignature: p.Signature})
			}
		case llm.PartToolCall:
			tc := p.ToolCall
			if tc == nil || tc.Name == "" {
				return nil, invalid("messages[%d].parts[%d]: a tool call needs a name", i, j)
			}
			args, err := argsObject(tc.Arguments)
			if err != nil {
				return nil, invalid("messages[%d].parts[%d].arguments: %v", i, j, err)
			}
			if tc.ID != "" {
				names[tc.ID] = tc.Name
			}
			add(part{FunctionCall: &functionCall{Name: tc.Name, Args: args}})
		case llm.PartImage:
			ip, err := imagePart(i, j, p.Image)
			if err != nil {
				return nil, err
			}
			add(ip)
		default:
			return nil, invalid("messages[%d].parts[%d]: an assistant message cannot hold a part of kind %d", i, j, p.Kind)
		}
	}
	if pending != "" {
		empty := ""
		out = append(out, part{Text: &empty, ThoughtSignature: pending})
	}
	return out, nil
}

func imagePart(i, j int, img *llm.Image) (part, error) {
	switch {
	case img == nil:
		return part{}, invalid("messages[%d].parts[%d]: an image part without an image", i, j)
	case len(img.Data) > 0:
		mt := img.MediaType
		if mt == "" {
			return part{}, invalid("messages[%d].parts[%d]: inline image data needs a media type", i, j)
		}
		return part{InlineData: &blob{MimeType: mt, Data: base64.StdEncoding.EncodeToString(img.Data)}}, nil
	case img.URL != "":
		return part{FileData: &fileData{MimeType: img.MediaType, FileURI: img.URL}}, nil
	}
	return part{}, invalid("messages[%d].parts[%d]: an image needs a URL or data", i, j)
}

func toolResult(i, j int, r *llm.ToolResult, names map[string]string) (*functionResponse, error) {
	if r == nil {
		return nil, invalid("messages[%d].parts[%d]: a tool-result part without a result", i, j)
	}
	name := r.Name
	if name == "" {
		name = names[r.CallID]
	}
	if name == "" {
		return nil, invalid("messages[%d].parts[%d]: tool result for call %q names no tool and answers no earlier call", i, j, r.CallID)
	}
	text := r.Text()
	var resp []byte
	switch {
	case r.IsError:
		resp, _ = json.Marshal(map[string]string{"error": text})
	case isObject(text):
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(text)); err == nil {
			resp = buf.Bytes()
			break
		}
		fallthrough
	default:
		resp, _ = json.Marshal(map[string]string{"result": text})
	}
	return &functionResponse{Name: name, Response: resp}, nil
}

// isObject reports whether s is a JSON object.
func isObject(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{") && json.Valid([]byte(s))
}

// argsObject checks that the arguments are a JSON object and compacts them;
// empty arguments (or null) are {}.
func argsObject(s string) (json.RawMessage, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "null" {
		return json.RawMessage("{}"), nil
	}
	if !isObject(t) {
		return nil, fmt.Errorf("tool call arguments are not a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(t)); err != nil {
		return nil, fmt.Errorf("tool call arguments are not a JSON object: %w", err)
	}
	return buf.Bytes(), nil
}

// toolParameters sanitises a tool's parameter schema; a schema that leaves
// nothing to describe (an object without properties) is omitted.
func toolParameters(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	s, err := SanitizeSchema(raw)
	if err != nil {
		return nil, err
	}
	if string(s) == `{"type":"object"}` || string(s) == `{}` {
		return nil, nil
	}
	return s, nil
}

func toolChoice(tc *llm.ToolChoice) (*toolConfig, error) {
	if tc == nil {
		return nil, nil
	}
	var f functionCallingConfig
	switch tc.Mode {
	case "", "auto":
		f.Mode = "AUTO"
	case "none":
		f.Mode = "NONE"
	case "required":
		f.Mode = "ANY"
	case "tool":
		if tc.Name == "" {
			return nil, invalid("tool_choice: mode \"tool\" needs a tool name")
		}
		f.Mode, f.AllowedFunctionNames = "ANY", []string{tc.Name}
	default:
		return nil, invalid("tool_choice: unknown mode %q", tc.Mode)
	}
	return &toolConfig{FunctionCallingConfig: f}, nil
}

func generation(req *llm.Request) (*generationConfig, error) {
	g := generationConfig{
		MaxOutputTokens: req.MaxTokens,
		Temperature:     req.Temperature,
		TopP:            req.TopP,
		StopSequences:   req.Stop,
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			g.ResponseMimeType = "application/json"
		case "json_schema":
			g.ResponseMimeType = "application/json"
			if len(rf.Schema) > 0 {
				s, err := SanitizeSchema(rf.Schema)
				if err != nil {
					return nil, invalid("response_format.schema: %v", err)
				}
				g.ResponseSchema = s
			}
		case "", "text":
		default:
			return nil, invalid("response_format.type: unknown type %q", rf.Type)
		}
	}
	if effort := req.ReasoningEffort; effort != "" {
		budget, ok := thinkingBudgets[effort]
		if !ok {
			return nil, invalid("reasoning_effort: unknown effort %q (low, medium or high)", effort)
		}
		tc := &thinkingConfig{IncludeThoughts: true}
		if strings.HasPrefix(strings.TrimPrefix(req.Model, "models/"), "gemini-2") {
			tc.ThinkingBudget = budget
		} else {
			tc.ThinkingLevel = effort
		}
		g.ThinkingConfig = tc
	}
	if g.MaxOutputTokens == 0 && g.Temperature == nil && g.TopP == nil && len(g.StopSequences) == 0 &&
		g.ResponseMimeType == "" && g.ThinkingConfig == nil {
		return nil, nil
	}
	return &g, nil
}
