package providers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
)

// Provider is one deployment of one wire format.
//
// Errors are *llm.Error, classified by fault domain. Stream returns an error
// only when nothing was received from the provider yet, so the router may
// fall over to another deployment; once it returns a stream, failures come
// from the stream's Recv.
type Provider interface {
	Chat(ctx context.Context, req *llm.Request) (*llm.Response, error)
	Stream(ctx context.Context, req *llm.Request) (llm.Stream, error)
}

// Embedder is a Provider that also serves embeddings.
type Embedder interface {
	Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error)
}

// Config describes one deployment. Secrets (APIKey, SecretAccessKey,
// SessionToken) are never logged or returned by any API.
type Config struct {
	// Name identifies the deployment in routes, metrics and events
	// ("openai", "groq", "my-vllm").
	Name string
	// Format is the registered wire format ("openai", "azure", "anthropic",
	// "gemini", "bedrock", "cohere", "ollama").
	Format string
	// BaseURL is the API root, without a trailing slash
	// ("https://api.openai.com/v1", "https://api.anthropic.com").
	BaseURL string
	// APIKey authenticates with the provider; empty sends none.
	APIKey string
	// Headers are sent with every request (organisation ids and the like).
	Headers map[string]string
	// APIVersion is Azure OpenAI's api-version (and Anthropic's
	// anthropic-version when set).
	APIVersion string
	// Region, AccessKeyID, SecretAccessKey and SessionToken sign Bedrock
	// requests with SigV4; Bedrock also accepts APIKey as a bearer token.
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Client sends the requests; nil uses [DefaultClient].
	Client *http.Client
}

// HTTPClient is the client to use: c.Client or the shared default.
func (c Config) HTTPClient() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return DefaultClient()
}

// Factory builds a Provider from its Config, reporting what is missing.
type Factory func(Config) (Provider, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a wire format available under name. It panics on a
// duplicate, which is a programming error found at start-up.
func Register(format string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[format]; dup {
		panic("providers: format registered twice: " + format)
	}
	registry[format] = f
}

// New builds the deployment described by cfg.
func New(cfg Config) (Provider, error) {
	regMu.RLock()
	f, ok := registry[cfg.Format]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("providers: %s: unknown format %q (known: %v)", cfg.Name, cfg.Format, Formats())
	}
	p, err := f(cfg)
	if err != nil {
		return nil, fmt.Errorf("providers: %s: %w", cfg.Name, err)
	}
	return p, nil
}

// Formats lists the registered wire formats, sorted.
func Formats() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	clientOnce sync.Once
	client     *http.Client
)

// DefaultClient is the HTTP client shared by all deployments: keep-alive
// pools large enough for thousands of concurrent calls per host, no overall
// timeout (streams run long; callers bound calls with their context), and
// bounded connect and header waits.
func DefaultClient() *http.Client {
	clientOnce.Do(func() {
		t := &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          4096,
			MaxIdleConnsPerHost:   1024,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
		client = &http.Client{Transport: t}
	})
	return client
}
