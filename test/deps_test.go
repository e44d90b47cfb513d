package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps the domain packages pure: the event store
// contract, the workflow state machine and the rules engine must not
// depend on the layers built on top of them (STYLE.md point 6).
func TestImportDirection(t *testing.T) {
	const mod = "github.com/circuit-breaker/circuit-breaker/"
	forbidden := []string{"api", "actors", "projections", "providers", "cluster", "cmd", "config"}
	for _, pkg := range []string{"events", "workflow", "rules"} {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == mod+f || strings.HasPrefix(dep, mod+f+"/") {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}
