package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

// DefaultAzureAPIVersion is the Azure OpenAI api-version used when
// Config.APIVersion is empty (the GA data-plane inference version).
const DefaultAzureAPIVersion = "2024-10-21"

const (
	// maxResponseBody bounds a non-streamed response read into memory.
	maxResponseBody = 32 << 20
	// maxErrorBody bounds an error response read to find the message.
	maxErrorBody = 64 << 10
)

var (
	_ providers.Provider = (*Client)(nil)
	_ providers.Embedder = (*Client)(nil)
)

func init() {
	providers.Register("openai", factory)
	providers.Register("azure", factory)
}

func factory(cfg providers.Config) (providers.Provider, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Client is one OpenAI-compatible or Azure OpenAI deployment. It is safe for
// concurrent use and holds no goroutines.
type Client struct {
	name    string
	base    string
	azure   bool
	version string
	key     string
	headers map[string]string
	http    *http.Client
	// completionTokens sends the output limit as max_completion_tokens
	// instead of max_tokens (api.openai.com and Azure).
	completionTokens bool
}

// New builds a client for cfg. Format "azure" selects Azure OpenAI; any
// other format (normally "openai") the plain OpenAI API. It reports every
// configuration error at once.
func New(cfg providers.Config) (*Client, error) {
	c := &Client{
		name:    cfg.Name,
		base:    strings.TrimRight(cfg.BaseURL, "/"),
		azure:   cfg.Format == "azure",
		version: cfg.APIVersion,
		key:     cfg.APIKey,
		headers: cfg.Headers,
		http:    cfg.HTTPClient(),
	}
	if c.name == "" {
		c.name = cfg.Format
	}
	if c.name == "" {
		c.name = "openai"
	}
	var errs []error
	if c.base == "" {
		errs = append(errs, errors.New("base URL is required"))
	} else if u, err := url.Parse(c.base); err != nil {
		errs = append(errs, fmt.Errorf("base URL: %w", err))
	} else if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Errorf("base URL %q: want http(s)://host[/path]", c.base))
	} else {
		c.completionTokens = c.azure || strings.EqualFold(u.Hostname(), "api.openai.com")
	}
	if c.azure && c.version == "" {
		c.version = DefaultAzureAPIVersion
	}
	for k := range cfg.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			errs = append(errs, fmt.Errorf("header name %q is not valid", k))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("openai: %w", errors.Join(errs...))
	}
	return c, nil
}

// endpoint is the URL of an operation ("chat/completions", "embeddings")
// for the model.
func (c *Client) endpoint(op, model string) string {
	if c.azure {
		return c.base + "/openai/deployments/" + url.PathEscape(model) + "/" + op + "?api-version=" + url.QueryEscape(c.version)
	}
	return c.base + "/" + op
}

// post sends body and returns the response when its status is 2xx, or the
// provider's error.
func (c *Client) post(ctx context.Context, op, model string, body []byte, stream bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(op, model), bytes.NewReader(body))
	if err != nil {
		return nil, &llm.Error{Kind: llm.KindInternal, Status: http.StatusInternalServerError,
			Message: "building the request: " + err.Error(), Provider: c.name, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	if c.key != "" {
		if c.azure {
			req.Header.Set("api-key", c.key)
		} else {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, llm.FromTransport(ctx, c.name, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if rerr != nil && len(b) == 0 && ctx.Err() != nil {
			return nil, llm.FromTransport(ctx, c.name, rerr)
		}
		typ, msg := parseError(b)
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return nil, llm.FromStatus(c.name, resp.StatusCode, typ, msg, llm.RetryAfter(resp.Header, time.Now()))
	}
	return resp, nil
}

// parseError finds the type and message in an error body: OpenAI's
// {"error":{...}}, {"error":"text"}, vLLM's {"object":"error","message"}, or
// plain text.
func parseError(b []byte) (typ, msg string) {
	var body chatResponse
	if json.Unmarshal(b, &body) == nil {
		if o, ok := errorFrom(body.Error); ok {
			return errorType(o), string(o.Message)
		}
		if body.Message != "" {
			return string(body.Type), string(body.Message)
		}
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 512 {
		s = s[:512]
	}
	return "", strings.ToValidUTF8(s, "\uFFFD")
}

// errorFrom reads an "error" member that is an object or a string.
func errorFrom(raw json.RawMessage) (errorObject, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return errorObject{}, false
	}
	return decodeErrorObject(raw)
}

func decodeErrorObject(raw json.RawMessage) (errorObject, bool) {
	var o errorObject
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return o, false
		}
		o.Message = looseString(s)
		return o, true
	}
	if json.Unmarshal(raw, &o) != nil {
		return o, false
	}
	if o.Message == "" {
		o.Message = looseString(strings.TrimSpace(string(raw)))
	}
	return o, true
}

// errorType is the error's type, or its code when it has no type.
func errorType(o errorObject) string {
	if o.Type != "" {
		return string(o.Type)
	}
	var s string
	if json.Unmarshal(o.Code, &s) == nil {
		return s
	}
	return ""
}

// streamErrorStatus guesses the HTTP status of an error that came inside a
// 200 response (mid-stream), from its numeric code or its type.
func streamErrorStatus(o errorObject) int {
	// The code is a number (vLLM), a number in a string (Azure: "429") or
	// a name (OpenAI: "rate_limit_exceeded").
	var n int
	if json.Unmarshal(o.Code, &n) == nil && n >= 400 && n <= 599 {
		return n
	}
	var code string
	if json.Unmarshal(o.Code, &code) == nil {
		if n, err := strconv.Atoi(code); err == nil && n >= 400 && n <= 599 {
			return n
		}
	}
	// Both the type and the code name the error; look at both.
	t := string(o.Type) + " " + code
	switch {
	case strings.Contains(t, "rate_limit"):
		return http.StatusTooManyRequests
	case strings.Contains(t, "overloaded"):
		return http.StatusServiceUnavailable
	case strings.Contains(t, "invalid_request"), strings.Contains(t, "context_length"):
		return http.StatusBadRequest
	case strings.Contains(t, "authentication"), t == "invalid_api_key":
		return http.StatusUnauthorized
	case strings.Contains(t, "permission"):
		return http.StatusForbidden
	case strings.Contains(t, "not_found"):
		return http.StatusNotFound
	case strings.Contains(t, "timeout"):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// upstreamError is an error sent in a 200 body or mid-stream.
func (c *Client) upstreamError(o errorObject) *llm.Error {
	msg := string(o.Message)
	if msg == "" {
		msg = "the provider reported an error"
	}
	return llm.FromStatus(c.name, streamErrorStatus(o), errorType(o), msg, 0)
}

// badUpstream is a response the adapter cannot read.
func badUpstream(provider, format string, args ...any) *llm.Error {
	e := llm.Errorf(llm.KindServer, format, args...)
	e.Provider = provider
	return e
}
