package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
)

const keysUsage = `Usage:
  circuit-breaker keys create --name NAME [--for-tenant T] [--scope S]... [client flags]
  circuit-breaker keys list [--for-tenant T] [client flags]
  circuit-breaker keys revoke ID [client flags]

Manages API keys through the server's GraphQL API. It needs an admin
credential: the bootstrap admin key (auth.admin_key) or an admin key of the
tenant, given with --token or CIRCUIT_BREAKER_TOKEN. A created key's secret
is printed once; the server keeps only its hash.
`

func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, keysUsage)
		if len(args) == 0 {
			return usageErr("keys: missing subcommand (create, list or revoke)")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := newFlags("keys "+sub, "keys "+sub+" [flags]", keysUsage, stderr)
	cl := addClientFlags(fs)
	name := fs.String("name", "", "a `name` for the key, e.g. the service that uses it")
	forTenant := fs.String("for-tenant", "", "the `tenant` the key acts for (default: the caller's)")
	var scopes multiFlag
	fs.Var(&scopes, "scope", "a `scope` of the key; \"admin\" lets it manage its tenant's keys (repeatable)")
	var id string
	if sub == "revoke" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var tenant any
	if *forTenant != "" {
		tenant = *forTenant
	}
	base := cl.base(fs, os.LookupEnv)
	switch sub {
	case "create":
		if *name == "" {
			return usageErr("keys create: --name is required")
		}
		var out struct {
			CreateApiKey struct {
				Secret string `json:"secret"`
				Key    apiKey `json:"key"`
			} `json:"createApiKey"`
		}
		err := graphqlCall(ctx, cl, base, `mutation($t: String, $n: String!, $s: [String!]) {
  createApiKey(tenant: $t, name: $n, scopes: $s) { secret key { id tenant name prefix scopes } } }`,
			map[string]any{"t": tenant, "n": *name, "s": []string(scopes)}, &out)
		if err != nil {
			return err
		}
		k := out.CreateApiKey
		fmt.Fprintf(stdout, "created API key %s for tenant %s (%s)\n", k.Key.ID, k.Key.Tenant, k.Key.Name)
		fmt.Fprintf(stdout, "secret (shown once, store it now): %s\n", k.Secret)
		return nil
	case "list":
		var out struct {
			APIKeys []apiKey `json:"apiKeys"`
		}
		if err := graphqlCall(ctx, cl, base, `query($t: String) { apiKeys(tenant: $t) { id tenant name prefix scopes revoked createdAt } }`,
			map[string]any{"t": tenant}, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTENANT\tNAME\tPREFIX\tSCOPES\tSTATUS\tCREATED")
		for _, k := range out.APIKeys {
			status := "active"
			if k.Revoked {
				status = "revoked"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.Tenant, k.Name, k.Prefix, strings.Join(k.Scopes, ","), status, k.CreatedAt)
		}
		return tw.Flush()
	case "revoke":
		if id == "" {
			return usageErr("keys revoke: the key ID is required")
		}
		var out struct {
			RevokeApiKey apiKey `json:"revokeApiKey"`
		}
		if err := graphqlCall(ctx, cl, base, `mutation($id: ID!) { revokeApiKey(id: $id) { id revoked } }`,
			map[string]any{"id": id}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked API key %s\n", out.RevokeApiKey.ID)
		return nil
	}
	fmt.Fprint(stderr, keysUsage)
	return usageErr("keys: unknown subcommand %q", sub)
}

type apiKey struct {
	ID        string   `json:"id"`
	Tenant    string   `json:"tenant"`
	Name      string   `json:"name"`
	Prefix    string   `json:"prefix"`
	Scopes    []string `json:"scopes"`
	Revoked   bool     `json:"revoked"`
	CreatedAt string   `json:"createdAt"`
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// graphqlCall runs one GraphQL operation and decodes its data into out;
// GraphQL errors come back as one error listing each with its code.
func graphqlCall(ctx context.Context, cl *clientFlags, base, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return usageErr("--server: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	cl.header(req)
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusUnauthorized || res.StatusCode >= 500 {
		return apiError(res)
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 16<<20)).Decode(&r); err != nil {
		return fmt.Errorf("reading the server's answer (%s): %w", res.Status, err)
	}
	if len(r.Errors) > 0 {
		var sb strings.Builder
		for i, e := range r.Errors {
			if i > 0 {
				sb.WriteString("\n")
			}
			fmt.Fprintf(&sb, "%v: %s", e.Extensions["code"], e.Message)
		}
		return fmt.Errorf("%s", sb.String())
	}
	return json.Unmarshal(r.Data, out)
}
