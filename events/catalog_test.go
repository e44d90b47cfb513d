package events

import (
	"strings"
	"testing"
)

func TestScope(t *testing.T) {
	cases := []struct {
		tenant, want string
	}{
		{"acme", "acme"},
		{"default", "default"},
		{"team_a-1", "team_a-1"},
		{"acme.eu", "_"}, // '.' cannot be in a stream name: hashed
		{"_system", "_"}, // a leading '_' marks hashed scopes: hashed
		{"a:b", "_"},     // ':' separates scope and id: hashed
		{"", "_"},        // no tenant: hashed, never a plain scope
		{strings.Repeat("x", 65), "_"},
	}
	seen := map[string]string{}
	for _, c := range cases {
		got := Scope(c.tenant)
		if c.want == "_" {
			if !strings.HasPrefix(got, "_") || len(got) != 17 {
				t.Errorf("Scope(%q) = %q, want a hashed scope", c.tenant, got)
			}
		} else if got != c.want {
			t.Errorf("Scope(%q) = %q, want %q", c.tenant, got, c.want)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("tenants %q and %q share scope %q", other, c.tenant, got)
		}
		seen[got] = c.tenant
		if err := ValidateStream(ResourceStream(c.tenant, "doc-1")); err != nil {
			t.Errorf("stream of tenant %q: %v", c.tenant, err)
		}
	}
	if s, id := Unscope(Scoped("acme", "a:b")); s != "acme" || id != "a:b" {
		t.Errorf("Unscope = %q %q", s, id)
	}
}

func TestTenantStream(t *testing.T) {
	cases := []struct{ in, want string }{
		{"resource-doc-1", "resource-acme:doc-1"},
		{"workflow-x", "workflow-acme:x"},
		{"resource-acme:doc-1", "resource-acme:doc-1"},
		{"resource-", "resource-"},
		{"resource", "resource"},
		{"", ""},
	}
	for _, c := range cases {
		if got := TenantStream("acme", c.in); got != c.want {
			t.Errorf("TenantStream(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
