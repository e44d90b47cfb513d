package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenLen is the longest credential accepted, in bytes.
const MaxTokenLen = 8 << 10

// minRSABits is the smallest RSA modulus accepted for RS256.
const minRSABits = 2048

// PublicKey is a key that verifies asymmetric tokens. KID, when not empty,
// is matched against the tokens' "kid" header.
type PublicKey struct {
	KID string
	Key crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey
}

// JWTOptions configures a JWTVerifier.
type JWTOptions struct {
	// HS256Secret verifies HS256 tokens; empty disables HS256.
	HS256Secret []byte
	// PublicKeys verify RS256 (RSA, at least 2048 bits) and ES256/ES384
	// (ECDSA P-256/P-384) tokens.
	PublicKeys []PublicKey
	// Issuer and Audience, when set, must match the "iss" and "aud"
	// claims, which are then required.
	Issuer, Audience string
	// TenantClaim names the claim holding the tenant (default "tenant");
	// "tid" is tried when it is absent.
	TenantClaim string
	// RolesClaim (default "roles") lists the subject's roles; AdminRole
	// (default "admin") among them makes the principal an admin.
	RolesClaim, AdminRole string
	// Leeway is the clock skew tolerated on exp and nbf.
	Leeway time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// verifyKey is a key pinned to the one algorithm it may verify.
type verifyKey struct {
	kid string
	alg string
	key any
}

// JWTVerifier verifies JWT bearer tokens and turns their claims into a
// Principal. Every key is pinned to one algorithm (an HMAC secret to HS256,
// an RSA key to RS256, an ECDSA key to the ES algorithm of its curve), so a
// token is never verified by a key of another kind: "alg: none" and
// algorithm confusion (an HS256 token "signed" with an RSA public key) are
// refused. Tokens must carry exp; iss and aud are required when
// configured. It is safe for concurrent use.
type JWTVerifier struct {
	o      JWTOptions
	keys   []verifyKey
	algs   []string
	parser *jwt.Parser
}

// NewJWTVerifier returns a verifier; it needs at least one key.
func NewJWTVerifier(o JWTOptions) (*JWTVerifier, error) {
	if o.TenantClaim == "" {
		o.TenantClaim = "tenant"
	}
	if o.RolesClaim == "" {
		o.RolesClaim = "roles"
	}
	if o.AdminRole == "" {
		o.AdminRole = "admin"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	v := &JWTVerifier{o: o}
	if len(o.HS256Secret) > 0 {
		if len(o.HS256Secret) < 32 {
			return nil, fmt.Errorf("auth: HS256 secret must be at least 32 bytes, got %d", len(o.HS256Secret))
		}
		v.keys = append(v.keys, verifyKey{alg: jwt.SigningMethodHS256.Alg(), key: slices.Clone(o.HS256Secret)})
	}
	for i, pk := range o.PublicKeys {
		alg, err := pinAlg(pk.Key)
		if err != nil {
			return nil, fmt.Errorf("auth: public key %d (kid %q): %w", i, pk.KID, err)
		}
		v.keys = append(v.keys, verifyKey{kid: pk.KID, alg: alg, key: pk.Key})
	}
	if len(v.keys) == 0 {
		return nil, errors.New("auth: JWT verifier needs an HS256 secret or a public key")
	}
	for _, k := range v.keys {
		if !slices.Contains(v.algs, k.alg) {
			v.algs = append(v.algs, k.alg)
		}
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.algs),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(o.Leeway),
		jwt.WithTimeFunc(o.Now),
	}
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// pinAlg returns the one algorithm key may verify.
func pinAlg(key crypto.PublicKey) (string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return "", fmt.Errorf("RSA key of %d bits; at least %d needed", k.N.BitLen(), minRSABits)
		}
		return jwt.SigningMethodRS256.Alg(), nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return jwt.SigningMethodES256.Alg(), nil
		case elliptic.P384():
			return jwt.SigningMethodES384.Alg(), nil
		}
		return "", fmt.Errorf("ECDSA curve %s not supported (want P-256 or P-384)", k.Curve.Params().Name)
	}
	return "", fmt.Errorf("key type %T not supported (want RSA or ECDSA)", key)
}

// ParsePublicKeys parses every PEM block of data ("PUBLIC KEY" in PKIX
// form, "RSA PUBLIC KEY" in PKCS #1 form, or a "CERTIFICATE" whose key is
// used) into keys with the given kid.
func ParsePublicKeys(kid string, data []byte) ([]PublicKey, error) {
	var out []PublicKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		var key any
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(b.Bytes); err == nil {
				key = c.PublicKey
			}
		default:
			return nil, fmt.Errorf("PEM block %q is not a public key", b.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %w", b.Type, err)
		}
		if _, err := pinAlg(key); err != nil {
			return nil, err
		}
		out = append(out, PublicKey{KID: kid, Key: key})
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM public key found")
	}
	return out, nil
}

