package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"strings"
)

// Merge returns the resource data after an activity fired with input: a
// shallow merge where input's top-level keys replace data's. Neither
// argument is modified.
func Merge(data, input map[string]any) map[string]any {
	out := make(map[string]any, len(data)+len(input))
	maps.Copy(out, data)
	maps.Copy(out, input)
	return out
}

// maxOutputJSON is the largest agent output OutputValue parses as JSON;
// a longer one is kept as text.
const maxOutputJSON = 1 << 20

// OutputValue is the value an agent's output is merged into the resource
// data as (under the activity's OutputKey): the structured output when the
// agent has an output schema (outputJSON), else the text parsed as JSON
// when it is a JSON object or array (models often answer so), else the
// text itself. outputJSON that is not valid JSON is ignored.
func OutputValue(text string, outputJSON json.RawMessage) any {
	if v, ok := decodeJSON(outputJSON); ok {
		return v
	}
	t := strings.TrimSpace(text)
	if t != "" && (t[0] == '{' || t[0] == '[') && len(t) <= maxOutputJSON {
		if v, ok := decodeJSON([]byte(t)); ok {
			return v
		}
	}
	return text
}

// decodeJSON decodes one JSON value and nothing after it.
func decodeJSON(b []byte) (any, bool) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return v, true
}
