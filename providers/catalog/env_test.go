package catalog

import (
	"testing"

	"github.com/circuit-breaker/circuit-breaker/providers"
	"github.com/google/go-cmp/cmp"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []providers.Config
	}{
		{name: "nothing set"},
		{
			name: "openai",
			env:  map[string]string{"OPENAI_API_KEY": "sk-1"},
			want: []providers.Config{{Name: "openai", Format: "openai", BaseURL: "https://api.openai.com/v1", APIKey: "sk-1"}},
		},
		{
			name: "base URL override",
			env:  map[string]string{"OPENAI_API_KEY": "sk-1", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1/"},
			want: []providers.Config{{Name: "openai", Format: "openai", BaseURL: "http://127.0.0.1:9/v1", APIKey: "sk-1"}},
		},
		{
			name: "anthropic and gemini by its second key name",
			env:  map[string]string{"ANTHROPIC_API_KEY": "a", "GEMINI_API_KEY": "g"},
			want: []providers.Config{
				{Name: "anthropic", Format: "anthropic", BaseURL: "https://api.anthropic.com", APIKey: "a"},
				{Name: "google", Format: "gemini", BaseURL: "https://generativelanguage.googleapis.com/v1beta", APIKey: "g"},
			},
		},
		{
			name: "azure needs the resource name",
			env:  map[string]string{"AZURE_API_KEY": "k"},
		},
		{
			name: "azure",
			env:  map[string]string{"AZURE_API_KEY": "k", "AZURE_RESOURCE_NAME": "acme", "AZURE_API_VERSION": "2024-10-21"},
			want: []providers.Config{{Name: "azure", Format: "azure", BaseURL: "https://acme.openai.azure.com/openai", APIKey: "k", APIVersion: "2024-10-21"}},
		},
		{
			name: "bedrock with access keys",
			env:  map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "tok", "AWS_REGION": "eu-west-1"},
			want: []providers.Config{{Name: "amazon-bedrock", Format: "bedrock", BaseURL: "https://bedrock-runtime.eu-west-1.amazonaws.com",
				Region: "eu-west-1", AccessKeyID: "id", SecretAccessKey: "secret", SessionToken: "tok"}},
		},
		{
			name: "bedrock with a bearer token and the default region",
			env:  map[string]string{"AWS_BEARER_TOKEN_BEDROCK": "b", "AWS_ACCESS_KEY_ID": "id"},
			want: []providers.Config{{Name: "amazon-bedrock", Format: "bedrock", BaseURL: "https://bedrock-runtime.us-east-1.amazonaws.com",
				Region: "us-east-1", APIKey: "b"}},
		},
		{
			name: "bedrock with half a key pair",
			env:  map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_REGION": "eu-west-1"},
		},
		{
			name: "self-hosted by base URL",
			env:  map[string]string{"OLLAMA_BASE_URL": "http://gpu:11434", "VLLM_BASE_URL": "http://gpu:8000/v1", "VLLM_API_KEY": "v"},
			want: []providers.Config{
				{Name: "ollama", Format: "ollama", BaseURL: "http://gpu:11434"},
				{Name: "vllm", Format: "openai", BaseURL: "http://gpu:8000/v1", APIKey: "v"},
			},
		},
		{
			name: "lmstudio from the data by its key",
			env:  map[string]string{"LMSTUDIO_API_KEY": "l"},
			want: []providers.Config{{Name: "lmstudio", Format: "openai", BaseURL: "http://127.0.0.1:1234/v1", APIKey: "l"}},
		},
		{
			name: "url placeholder unset",
			env:  map[string]string{"CLOUDFLARE_API_KEY": "c"},
		},
		{
			name: "url placeholder set",
			env:  map[string]string{"CLOUDFLARE_API_KEY": "c", "CLOUDFLARE_ACCOUNT_ID": "acct"},
			want: []providers.Config{{Name: "cloudflare-workers-ai", Format: "openai",
				BaseURL: "https://api.cloudflare.com/client/v4/accounts/acct/ai/v1", APIKey: "c"}},
		},
		{
			name: "unsupported providers are skipped",
			env:  map[string]string{"GOOGLE_VERTEX_PROJECT": "p", "GOOGLE_APPLICATION_CREDENTIALS": "/x.json", "GITLAB_TOKEN": "g"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromEnv(func(k string) string { return tt.env[k] })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FromEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromEnvSharedKey(t *testing.T) {
	got := FromEnv(func(k string) string {
		if k == "MINIMAX_API_KEY" {
			return "m"
		}
		return ""
	})
	var names []string
	for _, c := range got {
		names = append(names, c.Name)
	}
	want := []string{"minimax", "minimax-cn", "minimax-cn-coding-plan", "minimax-coding-plan"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("deployments (-want +got):\n%s", diff)
	}
}
