package gql

import (
	"os"
	"path/filepath"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
)

// validQueries are documents graphql-go runs; the analyzer must cost them
// all (a document it cannot analyse is refused).
var validQueries = []string{
	`{ workflows { id activities { id } } }`,
	`query Q($n: Int = 5) { resources(first: $n) { id history { type } } }`,
	`{ ...F } fragment F on Query { rules { id } }`,
	`{ a: rules { ... on Rule { id } } __typename }`,
	`subscription { events(from: 1, streamPrefix: "resource-") { position } }`,
	`{ __schema { types { name fields { name } } } }`,
	`query { evaluateRule(definition: {conditions: [{field: "a", operator: "in", value: [1, "x", {k: null}, -1.5e3]}]}, data: {}) { matched } }`,
	"{ events(stream: \"\"\"block \\\"\"\" string\"\"\") { id } } # comment",
}

func TestAnalyzerAcceptsValidQueries(t *testing.T) {
	gs, err := graphql.ParseSchema(sdl, nil, graphql.MaxDepth(15))
	if err != nil {
		t.Fatal(err)
	}
	m := newCostModel(gs.AST(), 100)
	qs := append([]string{}, validQueries...)
	files, _ := filepath.Glob("testdata/*.graphql")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, string(b))
	}
	for _, q := range qs {
		if errs := gs.Validate(q); len(errs) > 0 {
			continue // e.g. the seed's example without a selection set
		}
		d, err := parseDocument(q)
		if err != nil {
			t.Errorf("graphql-go accepts %q, the analyzer does not: %v", q, err)
			continue
		}
		if _, err := m.cost(d, "", map[string]any{"n": 3.0}); err != nil {
			t.Errorf("cost of %q: %v", q, err)
		}
	}
}

// FuzzComplexity feeds arbitrary documents to the pre-execution analyzer:
// it never panics and its work stays bounded. (graphql-go lexes like Go's
// text/scanner and so runs some documents GraphQL's grammar refuses, such
// as 0streamPrefix or Go string escapes; the analyzer refusing those is
// safe, so the fuzzer does not compare the two: TestAnalyzerAcceptsValidQueries
// does, on real queries.)
func FuzzComplexity(f *testing.F) {
	gs, err := graphql.ParseSchema(sdl, nil, graphql.MaxDepth(15))
	if err != nil {
		f.Fatal(err)
	}
	m := newCostModel(gs.AST(), 100)
	seeds, _ := filepath.Glob("testdata/*.graphql")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, q := range validQueries {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 1<<16 {
			return
		}
		d, err := parseDocument(q)
		if err != nil {
			return
		}
		_, _ = m.cost(d, "", map[string]any{"n": 3.0})
	})
}
