package gemini

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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

// DefaultBaseURL is used when the deployment names no BaseURL.
const DefaultBaseURL = "https://generativelanguage.googleapis.com/v1beta"

const (
	// maxBody bounds a whole (non-streamed) response body.
	maxBody = 32 << 20
	// maxErrorBody bounds the part of an error body that is read.
	maxErrorBody = 1 << 20
)

func init() {
	providers.Register("gemini", func(cfg providers.Config) (providers.Provider, error) { return New(cfg) })
}

var (
	_ providers.Provider = (*Client)(nil)
	_ providers.Embedder = (*Client)(nil)
)

// Client is one Gemini deployment. It is safe for concurrent use and holds
// no goroutines.
type Client struct {
	name    string
	base    string
	key     string
	headers map[string]string
	http    *http.Client
	now     func() time.Time
}

// New builds a client from cfg, reporting every configuration error at once.
// APIKey is required; BaseURL defaults to [DefaultBaseURL].
func New(cfg providers.Config) (*Client, error) {
	var errs []error
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("gemini: base URL %q is not an absolute http(s) URL", cfg.BaseURL))
	}
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("gemini: an API key is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	name := cfg.Name
	if name == "" {
		name = "gemini"
	}
	return &Client{name: name, base: base, key: cfg.APIKey, headers: cfg.Headers, http: cfg.HTTPClient(), now: time.Now}, nil
}

// Chat sends one generateContent call.
func (c *Client) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	body, err := buildRequest(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, c.modelURL(req.Model, "generateContent"), body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := readAll(resp.Body)
	if err != nil {
		return nil, c.readError(ctx, err)
	}
	var wire response
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, c.badResponse("the response is not a GenerateContentResponse: %v", err)
	}
	if wire.Error != nil {
		return nil, c.apiError(resp.StatusCode, wire.Error, 0)
	}
	d := decoder{name: c.name, model: req.Model, whole: true}
	var acc llm.Accumulator
	evs, err := d.add(&wire, nil)
	if err == nil {
		evs, err = d.finish(evs)
	}
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if err := acc.Add(ev); err != nil {
			return nil, c.badResponse("%v", err)
		}
	}
	return acc.Response(), nil
}

// Stream sends one streamGenerateContent call with SSE framing. It returns
// an error only when the call failed before any of the response body was
// read.
func (c *Client) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	body, err := buildRequest(req)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	resp, err := c.post(sctx, c.modelURL(req.Model, "streamGenerateContent")+"?alt=sse", body)
	if err != nil {
		cancel()
		return nil, err
	}
	return newStream(sctx, cancel, c.name, req.Model, resp.Body), nil
}

// modelURL is the URL of a method of the model.
func (c *Client) modelURL(model, method string) string {
	model = strings.TrimPrefix(model, "models/")
	return c.base + "/models/" + url.PathEscape(model) + ":" + method
}

// post sends body and returns a 2xx response; any other outcome is an
// *llm.Error and the body is closed.
func (c *Client) post(ctx context.Context, u string, body []byte) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, &llm.Error{Kind: llm.KindInternal, Status: http.StatusInternalServerError, Provider: c.name,
			Message: "could not build the request", Err: err}
	}
	for k, v := range c.headers {
		hreq.Header.Set(k, v)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("x-goog-api-key", c.key)
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, llm.FromTransport(ctx, c.name, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	ae := parseError(raw)
	if ae == nil {
		ae = &apiError{Message: strings.TrimSpace(http.StatusText(resp.StatusCode))}
		if s := strings.TrimSpace(string(raw)); s != "" && len(s) < 512 {
			ae.Message = s
		}
	}
	return nil, c.apiError(resp.StatusCode, ae, llm.RetryAfter(resp.Header, c.now()))
}

// apiError classifies an error object. Gemini answers a bad key with 400
// INVALID_ARGUMENT and reason API_KEY_INVALID; that is the upstream refusing
// our key, not the caller's mistake.
func (c *Client) apiError(status int, ae *apiError, retryAfter time.Duration) *llm.Error {
	if status/100 == 2 && ae.Code != 0 {
		status = ae.Code
	}
	if status/100 == 2 {
		status = http.StatusInternalServerError
	}
	msg := ae.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := llm.FromStatus(c.name, status, ae.Status, msg, retryAfter)
	for _, d := range ae.Details {
		if d.Reason == "API_KEY_INVALID" || d.Reason == "API_KEY_SERVICE_BLOCKED" {
			e.Kind, e.Status = llm.KindUpstreamAuth, http.StatusBadGateway
		}
	}
	return e
}

func (c *Client) badResponse(format string, args ...any) *llm.Error {
	e := llm.Errorf(llm.KindServer, format, args...)
	e.Provider = c.name
	return e
}

func (c *Client) readError(ctx context.Context, err error) *llm.Error {
	if errors.Is(err, errTooLarge) {
		return c.badResponse("the response is larger than %d bytes", maxBody)
	}
	return llm.FromTransport(ctx, c.name, err)
}

var errTooLarge = errors.New("response too large")

// readAll reads a whole response body, at most maxBody bytes.
func readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errTooLarge
	}
	return b, nil
}

// apiError is Gemini's error object.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []struct {
		Reason string `json:"reason"`
	} `json:"details"`
}

// parseError reads {"error": {...}} or the array form [{"error": {...}}]
// that non-SSE streaming calls answer with; nil when it is neither.
func parseError(raw []byte) *apiError {
	var one struct {
		Error *apiError `json:"error"`
	}
	if json.Unmarshal(raw, &one) == nil && one.Error != nil {
		return one.Error
	}
	var many []struct {
		Error *apiError `json:"error"`
	}
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 && many[0].Error != nil {
		return many[0].Error
	}
	return nil
}

// newID makes up a response id when Gemini sent none.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "gemini-" + hex.EncodeToString(b[:])
}