// header is the part of a JOSE header looked at before verification.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// Verify checks token and returns its principal. Every failure matches
// ErrUnauthenticated and says why (expired, wrong issuer, …) without
// quoting the token.
func (v *JWTVerifier) Verify(token string) (Principal, error) {
	if len(token) > MaxTokenLen {
		return Principal{}, fmt.Errorf("%w: token longer than %d bytes", ErrUnauthenticated, MaxTokenLen)
	}
	h, err := peekHeader(token)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: malformed token: %v", ErrUnauthenticated, err)
	}
	if !slices.Contains(v.algs, h.Alg) {
		return Principal{}, fmt.Errorf("%w: token algorithm %q is not accepted (accepted: %s)",
			ErrUnauthenticated, clip(h.Alg), strings.Join(v.algs, ", "))
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.keyFunc); err != nil {
		return Principal{}, fmt.Errorf("%w: %s", ErrUnauthenticated, reason(err))
	}
	return v.principal(claims)
}

// keyFunc returns the keys that may verify t: those pinned to its
// algorithm, narrowed to its kid when it has one.
func (v *JWTVerifier) keyFunc(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	kid, _ := t.Header["kid"].(string)
	var exact, anyKid []jwt.VerificationKey
	for _, k := range v.keys {
		if k.alg != alg {
			continue
		}
		switch {
		case kid != "" && k.kid == kid:
			exact = append(exact, k.key)
		case k.kid == "":
			anyKid = append(anyKid, k.key)
		case kid == "":
			anyKid = append(anyKid, k.key)
		}
	}
	ks := exact
	if len(ks) == 0 {
		ks = anyKid
	}
	switch len(ks) {
	case 0:
		return nil, errUnknownKey
	case 1:
		return ks[0], nil
	}
	return jwt.VerificationKeySet{Keys: ks}, nil
}

var errUnknownKey = errors.New("no key matches the token's kid")

// reason turns a jwt error into a short explanation.
func reason(err error) string {
	switch {
	case errors.Is(err, errUnknownKey):
		return "no key matches the token's kid"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "token signature is invalid"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token is issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token issuer is not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience is not accepted"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		for _, c := range []string{"exp", "iss", "aud", "nbf"} {
			if strings.Contains(err.Error(), c+" claim is required") {
				return "token has no " + c + " claim, which is required"
			}
		}
		return "token lacks a required claim"
	case errors.Is(err, jwt.ErrTokenInvalidClaims), errors.Is(err, jwt.ErrInvalidType):
		return "token has invalid claims"
	}
	return "token cannot be verified"
}

// peekHeader decodes the JOSE header of token without verifying anything.
func peekHeader(token string) (header, error) {
	hs, _, ok := strings.Cut(token, ".")
	if !ok || strings.Count(token, ".") != 2 {
		return header{}, errors.New("want three dot-separated parts")
	}
	b, err := base64.RawURLEncoding.DecodeString(hs)
	if err != nil {
		return header{}, errors.New("header is not base64url")
	}
	var h header
	if err := json.Unmarshal(b, &h); err != nil {
		return header{}, errors.New("header is not a JSON object")
	}
	return h, nil
}

func (v *JWTVerifier) principal(c jwt.MapClaims) (Principal, error) {
	sub, _ := c["sub"].(string)
	if sub == "" {
		return Principal{}, fmt.Errorf("%w: token has no subject (sub)", ErrUnauthenticated)
	}
	tenant, ok := c[v.o.TenantClaim].(string)
	if !ok {
		tenant, _ = c["tid"].(string)
	}
	if tenant == "" {
		return Principal{}, fmt.Errorf("%w: token has no tenant (claim %q or \"tid\")", ErrUnauthenticated, v.o.TenantClaim)
	}
	if err := ValidTenant(tenant); err != nil {
		return Principal{}, fmt.Errorf("%w: token tenant is invalid", ErrUnauthenticated)
	}
	scopes := strs(c["scope"])
	for _, s := range strs(c["scopes"]) {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return Principal{
		Tenant: tenant, Subject: sub, Method: MethodJWT, Scopes: scopes,
		Admin: slices.Contains(strs(c[v.o.RolesClaim]), v.o.AdminRole),
	}, nil
}

// strs reads a claim that is a space-separated string or an array of
// strings; anything else reads as empty.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// clip shortens attacker-controlled text quoted in messages.
func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
