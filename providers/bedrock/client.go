package bedrock

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers"
)

// Format is the wire-format name the package registers.
const Format = "bedrock"

// signingService is the SigV4 service name of bedrock-runtime.
const signingService = "bedrock"

const (
	maxBody      = 64 << 20 // a whole /converse answer
	maxErrorBody = 64 << 10 // an error answer
)

var (
	_ providers.Provider = (*Client)(nil)
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

// Client is one Bedrock deployment. It is safe for concurrent use.
type Client struct {
	name    string
	base    *url.URL
	region  string
	apiKey  string
	creds   aws.Credentials
	headers map[string]string
	http    *http.Client
	signer  *v4.Signer
	// now is the signing clock; tests replace it.
	now func() time.Time
}

// New builds a client from cfg. It needs either an APIKey (Bedrock API key)
// or Region, AccessKeyID and SecretAccessKey for SigV4, and a Region or a
// BaseURL; every missing setting is reported at once.
func New(cfg providers.Config) (*Client, error) {
	var errs []error
	signing := cfg.APIKey == ""
	if signing {
		if cfg.Region == "" {
			errs = append(errs, errors.New("region is required to sign requests (or set an API key)"))
		}
		if cfg.AccessKeyID == "" {
			errs = append(errs, errors.New("access key id is required to sign requests (or set an API key)"))
		}
		if cfg.SecretAccessKey == "" {
			errs = append(errs, errors.New("secret access key is required to sign requests (or set an API key)"))
		}
	} else if cfg.BaseURL == "" && cfg.Region == "" {
		errs = append(errs, errors.New("region is required for the default endpoint (or set a base URL)"))
	}
	base := cfg.BaseURL
	if base == "" && cfg.Region != "" {
		base = "https://bedrock-runtime." + cfg.Region + ".amazonaws.com"
	}
	var u *url.URL
	if base != "" {
		var err error
		u, err = url.Parse(strings.TrimRight(base, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("base URL %q is not an http(s) URL", base))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("bedrock: %w", errors.Join(errs...))
	}
	name := cfg.Name
	if name == "" {
		name = Format
	}
	return &Client{
		name:    name,
		base:    u,
		region:  cfg.Region,
		apiKey:  cfg.APIKey,
		creds:   aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey, SessionToken: cfg.SessionToken},
		headers: cfg.Headers,
		http:    cfg.HTTPClient(),
		signer:  v4.NewSigner(),
		now:     time.Now,
	}, nil
}

// Chat sends a /converse call and returns the whole response.
func (c *Client) Chat(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	resp, err := c.send(ctx, req, "converse")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, llm.FromTransport(ctx, c.name, fmt.Errorf("bedrock: read response: %w", err))
	}
	if len(body) > maxBody {
		return nil, c.label(llm.Errorf(llm.KindServer, "bedrock: converse response larger than %d bytes", maxBody))
	}
	out, err := parseResponse(body, responseID(resp.Header), req.Model)
	if err != nil {
		return nil, c.label(err)
	}
	return out, nil
}

// Stream sends a /converse-stream call. It returns an error only when the
// call failed before any of the event stream was read.
func (c *Client) Stream(ctx context.Context, req *llm.Request) (llm.Stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.send(ctx, req, "converse-stream")
	if err != nil {
		cancel()
		return nil, err
	}
	return newStream(ctx, cancel, c.name, resp.Body, responseID(resp.Header), req.Model), nil
}

// send builds, authenticates and sends one call, and turns a non-2xx answer
// into an *llm.Error. On success the caller owns resp.Body.
func (c *Client) send(ctx context.Context, req *llm.Request, op string) (*http.Response, error) {
	if req.Model == "" {
		return nil, c.label(invalid("model: empty"))
	}
	wire, err := buildRequest(req)
	if err != nil {
		return nil, c.label(err)
	}
	body, err := json.Marshal(wire)
	if err != nil {
		return nil, c.label(llm.Errorf(llm.KindInternal, "bedrock: encode request: %v", err))
	}
	hreq, err := c.newRequest(ctx, req.Model, op, body)
	if err != nil {
		return nil, c.label(llm.Errorf(llm.KindInternal, "bedrock: %v", err))
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

// newRequest makes the signed (or bearer-authenticated) HTTP request.
func (c *Client) newRequest(ctx context.Context, model, op string, body []byte) (*http.Request, error) {
	u := *c.base
	seg := escapeSegment(model)
	u.Path = c.base.Path + "/model/" + model + "/" + op
	u.RawPath = c.base.EscapedPath() + "/model/" + seg + "/" + op
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, v := range c.headers {
		hreq.Header.Set(k, v)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if op == "converse-stream" {
		hreq.Header.Set("Accept", "application/vnd.amazon.eventstream")
	} else {
		hreq.Header.Set("Accept", "application/json")
	}
	if c.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
		return hreq, nil
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, hreq, hex.EncodeToString(sum[:]), signingService, c.region, c.now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	return hreq, nil
}

// escapeSegment percent-encodes s as one path segment, leaving only RFC 3986
// unreserved characters, as the AWS SDKs do for the modelId label (so ':'
// and '/' of ids and ARNs are encoded).
func escapeSegment(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// statusError reads a Bedrock error answer: a JSON {"message"} body and the
// x-amzn-ErrorType header ("ThrottlingException:http://…").
func (c *Client) statusError(resp *http.Response) *llm.Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	typ := resp.Header.Get("X-Amzn-Errortype")
	if i := strings.IndexByte(typ, ':'); i >= 0 {
		typ = typ[:i]
	}
	var eb struct {
		Message  string `json:"message"`
		MessageU string `json:"Message"`
		Type     string `json:"__type"`
	}
	msg := ""
	if json.Unmarshal(body, &eb) == nil {
		msg = eb.Message
		if msg == "" {
			msg = eb.MessageU
		}
		if typ == "" && eb.Type != "" {
			typ = eb.Type
			if i := strings.LastIndexByte(typ, '#'); i >= 0 {
				typ = typ[i+1:]
			}
		}
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e := llm.FromStatus(c.name, resp.StatusCode, typ, msg, llm.RetryAfter(resp.Header, time.Now()))
	if typ == "ModelErrorException" || resp.StatusCode == http.StatusFailedDependency {
		// 424: the model failed while answering; another try may work.
		e.Kind, e.Status = llm.KindServer, http.StatusBadGateway
	}
	return e
}

// label names the deployment on an *llm.Error that lacks it.
func (c *Client) label(err error) error {
	var e *llm.Error
	if errors.As(err, &e) && e.Provider == "" {
		e.Provider = c.name
	}
	return err
}

// responseID is Bedrock's request id, or a made-up one.
func responseID(h http.Header) string {
	if id := h.Get("X-Amzn-Requestid"); id != "" {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "bedrock-" + hex.EncodeToString(b[:])
}
