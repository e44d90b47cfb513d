package gql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	graphql "github.com/graph-gophers/graphql-go"
)

// FuzzComplexity checks the pre-execution analyzer against graphql-go: it
// never panics, and every document graphql-go accepts it parses and costs
// (otherwise such a document would be refused as unanalysable).
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
	for _, q := range []string{
		`{ workflows { id activities { id } } }`,
		`query Q($n: Int = 5) { resources(first: $n) { id history { type } } }`,
		`{ ...F } fragment F on Query { rules { id } }`,
		`{ a: rules { ... on Rule { id } } __typename }`,
		`subscription { events(from: 1, streamPrefix: "resource-") { position } }`,
		`{ __schema { types { name fields { name } } } }`,
		`query { evaluateRule(definition: {conditions: [{field: "a", operator: "in", value: [1, "x", {k: null}, -1.5e3]}]}, data: {}) { matched } }`,
		"{ events(stream: \"\"\"block \\\"\"\" string\"\"\") { id } } # comment",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 1<<16 {
			return
		}
		d, perr := parseDocument(q)
		if perr == nil {
			if _, err := m.cost(d, "", map[string]any{"n": 3.0}); err != nil {
				return
			}
		}
		// graphql-go lexes strings the way Go does (text/scanner), so it
		// takes some malformed strings GraphQL does not (Go escapes such as
		// \a, runs of quotes that are not block strings). Refusing those is
		// safe; only documents without such strings must be analysable.
		if strings.Contains(q, `\`) || strings.Contains(q, `""""`) {
			return
		}
		if errs := gs.Validate(q); len(errs) == 0 && perr != nil {
			t.Fatalf("graphql-go accepts %q, the analyzer does not: %v", q, perr)
		}
	})
}
