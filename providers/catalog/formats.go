package catalog

import "strings"

// npmFormats maps the npm package models.dev names for a provider to the
// router's wire format. Packages not listed are unsupported.
var npmFormats = map[string]string{
	"@ai-sdk/openai-compatible":   "openai",
	"@ai-sdk/openai":              "openai",
	"@ai-sdk/groq":                "openai",
	"@ai-sdk/togetherai":          "openai",
	"@ai-sdk/mistral":             "openai",
	"@ai-sdk/xai":                 "openai",
	"@ai-sdk/deepinfra":           "openai",
	"@ai-sdk/cerebras":            "openai",
	"@ai-sdk/perplexity":          "openai",
	"@ai-sdk/vercel":              "openai",
	"@ai-sdk/gateway":             "openai",
	"@ai-sdk/fireworks":           "openai",
	"@openrouter/ai-sdk-provider": "openai",
	"venice-ai-sdk-provider":      "openai",
	"@aihubmix/ai-sdk-provider":   "openai",
	"@ai-sdk/anthropic":           "anthropic",
	"@ai-sdk/google":              "gemini",
	"@ai-sdk/amazon-bedrock":      "bedrock",
	"@ai-sdk/cohere":              "cohere",
	"@ai-sdk/azure":               "azure",
}

// unsupported are providers whose package maps to a known format but whose
// API needs more than a key: GitHub Copilot exchanges an OAuth token for a
// short-lived Copilot token.
var unsupported = map[string]bool{"github-copilot": true}

// formatOf is the wire format of a provider; "" when unsupported.
func formatOf(id, npm string) string {
	if unsupported[id] {
		return ""
	}
	return npmFormats[npm]
}

// baseURLs are the API roots of well-known providers whose models.dev
// entry has none. ${VAR} placeholders are filled from the environment.
var baseURLs = map[string]string{
	"openai":                   "https://api.openai.com/v1",
	"anthropic":                "https://api.anthropic.com",
	"google":                   "https://generativelanguage.googleapis.com/v1beta",
	"groq":                     "https://api.groq.com/openai/v1",
	"togetherai":               "https://api.together.xyz/v1",
	"mistral":                  "https://api.mistral.ai/v1",
	"xai":                      "https://api.x.ai/v1",
	"cerebras":                 "https://api.cerebras.ai/v1",
	"deepinfra":                "https://api.deepinfra.com/v1/openai",
	"perplexity":               "https://api.perplexity.ai",
	"cohere":                   "https://api.cohere.com",
	"fireworks-ai":             "https://api.fireworks.ai/inference/v1",
	"openrouter":               "https://openrouter.ai/api/v1",
	"v0":                       "https://api.v0.dev/v1",
	"vercel":                   "https://ai-gateway.vercel.sh/v1",
	"venice":                   "https://api.venice.ai/api/v1",
	"aihubmix":                 "https://aihubmix.com/v1",
	"azure":                    "https://${AZURE_RESOURCE_NAME}.openai.azure.com/openai",
	"azure-cognitive-services": "https://${AZURE_COGNITIVE_SERVICES_RESOURCE_NAME}.cognitiveservices.azure.com/openai",
	// Bedrock's endpoint depends on the region; FromEnv builds it.
}

// selfHosted are the built-in local servers; Parse adds each one that the
// data does not list. Their base URL can be overridden by <ID>_BASE_URL.
var selfHosted = []Provider{
	{ID: "ollama", Name: "Ollama", Format: "ollama", BaseURL: "http://localhost:11434",
		Env: []string{"OLLAMA_BASE_URL"}, Doc: "https://docs.ollama.com/api", SelfHosted: true},
	{ID: "vllm", Name: "vLLM", Format: "openai", BaseURL: "http://localhost:8000/v1",
		Env: []string{"VLLM_BASE_URL", "VLLM_API_KEY"}, Doc: "https://docs.vllm.ai", SelfHosted: true},
	{ID: "lmstudio", Name: "LM Studio", Format: "openai", BaseURL: "http://localhost:1234/v1",
		Env: []string{"LMSTUDIO_BASE_URL", "LMSTUDIO_API_KEY"}, Doc: "https://lmstudio.ai/docs", SelfHosted: true},
	{ID: "tgi", Name: "Text Generation Inference", Format: "openai", BaseURL: "http://localhost:8080/v1",
		Env: []string{"TGI_BASE_URL", "TGI_API_KEY"}, Doc: "https://huggingface.co/docs/text-generation-inference", SelfHosted: true},
}

// Supported reports whether the router can call the provider: its wire
// format is known and so is its base URL (Bedrock's comes from the region).
func (p *Provider) Supported() bool {
	return p.Format != "" && (p.BaseURL != "" || p.Format == "bedrock")
}

// URLVars lists the ${VAR} placeholders of the base URL, in order.
func (p *Provider) URLVars() []string {
	var out []string
	s := p.BaseURL
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, s[i+2:i+j])
		s = s[i+j+1:]
	}
}

// ResolveBaseURL fills the base URL's ${VAR} placeholders from getenv; false
// when the URL is unknown or a variable is unset.
func (p *Provider) ResolveBaseURL(getenv func(string) string) (string, bool) {
	if p.BaseURL == "" {
		return "", false
	}
	s := p.BaseURL
	for _, v := range p.URLVars() {
		val := getenv(v)
		if val == "" {
			return "", false
		}
		s = strings.ReplaceAll(s, "${"+v+"}", val)
	}
	return strings.TrimRight(s, "/"), true
}
