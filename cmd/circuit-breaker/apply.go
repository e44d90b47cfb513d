package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/circuit-breaker/circuit-breaker/workflow"
)

func apply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("apply", "apply -f FILE [flags]",
		`Creates a workflow, agents, or both from a definition file (JSON or
YAML). When the file names an id that already exists on the server, it
stores the next version instead (an unchanged definition stores nothing).
Prints each id and version; when the definition is rejected, prints each
problem with the field it concerns and exits 1.

The file is one of:
  - a workflow definition (states, activities, ...);
  - agents and a workflow: a top-level "agents" list of agent definitions
    (id, name, model, systemPrompt, tools, outputSchema, ...) and an
    optional "workflow" object; the agents are applied first;
  - one agent definition with "kind: agent".
In HTTP tools' url and header values, ${VAR} and ${VAR:-default} are
replaced with the environment's values (see examples/).
`, stderr)
	cl := addClientFlags(fs)
	file := fs.String("f", "", "definition `file` (.yaml, .yml or .json); - reads stdin")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fs.Usage()
		return usageErr("apply: -f FILE is required")
	}
	var body []byte
	var err error
	if *file == "-" {
		body, err = io.ReadAll(os.Stdin)
	} else {
		body, err = os.ReadFile(*file)
	}
	if err != nil {
		return err
	}
	return applyFile(ctx, cl, cl.base(fs, os.LookupEnv), *file, body, os.LookupEnv, stdout)
}

// applyWorkflow creates or updates the workflow of body (JSON or YAML, as
// ctype says) and prints one line about it. name names the file in
// errors.
func applyWorkflow(ctx context.Context, cl *clientFlags, base, name string, body []byte, ctype string, stdout io.Writer) error {
	// The id, if the file has one, decides between create and new version.
	// A definition that does not parse is sent anyway: the server's answer
	// names every problem.
	def, _ := workflow.Parse(body)
	method, path, verb := "POST", "/api/v1/workflows", "created"
	prevVersion := 0
	if def.ID != "" {
		exists, version, err := workflowExists(ctx, cl, base, def.ID)
		if err != nil {
			return err
		}
		prevVersion = version
		if exists {
			method, path, verb = "PUT", "/api/v1/workflows/"+url.PathEscape(def.ID), "updated"
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return usageErr("--server: %v", err)
	}
	req.Header.Set("Content-Type", ctype)
	cl.header(req)
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s rejected: %w", name, apiError(res))
	}
	var out workflow.Definition
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return fmt.Errorf("reading the server's answer: %w", err)
	}
	if out.Version == prevVersion {
		verb = "unchanged"
	}
	fmt.Fprintf(stdout, "workflow %s version %d %s\n", out.ID, out.Version, verb)
	return nil
}

// workflowExists reports whether workflow id exists, and its latest version.
func workflowExists(ctx context.Context, cl *clientFlags, base, id string) (bool, int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/workflows/"+url.PathEscape(id), nil)
	if err != nil {
		return false, 0, usageErr("--server: %v", err)
	}
	cl.header(req)
	res, err := httpClient.Do(req)
	if err != nil {
		return false, 0, err
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
		var d workflow.Definition
		if err := json.NewDecoder(res.Body).Decode(&d); err != nil {
			return false, 0, fmt.Errorf("reading the server's answer: %w", err)
		}
		return true, d.Version, nil
	case http.StatusNotFound:
		return false, 0, nil
	}
	return false, 0, apiError(res)
}
