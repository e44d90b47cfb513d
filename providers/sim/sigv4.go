package sim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sigV4Skew is how far a request's signing time may be from the clock.
const sigV4Skew = 15 * time.Minute

// sigV4Service is the service name Bedrock requests are signed for.
const sigV4Service = "bedrock"

var signer = v4.NewSigner()

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

// verifySigV4 checks a request's SigV4 signature by signing the same
// canonical request again (the headers it signed, its path, query and
// body) with the configured secret and comparing the signatures.
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
	t, err := time.Parse("20060102T150405Z", amzDate)
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
	u := *r.URL
	u.Host = r.Host
	again := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	creds := aws.Credentials{AccessKeyID: cfg.AWSAccessKeyID, SecretAccessKey: cfg.AWSSecretAccessKey}
	for _, name := range a.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			again.ContentLength = int64(len(body))
		case "x-amz-security-token":
			creds.SessionToken = r.Header.Get(name)
		default:
			again.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	if err := signer.SignHTTP(context.Background(), creds, again, payloadHash, a.service, a.region, t); err != nil {
		return &apiError{status: http.StatusInternalServerError, message: "sim: signing: " + err.Error()}
	}
	want, ok := parseSigV4(again.Header.Get("Authorization"))
	if !ok || !hmac.Equal([]byte(want.signature), []byte(a.signature)) {
		return &apiError{status: http.StatusForbidden, code: "InvalidSignatureException",
			message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return nil
}
