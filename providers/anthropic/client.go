package anthropic

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

// DefaultBaseURL is Anthropic's API root, used when the config sets none.
const DefaultBaseURL = "https://api.anthropic.com"

// DefaultVersion is the anthropic-version header sent unless
// [providers.Config.APIVersion] overrides it.
const DefaultVersion = "2023-06-01"

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

func init() {
	providers.Register("anthropic", func(cfg providers.Config) (providers.Provider, error) { return New(cfg) })
}

// Client is one Anthropic Messages deployment. It is safe for concurrent
// use and holds no goroutines.
type Client struct {
	name    string
	url     string
	key     string
	version string
	headers map[string]string
	http    *http.Client
}

var _ providers.Provider = (*Client)(nil)

// New builds a client for cfg. BaseURL may be the API root
// ("https://api.anthropic.com") or end in "/v1" or "/v1/messages", as
// Anthropic-compatible providers list it; empty means [DefaultBaseURL].
func New(cfg providers.Config) (*Client, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("anthropic: base URL %q: want an http(s) URL", cfg.BaseURL)
	}
	switch {
	case strings.HasSuffix(base, "/v1/messages"):
	case strings.HasSuffix(base, "/v1"):
		base += "/messages"
	default:
		base += "/v1/messages"
	}
	c := &Client{name: cfg.Name, url: base, key: cfg.APIKey, version: cfg.APIVersion, headers: cfg.Headers, http: cfg.HTTPClient()}
	if c.name == "" {
		c.name = "anthropic"
	}
	if c.version == "" {
		c.version = DefaultVersion
	}
	return c, nil
}

// Chat sends req and waits for the whole response.
func (c *Client) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	resp, err := c.send(ctx, req, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	out, err := decodeResponse(body)
	if err != nil {
		var le *llm.Error
		if errors.As(err, &le) {
			le.Provider = c.name
		}
		return nil, err
	}
	return out, nil
}

// Stream sends req and returns the response stream. It returns an error
// only when the request failed before any of the response body was read;
// later failures come from the stream's Recv. Closing the stream cancels
// the upstream call.
func (c *Client) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.send(ctx, req, true)
	if err != nil {
		cancel()
		return nil, err
	}
	return newStream(ctx, cancel, resp.Body, c.name), nil
}

// send posts the request and returns a successful response; any other
// outcome is an *llm.Error.
func (c *Client) send(ctx context.Context, req *llm.Request, stream bool) (*http.Response, error) {
	body, err := encodeRequest(req, stream)
	if err != nil {
		var le *llm.Error
		if errors.As(err, &le) {
			le.Provider = c.name
		}
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, &llm.Error{Kind: llm.KindInternal, Status: http.StatusInternalServerError, Message: "anthropic: build request: " + err.Error(), Provider: c.name, Err: err}
	}
	h := hreq.Header
	for k, v := range c.headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("anthropic-version", c.version)
	if c.key != "" {
		h.Set("x-api-key", c.key)
	}
	if stream {
		h.Set("Accept", "text/event-stream")
	} else {
		h.Set("Accept", "application/json")
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, c.statusError(resp)
	}
	return resp, nil
}

func (c *Client) transportError(ctx context.Context, err error) *llm.Error {
	return llm.FromTransport(ctx, c.name, err)
}

// statusError classifies an HTTP error response from its status and the
// Anthropic error object in the body.
func (c *Client) statusError(resp *http.Response) *llm.Error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var eb wireErrorBody
	typ, msg := "", ""
	if json.Unmarshal(raw, &eb) == nil && eb.Error.Message != "" {
		typ, msg = eb.Error.Type, eb.Error.Message
	} else {
		msg = strings.TrimSpace(string(raw))
		if len(msg) > 512 {
			msg = msg[:512] + "…"
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
	}
	return llm.FromStatus(c.name, resp.StatusCode, typ, msg, llm.RetryAfter(resp.Header, time.Now()))
}

// errorTypeStatus is the HTTP status Anthropic gives each error type, used
// to classify errors that arrive inside a stream.
var errorTypeStatus = map[string]int{
	"invalid_request_error": http.StatusBadRequest,
	"authentication_error":  http.StatusUnauthorized,
	"billing_error":         http.StatusPaymentRequired,
	"permission_error":      http.StatusForbidden,
	"not_found_error":       http.StatusNotFound,
	"request_too_large":     http.StatusRequestEntityTooLarge,
	"rate_limit_error":      http.StatusTooManyRequests,
	"api_error":             http.StatusInternalServerError,
	"timeout_error":         http.StatusGatewayTimeout,
	"overloaded_error":      529,
}

// eventError classifies an "error" stream event.
func eventError(provider string, e *wireError) *llm.Error {
	status, ok := errorTypeStatus[e.Type]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := e.Message
	if msg == "" {
		msg = e.Type
	}
	return llm.FromStatus(provider, status, e.Type, msg, 0)
}
