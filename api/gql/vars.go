package gql

import (
	"fmt"
	"math"

	"github.com/circuit-breaker/circuit-breaker/api/apierr"
)

// checkVars checks the values of variables of built-in scalar types, so a
// wrong type is reported naming the variable (graphql-go's message does
// not). Other types are left to graphql-go.
func checkVars(op *operation, vars map[string]any) *RequestError {
	for _, v := range op.vars {
		val, ok := vars[v.name]
		if !ok || val == nil {
			continue
		}
		want := ""
		switch v.scalar {
		case "Int":
			if f, isNum := num(val); !isNum || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
				want = "Int"
			}
		case "Float":
			if _, isNum := num(val); !isNum {
				want = "Float"
			}
		case "String":
			if _, isStr := val.(string); !isStr {
				want = "String"
			}
		case "Boolean":
			if _, isBool := val.(bool); !isBool {
				want = "Boolean"
			}
		case "ID":
			switch val.(type) {
			case string, float64:
			default:
				want = "ID"
			}
		}
		if want != "" {
			re := reqErr(apierr.CodeValidation, "variable $%s: must be %s, got %s", v.name, want, jsonKind(val))
			re.Errors[0].Extensions["problems"] = []Problem{{Path: "variables." + v.name, Msg: "must be " + want}}
			return re
		}
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// num returns a JSON number (float64, as encoding/json decodes it, or a Go
// integer from a Go caller) as a float64.
func num(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}
