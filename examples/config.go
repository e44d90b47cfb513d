package examples

import "fmt"

// Models are the models the examples use, by deployment: the demo
// configuration offers exactly these.
var Models = map[string][]string{
	"openai":    {"gpt-4o", "gpt-4o-mini", "gpt-4"},
	"anthropic": {"claude-sonnet-4-5", "claude-haiku-4-5"},
}

// ServerConfig is a server configuration (TOML) whose LLM deployments
// "openai" (OpenAI's wire format) and "anthropic" (Anthropic's) both point
// at the provider simulator at simURL, with the catalogue's prices, and
// that reads no provider key from the environment. logLevel is the
// server's log level ("info", "debug", …).
func ServerConfig(simURL, logLevel string) string {
	return fmt.Sprintf(`# Written by circuit-breaker demo: the LLM deployments point at the
# provider simulator, so nothing leaves this machine and no key is needed.
[server]
log_level = %[2]q

[llm]
from_env = false
request_timeout_seconds = 30

[llm.providers.openai]
base_url = "%[1]s/v1"
api_key = "sim-openai-key"
models = %[3]s

[llm.providers.anthropic]
base_url = "%[1]s"
api_key = "sim-anthropic-key"
models = %[4]s
`, simURL, logLevel, tomlList(Models["openai"]), tomlList(Models["anthropic"]))
}

func tomlList(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", v)
	}
	return out + "]"
}
