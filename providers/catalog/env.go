package catalog

import (
	"slices"
	"strings"

	"github.com/circuit-breaker/circuit-breaker/providers"
)

// FromEnv lists a deployment for every provider of the default catalogue
// that the environment configures; see [Catalog.FromEnv].
func FromEnv(getenv func(string) string) []providers.Config {
	return Default().FromEnv(getenv)
}

// FromEnv lists one deployment, named after the provider id, for every
// supported provider whose key is in the environment, sorted by id:
//
//   - Most providers need their key variable (models.dev's env names:
//     OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_API_KEY or GEMINI_API_KEY,
//     GROQ_API_KEY, …) and every variable their base URL names (Azure's
//     AZURE_RESOURCE_NAME with AZURE_API_KEY, Cloudflare's account id).
//   - Bedrock needs AWS_BEARER_TOKEN_BEDROCK, or AWS_ACCESS_KEY_ID with
//     AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN if set); the region is
//     AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
//   - The self-hosted servers (ollama, vllm, lmstudio, tgi) join when
//     <ID>_BASE_URL (OLLAMA_BASE_URL, VLLM_BASE_URL, …) or their key
//     variable (<ID>_API_KEY) is set; the key is sent when set.
//   - <ID>_BASE_URL (upper case, "-" as "_"; OPENAI_BASE_URL,
//     ANTHROPIC_BASE_URL) overrides any provider's base URL.
//
// Providers that share a key variable (the regional MiniMax or Z.ai
// endpoints) each get a deployment; the router falls over between them on
// an upstream authentication failure. Unsupported providers are skipped.
func (c *Catalog) FromEnv(getenv func(string) string) []providers.Config {
	var out []providers.Config
	for _, id := range c.ids {
		p := c.providers[id]
		if !p.Supported() {
			continue
		}
		if cfg, ok := p.envConfig(getenv); ok {
			out = append(out, cfg)
		}
	}
	return out
}

// envPrefix is the provider id as an environment variable prefix.
func envPrefix(id string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(id))
}

func (p *Provider) envConfig(getenv func(string) string) (providers.Config, bool) {
	cfg := providers.Config{Name: p.ID, Format: p.Format}
	prefix := envPrefix(p.ID)
	override := strings.TrimRight(getenv(prefix+"_BASE_URL"), "/")
	switch {
	case p.Format == "bedrock":
		cfg.APIKey = getenv("AWS_BEARER_TOKEN_BEDROCK")
		cfg.AccessKeyID, cfg.SecretAccessKey = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
		if cfg.APIKey == "" && (cfg.AccessKeyID == "" || cfg.SecretAccessKey == "") {
			return providers.Config{}, false
		}
		if cfg.APIKey == "" {
			cfg.SessionToken = getenv("AWS_SESSION_TOKEN")
		} else {
			cfg.AccessKeyID, cfg.SecretAccessKey = "", ""
		}
		cfg.Region = firstSet(getenv, "AWS_REGION", "AWS_DEFAULT_REGION")
		if cfg.Region == "" {
			cfg.Region = "us-east-1"
		}
		cfg.BaseURL = "https://bedrock-runtime." + cfg.Region + ".amazonaws.com"
		if override != "" {
			cfg.BaseURL = override
		}
		return cfg, true
	case p.SelfHosted:
		var keys []string
		for _, v := range p.Env {
			if isKeyVar(v) {
				keys = append(keys, v)
			}
		}
		cfg.APIKey = firstSet(getenv, append(keys, prefix+"_API_KEY")...)
		if override == "" && cfg.APIKey == "" {
			return providers.Config{}, false
		}
		cfg.BaseURL = override
		if cfg.BaseURL == "" {
			cfg.BaseURL = p.BaseURL
		}
		return cfg, true
	}
	urlVars := p.URLVars()
	var candidates []string
	for _, v := range p.Env {
		if !slices.Contains(urlVars, v) && isKeyVar(v) {
			candidates = append(candidates, v)
		}
	}
	if len(candidates) == 0 {
		return providers.Config{}, false
	}
	cfg.APIKey = firstSet(getenv, candidates...)
	if cfg.APIKey == "" {
		return providers.Config{}, false
	}
	if override != "" {
		cfg.BaseURL = override
	} else {
		u, ok := p.ResolveBaseURL(getenv)
		if !ok {
			return providers.Config{}, false
		}
		cfg.BaseURL = u
	}
	if p.Format == "azure" {
		cfg.APIVersion = getenv("AZURE_API_VERSION")
	}
	return cfg, true
}

// isKeyVar reports whether an environment variable name looks like it
// holds a secret rather than a host, account or region.
func isKeyVar(name string) bool {
	for _, s := range []string{"KEY", "TOKEN", "PAT", "SECRET"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}
