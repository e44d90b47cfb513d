package cohere

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

// Format is the wire-format name the package registers.
const Format = "cohere"

// DefaultBaseURL is Cohere's API root.
const DefaultBaseURL = "https://api.cohere.com"

const (
	maxBody      = 64 << 20 // a whole chat or embed answer
	maxErrorBody = 64 << 10 // an error answer
)

var (
	_ providers.Provider = (*Client)(nil)
	_ providers.Embedder = (*Client)(nil)
)

func init() {
	providers.Register(Format, func(cfg providers.Config) (providers.Provider, error) {
		c, err := New(cfg)
		if err != nil {
			return nil, err
		}
		return c, nil
	})
}

// Client is one Cohere deployment. It is safe for concurrent use.
type Client struct {
	name    string
	base    string
	apiKey  string
	headers map[string]string
	http    *http.Client
}

// New builds a client from cfg. Cohere's own API needs an APIKey; a
// Cohere-compatible server at another BaseURL may do without. Every problem
// is reported at once.
func New(cfg providers.Config) (*Client, error) {
	var errs []error
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
		if cfg.APIKey == "" {
			errs = append(errs, errors.New("API key is required for Cohere's API"))
		}
	} else if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base URL %q is not an http(s) URL", cfg.BaseURL))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("cohere: %w", errors.Join(errs...))
	}
	name := cfg.Name
	if name == "" {
		name = Format
	}
	return &Client{name: name, base: base, apiKey: cfg.APIKey, headers: cfg.Headers, http: cfg.HTTPClient()}, nil
}

// Chat sends a /v2/chat call and returns the whole response.
func (c *Client) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	wire, err := buildRequest(req, false)
	if err != nil {
		return nil, c.label(err)
	}
	body, err := c.call(ctx, "/v2/chat", req.Model, wire)
	if err != nil {
		return nil, err
	}
	out, err := parseResponse(body, req.Model)
	if err != nil {
		return nil, c.label(err)
	}
	return out, nil
}

// Stream sends a streamed /v2/chat call. It returns an error only when the
// call failed before any of the stream was read.
func (c *Client) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	wire, err := buildRequest(req, true)
	if err != nil {
		return nil, c.label(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.post(ctx, "/v2/chat", req.Model, wire, true)
	if err != nil {
		cancel()
		return nil, err
	}
	return newStream(ctx, cancel, c.name, resp.Body, req.Model), nil
}

// call posts a JSON body and returns the whole 2xx answer.
func (c *Client) call(ctx context.Context, path, model string, wire any) ([]byte, error) {
	resp, err := c.post(ctx, path, model, wire, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, llm.FromTransport(ctx, c.name, fmt.Errorf("cohere: read response: %w", err))
	}
	if len(body) > maxBody {
		return nil, c.label(llm.Errorf(llm.KindServer, "cohere: response larger than %d bytes", maxBody))
	}
	return body, nil
}

// post sends one call and turns a non-2xx answer into an *llm.Error. On
// success the caller owns resp.Body.
func (c *Client) post(ctx context.Context, path, model string, wire any, stream bool) (*http.Response, error) {
	if model == "" {
		return nil, c.label(invalid("model: empty"))
	}
	body, err := json.Marshal(wire)
	if err != nil {
		return nil, c.label(llm.Errorf(llm.KindInternal, "cohere: encode request: %v", err))
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, c.label(llm.Errorf(llm.KindInternal, "cohere: build request: %v", err))
	}
	for k, v := range c.headers {
		hreq.Header.Set(k, v)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if stream {
		hreq.Header.Set("Accept", "text/event-stream")
	} else {
		hreq.Header.Set("Accept", "application/json")
	}
	if c.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, llm.FromTransport(ctx, c.name, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, c.statusError(resp)
	}
	return resp, nil
}

// statusError reads a Cohere error answer: {"id", "message"}.
func (c *Client) statusError(resp *http.Response) *llm.Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var eb struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	}
	msg := ""
	if json.Unmarshal(body, &eb) == nil {
		msg = eb.Message
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return llm.FromStatus(c.name, resp.StatusCode, eb.Type, msg, llm.RetryAfter(resp.Header, time.Now()))
}

// label names the deployment on an *llm.Error that lacks it.
func (c *Client) label(err error) error {
	var e *llm.Error
	if errors.As(err, &e) && e.Provider == "" {
		e.Provider = c.name
	}
	return err
}
