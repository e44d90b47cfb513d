package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/api"
)

// clientFlags are the flags of the commands that talk to a server.
type clientFlags struct {
	server string
	tenant string
	token  string
}

func addClientFlags(fs *flag.FlagSet) *clientFlags {
	c := &clientFlags{}
	fs.StringVar(&c.server, "server", "http://127.0.0.1:4000", "server base `URL`. Env: CIRCUIT_BREAKER_SERVER")
	fs.StringVar(&c.tenant, "tenant", "", "tenant to act for when the server runs without authentication (X-Tenant; default \"default\")")
	fs.StringVar(&c.token, "token", "", "API key or JWT sent as \"Authorization: Bearer\". Env: CIRCUIT_BREAKER_TOKEN")
	return c
}

// base returns the server URL: the flag when given, else the environment,
// else the default.
func (c *clientFlags) base(fs *flag.FlagSet, env func(string) (string, bool)) string {
	u := c.server
	if !isSet(fs, "server") {
		if v, ok := env("CIRCUIT_BREAKER_SERVER"); ok && v != "" {
			u = v
		}
	}
	return strings.TrimRight(u, "/")
}

func (c *clientFlags) header(req *http.Request) {
	if c.tenant != "" {
		req.Header.Set(api.TenantHeader, c.tenant)
	}
	tok := c.token
	if tok == "" {
		tok = os.Getenv("CIRCUIT_BREAKER_TOKEN")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
}

// apiError renders an error response, listing every problem on its own line.
func apiError(res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var body api.ErrorBody
	if err := json.Unmarshal(b, &body); err != nil || body.Error.Code == "" {
		return fmt.Errorf("server answered %s: %s", res.Status, strings.TrimSpace(string(b)))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s (%s): %s", body.Error.Code, res.Status, body.Error.Message)
	for _, p := range body.Error.Problems {
		if p.Path != "" {
			fmt.Fprintf(&sb, "\n  %s: %s", p.Path, p.Msg)
		} else {
			fmt.Fprintf(&sb, "\n  %s", p.Msg)
		}
	}
	return fmt.Errorf("%s", sb.String())
}

// httpClient is for requests that complete (not for following feeds).
var httpClient = &http.Client{Timeout: 30 * time.Second}
