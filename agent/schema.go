package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is a compiled JSON Schema. It is safe for concurrent use.
type Schema struct {
	s *jsonschema.Schema
}

// noLoader refuses every external reference: a schema may only refer to
// itself, so compiling one never reads a file or the network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schema %q not allowed", url)
}

// schemaURL is where a compiled schema pretends to live.
const schemaURL = "mem:///schema.json"

// CompileSchema compiles a JSON Schema (the latest draft unless "$schema"
// says otherwise). References to other documents are refused.
func CompileSchema(raw json.RawMessage) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	switch doc.(type) {
	case map[string]any, bool:
	default:
		return nil, errors.New("schema must be an object or a boolean")
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &Schema{s: s}, nil
}

// Validate checks that text is one JSON value that matches the schema and
// returns it compacted. A ```json fence around the value is tolerated.
func (s *Schema) Validate(text string) (json.RawMessage, error) {
	raw := []byte(unfence(text))
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("the answer is not a JSON value: %w", err)
	}
	if err := s.s.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return nil, errors.New(strings.TrimSpace(ve.Error()))
		}
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON value: %w", err)
	}
	return buf.Bytes(), nil
}

// unfence strips surrounding space and a Markdown code fence.
func unfence(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") || len(s) < 6 {
		return s
	}
	body := s[3 : len(s)-3]
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:] // drop the info string ("json")
	} else {
		return s
	}
	return strings.TrimSpace(body)
}
