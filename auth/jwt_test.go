package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/circuit-breaker/circuit-breaker/auth"
)

const hsSecret = "an HS256 secret of at least 32 bytes"

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type testKeys struct {
	rsa     *rsa.PrivateKey
	rsaPEM  []byte
	ec      *ecdsa.PrivateKey
	ecPEM   []byte
	rsaKeys []auth.PublicKey
	ecKeys  []auth.PublicKey
}

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(pub any) []byte {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	k := testKeys{rsa: rk, rsaPEM: pemOf(&rk.PublicKey), ec: ek, ecPEM: pemOf(&ek.PublicKey)}
	if k.rsaKeys, err = auth.ParsePublicKeys("rsa-1", k.rsaPEM); err != nil {
		t.Fatal(err)
	}
	if k.ecKeys, err = auth.ParsePublicKeys("", k.ecPEM); err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// claims returns valid claims with the given changes (nil deletes).
func claims(changes map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"sub": "user-1", "tenant": "acme", "iss": "https://issuer.example", "aud": "circuit-breaker",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
	}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func unsigned(c jwt.MapClaims) string {
	s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	return s
}

func TestJWTVerify(t *testing.T) {
	k := newTestKeys(t)
	v, err := auth.NewJWTVerifier(auth.JWTOptions{
		HS256Secret: []byte(hsSecret),
		PublicKeys:  append(append([]auth.PublicKey{}, k.rsaKeys...), k.ecKeys...),
		Issuer:      "https://issuer.example", Audience: "circuit-breaker",
		Leeway: 30 * time.Second, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(hsSecret), "", c) }

	tests := map[string]struct {
		token   string
		want    auth.Principal
		wantErr string // substring of the error; "" means success
	}{
		"HS256": {token: hs(claims(nil)), want: auth.Principal{Tenant: "acme", Subject: "user-1", Method: auth.MethodJWT}},
		"RS256 with kid": {token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa-1", claims(nil)),
			want: auth.Principal{Tenant: "acme", Subject: "user-1", Method: auth.MethodJWT}},
		"RS256 without kid": {token: sign(t, jwt.SigningMethodRS256, k.rsa, "", claims(nil)),
			want: auth.Principal{Tenant: "acme", Subject: "user-1", Method: auth.MethodJWT}},
		"ES256": {token: sign(t, jwt.SigningMethodES256, k.ec, "", claims(nil)),
			want: auth.Principal{Tenant: "acme", Subject: "user-1", Method: auth.MethodJWT}},
		"tid fallback, scopes, admin role": {
			token: hs(claims(map[string]any{"tenant": nil, "tid": "globex", "scope": "a b", "scopes": []any{"b", "c"}, "roles": []any{"viewer", "admin"}})),
			want:  auth.Principal{Tenant: "globex", Subject: "user-1", Method: auth.MethodJWT, Scopes: []string{"a", "b", "c"}, Admin: true}},
		"audience in a list": {token: hs(claims(map[string]any{"aud": []any{"other", "circuit-breaker"}})),
			want: auth.Principal{Tenant: "acme", Subject: "user-1", Method: auth.MethodJWT}},
		"expired within leeway": {token: hs(claims(map[string]any{"exp": now.Add(-10 * time.Second).Unix()})),
			want: auth.Principal{Tenant: "acme", Subject: "user-1", Method: auth.MethodJWT}},

		"wrong issuer":       {token: hs(claims(map[string]any{"iss": "https://evil.example"})), wantErr: "issuer is not accepted"},
		"no issuer":          {token: hs(claims(map[string]any{"iss": nil})), wantErr: "no iss claim"},
		"wrong audience":     {token: hs(claims(map[string]any{"aud": "someone-else"})), wantErr: "audience is not accepted"},
		"no audience":        {token: hs(claims(map[string]any{"aud": nil})), wantErr: "no aud claim"},
		"expired":            {token: hs(claims(map[string]any{"exp": now.Add(-time.Hour).Unix()})), wantErr: "expired"},
		"no exp":             {token: hs(claims(map[string]any{"exp": nil})), wantErr: "no exp claim"},
		"not valid yet":      {token: hs(claims(map[string]any{"nbf": now.Add(time.Hour).Unix()})), wantErr: "not valid yet"},
		"no subject":         {token: hs(claims(map[string]any{"sub": nil})), wantErr: "no subject"},
		"no tenant":          {token: hs(claims(map[string]any{"tenant": nil})), wantErr: "no tenant"},
		"bad tenant":         {token: hs(claims(map[string]any{"tenant": "a/b"})), wantErr: "tenant is invalid"},
		"alg none":           {token: unsigned(claims(nil)), wantErr: `algorithm "none" is not accepted`},
		"HS512 not accepted": {token: sign(t, jwt.SigningMethodHS512, []byte(hsSecret), "", claims(nil)), wantErr: `algorithm "HS512"`},
		"alg confusion: HS256 signed with the RSA public key": {
			token: sign(t, jwt.SigningMethodHS256, k.rsaPEM, "rsa-1", claims(nil)), wantErr: "signature is invalid"},
		"bad HMAC signature":   {token: sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), "", claims(nil)), wantErr: "signature is invalid"},
		"RS256 by another key": {token: sign(t, jwt.SigningMethodRS256, otherRSA, "", claims(nil)), wantErr: "signature is invalid"},
		"unknown kid":          {token: sign(t, jwt.SigningMethodRS256, k.rsa, "rsa-9", claims(nil)), wantErr: "no key matches the token's kid"},
		"tampered payload":     {token: tamper(hs(claims(nil))), wantErr: "signature is invalid"},
		"malformed":            {token: "a.b.c", wantErr: "malformed"},
		"two parts":            {token: "a.b", wantErr: "malformed"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := v.Verify(tt.token)
			if tt.wantErr != "" {
				if !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want ErrUnauthenticated containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), tt.token) {
					t.Errorf("error quotes the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Tenant != tt.want.Tenant || p.Subject != tt.want.Subject || p.Method != tt.want.Method ||
				p.Admin != tt.want.Admin || strings.Join(p.Scopes, ",") != strings.Join(tt.want.Scopes, ",") {
				t.Errorf("principal %+v, want %+v", p, tt.want)
			}
		})
	}
}

// TestJWTAlgorithmConfusionRSAOnly: with only an RSA key, an HS256 token
// made with the public key as HMAC secret is refused by algorithm.
func TestJWTAlgorithmConfusionRSAOnly(t *testing.T) {
	k := newTestKeys(t)
	v, err := auth.NewJWTVerifier(auth.JWTOptions{PublicKeys: k.rsaKeys, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range [][]byte{k.rsaPEM, x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)} {
		_, err := v.Verify(sign(t, jwt.SigningMethodHS256, key, "", claims(nil)))
		if !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), `"HS256" is not accepted`) {
			t.Errorf("got %v", err)
		}
	}
}

func TestJWTVerifierRejectsWeakKeys(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := map[string]auth.JWTOptions{
		"no keys":          {},
		"short secret":     {HS256Secret: []byte("short")},
		"1024-bit RSA key": {PublicKeys: []auth.PublicKey{{Key: &small.PublicKey}}},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := auth.NewJWTVerifier(o); err == nil {
				t.Error("NewJWTVerifier succeeded")
			}
		})
	}
	if _, err := auth.ParsePublicKeys("", []byte("not pem")); err == nil {
		t.Error("ParsePublicKeys accepted garbage")
	}
}

// tamper changes the payload's tenant without re-signing.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(b), `"acme"`, `"evil"`, 1)))
	return strings.Join(parts, ".")
}
