package gql

import (
	"encoding/json"
	"fmt"
)

// JSON is the JSON scalar: any JSON value. As an argument it accepts
// variables and GraphQL literals alike, object and list literals included
// (graphql-go hands a custom scalar the literal's Go value); numbers are
// normalised to float64, as encoding/json decodes them.
type JSON struct {
	V any
}

// ImplementsGraphQLType maps JSON to the schema's JSON scalar.
func (JSON) ImplementsGraphQLType(name string) bool { return name == "JSON" }

// UnmarshalGraphQL accepts any input value.
func (j *JSON) UnmarshalGraphQL(input any) error {
	v, err := normalize(input)
	if err != nil {
		return err
	}
	j.V = v
	return nil
}

// MarshalJSON writes the value as JSON.
func (j JSON) MarshalJSON() ([]byte, error) { return json.Marshal(j.V) }

// normalize returns v as encoding/json would decode its JSON encoding.
func normalize(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("not a JSON value: %w", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// object returns j as a JSON object; path names the argument in errors.
func (j *JSON) object(path string) (map[string]any, error) {
	if j == nil || j.V == nil {
		return nil, nil
	}
	m, ok := j.V.(map[string]any)
	if !ok {
		return nil, &Error{Code: "VALIDATION", Msg: path + ": must be a JSON object",
			Problems: []Problem{{Path: path, Msg: "must be a JSON object"}}}
	}
	return m, nil
}

func jsonOf(v any) *JSON {
	if v == nil {
		return nil
	}
	return &JSON{V: v}
}

// rawJSON wraps stored JSON bytes.
func rawJSON(b json.RawMessage) *JSON {
	if len(b) == 0 {
		return nil
	}
	return &JSON{V: b}
}
