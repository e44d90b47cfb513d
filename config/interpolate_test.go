package config

import "testing"

func TestInterpolate(t *testing.T) {
	env := mapEnv(map[string]string{"A": "alpha", "EMPTY": "", "B_2": "beta"})
	tests := map[string]struct {
		in, want, err string
	}{
		"no reference":       {in: "plain $HOME text", want: "plain $HOME text"},
		"whole":              {in: "${A}", want: "alpha"},
		"embedded":           {in: "x-${A}-${B_2}-y", want: "x-alpha-beta-y"},
		"set but empty":      {in: "[${EMPTY}]", want: "[]"},
		"default unused":     {in: "${A:-zz}", want: "alpha"},
		"default when unset": {in: "${NOPE:-http://h:1/p}", want: "http://h:1/p"},
		"default when empty": {in: "${EMPTY:-d}", want: "d"},
		"empty default":      {in: "a${NOPE:-}b", want: "ab"},
		"escaped":            {in: "$${A} and ${A}", want: "${A} and alpha"},
		"lone dollars":       {in: "$ $$ $A {A}", want: "$ $$ $A {A}"},
		"unset":              {in: "key=${NOPE}", err: "environment variable NOPE is not set (write ${NOPE:-default} to give a default)"},
		"unterminated":       {in: "${A", err: `unterminated "${A"`},
		"empty name":         {in: "${}", err: "invalid variable reference ${}"},
		"bad name":           {in: "${A-B}", err: "invalid variable reference ${A-B}"},
		"digit first":        {in: "${9A:-x}", err: "invalid variable reference ${9A:-x}"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := interpolate(tt.in, env)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("interpolate(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("interpolate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestInterpolateOnlyOnce checks that values coming from the environment are
// not expanded again.
func TestInterpolateOnlyOnce(t *testing.T) {
	got, err := interpolate("${A}", mapEnv(map[string]string{"A": "${B}"}))
	if err != nil || got != "${B}" {
		t.Fatalf("got %q, %v; want ${B}", got, err)
	}
}
