package rules

import (
	"encoding/json"
	"errors"
	"testing"
)

func FuzzCompile(f *testing.F) {
	f.Add([]byte(seedRule))
	f.Add([]byte(`{"conditions":[{"field":"s","operator":"matches","value":"^h(e|a)l+o"}]}`))
	f.Add([]byte(`{"conditions":[{"combinator":"not","conditions":[{"field":"arr.1","operator":"contains","value":1}]}],"combinator":"or"}`))
	f.Add([]byte(`{"conditions":[{"field":"date","operator":"between","value":["2024-01-01","2025-01-01"]},{"field":"n","operator":"not_in","value":[1,2,null]}]}`))
	f.Add([]byte(`{"conditions":[{"field":"order.items.0.price","operator":"exists","value":false}],"actions":[{"type":"x","config":{"a":[1,{"b":null}]}}]}`))
	f.Add([]byte(`{"conditions":[{"group":"g","conditions":[]},{"field":"a..b","operator":"greter_than"}]}`))
	data := sampleData()
	f.Fuzz(func(t *testing.T, in []byte) {
		var def Definition
		if err := json.Unmarshal(in, &def); err != nil {
			return
		}
		r, err := Compile(def)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Compile error %v is not a non-empty Errors", err)
			}
			return
		}
		res := r.Evaluate(data)
		if len(res.Trace) == 0 || res.Trace[0].Result != res.Matched {
			t.Fatalf("root trace disagrees with Matched: %+v", res)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("marshal result: %v", err)
		}
	})
}

func BenchmarkEvaluate(b *testing.B) {
	r := mustCompileJSON(b, seedRule)
	data := map[string]any{"sentiment_score": 0.2, "complexity_score": 0.8, "customer_tier": "premium", "urgency": "high"}
	b.ReportAllocs()
	for b.Loop() {
		if !r.Evaluate(data).Matched {
			b.Fatal("not matched")
		}
	}
}
