package gqlws

import (
	"bytes"
	"encoding/json"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// TestEncodeResult: the cached encoding equals the plain one, for shared
// and distinct responses, ids that need escaping and results with errors.
func TestEncodeResult(t *testing.T) {
	var c payloadCache
	shared := &graphql.Response{Data: json.RawMessage(`{"events":{"position":7,"note":"<a&b>"}}`)}
	resps := []*graphql.Response{
		shared, shared,
		{Data: json.RawMessage(`{"x":1}`)},
		{Errors: []*gqlerrors.QueryError{{Message: "boom", Extensions: map[string]any{"code": "INTERNAL"}}}},
		shared,
	}
	for i := range 20 { // more distinct responses than slots
		resps = append(resps, &graphql.Response{Data: json.RawMessage(`{"n":` + string(rune('0'+i%10)) + `}`)}, shared)
	}
	for _, id := range []string{"1", `we"ird\id`, "ünï", ""} {
		for i, r := range resps {
			got := c.encodeResult(msgNext, id, r)
			if want := encode(msgNext, id, r); !bytes.Equal(got, want) {
				t.Fatalf("response %d, id %q:\n got %s\nwant %s", i, id, got, want)
			}
		}
	}
}
