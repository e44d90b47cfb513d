package workflow

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``,
		`{}`,
		`{"name":"x","states":["a","b"],"activities":[{"id":"go","fromStates":["a"],"toState":"b","conditions":[{"field":"n","operator":"between","value":[1,2]}]}]}`,
		`{"name":"x","states":["a"],"activities":[{"id":"loop","fromStates":["a"],"toState":"a","conditions":[{"combinator":"NOT","conditions":[{"field":"a.b.0","operator":"exists"}]}]}]}`,
		"name: y\nstates: [a, a, '']\nterminalStates: [a]\n",
		`{"activities":[{"retry":{"maxAttempts":0,"backoffSeconds":-1}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		v := d.Clone()
		verr := Validate(&v)
		m, err := Compile(d)
		if (verr == nil) != (err == nil) {
			t.Fatalf("Validate error %v but Compile error %v", verr, err)
		}
		if err != nil {
			if err.Error() != verr.Error() {
				t.Fatalf("Validate error %q != Compile error %q", verr, err)
			}
			return
		}
		state := m.InitialState()
		m.Available(state, map[string]any{})
		for _, a := range m.Definition().Activities {
			dec, err := m.Fire(state, a.ID, map[string]any{})
			if err == nil && (dec.From != state || dec.ActivityID != a.ID) {
				t.Fatalf("Fire(%q, %q) = %+v", state, a.ID, dec)
			}
		}
	})
}
