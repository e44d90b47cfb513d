package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/httpbinding"
)

// sigV4Skew is how far a request's signing time may be from the clock.
const sigV4Skew = 15 * time.Minute

// sigV4Service is the service name Bedrock requests are signed for.
const sigV4Service = "bedrock"

// sigV4Auth is a parsed "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…" header.
type sigV4Auth struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

func parseSigV4(h string) (sigV4Auth, bool) {
	var a sigV4Auth
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return a, false
	}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return a, false
		}
		switch k {
		case "Credential":
			p := strings.Split(v, "/")
			if len(p) != 5 || p[4] != "aws4_request" {
				return a, false
			}
			a.accessKey, a.date, a.region, a.service = p[0], p[1], p[2], p[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	return a, a.accessKey != "" && len(a.signedHeaders) > 0 && a.signature != ""
}

// verifySigV4 checks a request's SigV4 signature: it builds the canonical
// request from the headers the client signed, its path, query and body,
// signs it with the configured secret and compares the signatures. It
// builds the canonical request itself rather than re-signing with the SDK's
// signer because clients sign headers that signer cannot reproduce: over
// HTTP/2 AWS's JavaScript SDK signs ":authority" instead of "host".
func verifySigV4(r *http.Request, body []byte, cfg *Config, now time.Time) *apiError {
	a, ok := parseSigV4(r.Header.Get("Authorization"))
	if !ok {
		return &apiError{status: http.StatusForbidden, code: "IncompleteSignatureException",
			message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."}
	}
	if a.accessKey != cfg.AWSAccessKeyID {
		return &apiError{status: http.StatusForbidden, code: "UnrecognizedClientException",
			message: "The security token included in the request is invalid."}
	}
	if a.service != sigV4Service || (cfg.AWSRegion != "" && a.region != cfg.AWSRegion) {
		return &apiError{status: http.StatusForbidden, code: "InvalidSignatureException",
			message: "Credential should be scoped to a valid region and to the service '" + sigV4Service + "'."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil || !strings.HasPrefix(amzDate, a.date) {
		return &apiError{status: http.StatusForbidden, code: "IncompleteSignatureException",
			message: "X-Amz-Date is missing or does not match the credential scope's date."}
	}
	if d := now.Sub(t); d > sigV4Skew || d < -sigV4Skew {
		return &apiError{status: http.StatusForbidden, code: "InvalidSignatureException",
			message: "Signature expired: " + amzDate + " is not within 15 minutes of the server's time."}
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		return &apiError{status: http.StatusBadRequest, code: "XAmzContentSHA256Mismatch",
			message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}
	want := sigV4Signature(cfg.AWSSecretAccessKey, a, amzDate, canonicalRequest(r, body, a.signedHeaders, payloadHash))
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return &apiError{status: http.StatusForbidden, code: "InvalidSignatureException",
			message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return nil
}

const amzDateFormat = "20060102T150405Z"

// canonicalRequest is SigV4's canonical form of r: method, doubly escaped
// path, sorted query, the signed headers' trimmed values, their names and
// the payload hash.
func canonicalRequest(r *http.Request, body []byte, signed []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	b.WriteString(httpbinding.EscapePath(p, false))
	b.WriteByte('\n')
	b.WriteString(strings.ReplaceAll(r.URL.Query().Encode(), "+", "%20"))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		switch name {
		case "host", ":authority":
			b.WriteString(r.Host)
		case "content-length":
			b.WriteString(strconv.Itoa(len(body)))
		default:
			for i, v := range r.Header.Values(name) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strings.Join(strings.Fields(v), " "))
			}
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// sigV4Signature signs a canonical request with the key derived from
// secret for the credential scope of a.
func sigV4Signature(secret string, a sigV4Auth, amzDate, canonical string) string {
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := mac(mac(mac(mac([]byte("AWS4"+secret), a.date), a.region), a.service), "aws4_request")
	return hex.EncodeToString(mac(key, toSign))
}
