package gql_test

import (
	"testing"

	"github.com/circuit-breaker/circuit-breaker/api/gql"
)

// introspectionQuery is the query GraphiQL and other tools send on load
// (graphql-js getIntrospectionQuery, with descriptions).
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

func TestIntrospectionWithinLimits(t *testing.T) {
	e := newEnv(t, gql.Limits{})
	data := e.ok(t, "acme", introspectionQuery, nil)
	types, _ := dig(data, "__schema", "types").([]any)
	if len(types) < 20 {
		t.Fatalf("introspection returned %d types", len(types))
	}
}
