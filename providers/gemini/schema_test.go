package gemini

import (
	"encoding/json"
	"testing"
)

func TestSanitizeSchema(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"drops unsupported keywords",
			`{"$schema":"x","$id":"y","type":"object","additionalProperties":false,"patternProperties":{"a":{}},"properties":{"n":{"type":"number","exclusiveMinimum":0,"multipleOf":2,"minimum":1}}}`,
			`{"properties":{"n":{"minimum":1,"type":"number"}},"type":"object"}`},
		{"non-string enum dropped", `{"type":"integer","enum":[1,2]}`, `{"type":"integer"}`},
		{"oneOf becomes anyOf", `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `{"anyOf":[{"type":"string"},{"type":"integer"}]}`},
		{"allOf merged", `{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"properties":{"b":{"type":"boolean"}},"required":["b"]}]}`,
			`{"properties":{"a":{"type":"string"},"b":{"type":"boolean"}},"required":["a","b"],"type":"object"}`},
		{"type null alone", `{"type":"null"}`, `{"nullable":true}`},
		{"tuple items", `{"type":"array","items":[{"type":"string"},{"type":"integer"}]}`, `{"items":{"type":"string"},"type":"array"}`},
		{"unknown ref", `{"$ref":"https://example.com/s.json"}`, `{}`},
		{"empty properties dropped", `{"type":"object","properties":{}}`, `{"type":"object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SanitizeSchema(json.RawMessage(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSanitizeSchemaRecursive(t *testing.T) {
	// A self-referencing tree expands until the bounds cut it off.
	in := `{"$defs":{"n":{"type":"object","properties":{"l":{"$ref":"#/$defs/n"},"r":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"}`
	got, err := SanitizeSchema(json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 2<<20 {
		t.Fatalf("expanded to %d bytes", len(got))
	}
}

func TestSanitizeSchemaErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `"s"`, `{"a":1} {}`, `{`} {
		if _, err := SanitizeSchema(json.RawMessage(in)); err == nil {
			t.Errorf("%q: want an error", in)
		}
	}
}
