package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/circuit-breaker/circuit-breaker/agent"
)

// maxHTTPBody bounds what is read of an HTTP tool's response; the
// registry cuts the result further.
const maxHTTPBody = 4 << 20

var (
	defaultClientOnce sync.Once
	defaultClient     *http.Client
)

func sharedClient() *http.Client {
	defaultClientOnce.Do(func() {
		defaultClient = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: refuseLinkLocal}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 0, // the call's own timeout bounds it
		}}
	})
	return defaultClient
}

// ErrAddressRefused is returned for a tool URL that resolves to an address
// no tenant's tool may reach.
var ErrAddressRefused = errors.New("address refused for HTTP tools")

// refuseLinkLocal refuses connections to link-local, multicast and
// unspecified addresses: cloud metadata services (169.254.169.254) live
// there, and a tenant's tool must never reach them. It runs after name
// resolution, so a name that resolves there is refused too.
func refuseLinkLocal(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrAddressRefused, host)
	}
	ip = ip.Unmap()
	if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return fmt.Errorf("%w: %s is link-local, multicast or unspecified", ErrAddressRefused, ip)
	}
	return nil
}

// HTTPKind serves tools of kind "http" with client (nil: a shared client).
// A call sends the model's arguments as the JSON body to the tool's URL
// with its method (default POST) and headers, plus Content-Type, an
// Idempotency-Key (Call.IdempotencyKey) and X-Agent-Run-Id. The response
// body is the result; a status outside 2xx is a tool error whose content
// is the status and the body. The call is bounded by the tool's
// TimeoutSeconds (default agent.DefaultHTTPTimeoutSeconds).
func HTTPKind(client *http.Client) Kind {
	return func(def agent.Tool) (Tool, error) {
		if def.HTTP == nil || def.HTTP.URL == "" {
			return nil, fmt.Errorf("tool %q: no http endpoint", def.Name)
		}
		c := client
		if c == nil {
			c = sharedClient()
		}
		return &httpTool{def: *def.HTTP, client: c}, nil
	}
}

type httpTool struct {
	def    agent.HTTPTool
	client *http.Client
}

func (t *httpTool) Call(ctx context.Context, c Call) (Result, error) {
	body := bytes.TrimSpace([]byte(c.Arguments))
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' || !json.Valid(body) {
		return Result{Content: "the arguments are not a JSON object: " + truncate(c.Arguments, 200), IsError: true}, nil
	}
	timeout := time.Duration(t.def.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = agent.DefaultHTTPTimeoutSeconds * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := t.def.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, t.def.URL, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("request: %w", err)
	}
	for k, v := range t.def.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", c.IdempotencyKey())
	req.Header.Set("X-Agent-Run-Id", c.RunID)
	resp, err := t.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return Result{}, fmt.Errorf("no answer within %v", timeout)
		}
		return Result{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	if err != nil {
		return Result{}, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if s := strings.TrimSpace(string(out)); s != "" {
			msg += ": " + s
		}
		return Result{Content: msg, IsError: true}, nil
	}
	return Result{Content: string(out)}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
