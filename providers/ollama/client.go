package ollama

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
const DefaultBaseURL = "http://localhost:11434"

const (
	// maxBody bounds a whole (non-streamed) response body.
	maxBody = 32 << 20
	// maxErrorBody bounds the part of an error body that is read.
	maxErrorBody = 1 << 20
)

func init() {
	providers.Register("ollama", func(cfg providers.Config) (providers.Provider, error) { return New(cfg) })
}

var (
	_ providers.Provider = (*Client)(nil)
	_ providers.Embedder = (*Client)(nil)
)

// Client is one Ollama deployment. It is safe for concurrent use and holds
// no goroutines.
type Client struct {
	name    string
	base    string
	key     string
	headers map[string]string
	http    *http.Client
	now     func() time.Time
}

// New builds a client from cfg. BaseURL defaults to [DefaultBaseURL]; the
// API key is optional.
func New(cfg providers.Config) (*Client, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ollama: base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	name := cfg.Name
	if name == "" {
		name = "ollama"
	}
	return &Client{name: name, base: base, key: cfg.APIKey, headers: cfg.Headers, http: cfg.HTTPClient(), now: time.Now}, nil
}

// Chat sends one /api/chat call with streaming off.
func (c *Client) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	body, err := buildRequest(req, false)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, "/api/chat", body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := readAll(resp.Body)
	if err != nil {
		return nil, c.readError(ctx, err)
	}
	var wire chatResponse
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, c.badResponse("the response is not a chat response: %v", err)
	}
	d := decoder{name: c.name, model: req.Model, whole: true}
	evs, err := d.add(&wire, nil)
	if err == nil {
		evs, err = d.finish(evs)
	}
	if err != nil {
		return nil, err
	}
	var acc llm.Accumulator
	for _, ev := range evs {
		if err := acc.Add(ev); err != nil {
			return nil, c.badResponse("%v", err)
		}
	}
	return acc.Response(), nil
}

// Stream sends one streamed /api/chat call. It returns an error only when
// the call failed before any of the response body was read.
func (c *Client) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	body, err := buildRequest(req, true)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	resp, err := c.post(sctx, "/api/chat", body)
	if err != nil {
		cancel()
		return nil, err
	}
	return newStream(sctx, cancel, c.name, req.Model, resp.Body), nil
}

// post sends body to path and returns a 2xx response; any other outcome is
// an *llm.Error and the body is closed.
func (c *Client) post(ctx context.Context, path string, body []byte) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, &llm.Error{Kind: llm.KindInternal, Status: http.StatusInternalServerError, Provider: c.name,
			Message: "could not build the request", Err: err}
	}
	for k, v := range c.headers {
		hreq.Header.Set(k, v)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, llm.FromTransport(ctx, c.name, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := errorMessage(raw)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
		if s := strings.TrimSpace(string(raw)); s != "" && len(s) < 512 {
			msg = s
		}
	}
	return nil, llm.FromStatus(c.name, resp.StatusCode, "", msg, llm.RetryAfter(resp.Header, c.now()))
}

// errorMessage reads Ollama's {"error": "..."} (or an {"error": {"message":
// ...}} from a proxy in front of it); "" when raw is neither.
func errorMessage(raw []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || len(e.Error) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(e.Error, &obj) == nil && obj.Message != "" {
		return obj.Message
	}
	return string(e.Error)
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

// newID makes up a response id; Ollama sends none.
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "ollama-" + hex.EncodeToString(b[:])
}
