package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/circuit-breaker/circuit-breaker/auth"
)

// FuzzAuthenticateToken: any token yields a principal or an error matching
// ErrUnauthenticated, never a panic.
func FuzzAuthenticateToken(f *testing.F) {
	k := newTestKeys(f)
	jv, err := auth.NewJWTVerifier(auth.JWTOptions{HS256Secret: []byte(hsSecret), PublicKeys: append(k.rsaKeys, k.ecKeys...),
		Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	keys := auth.NewKeys(nil, auth.KeysOptions{}) // never loaded: API keys answer ErrUnavailable
	a, err := auth.New(auth.Options{Mode: auth.ModeRequired, AdminKey: adminSecret, JWT: jv, Keys: keys})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"", "Bearer ", "cb_", "a.b.c", "..", adminSecret, "Bearer " + adminSecret,
		sign(f, jwt.SigningMethodHS256, []byte(hsSecret), "", claims(nil)),
		sign(f, jwt.SigningMethodES256, k.ec, "x", claims(nil)),
		unsigned(claims(nil)),
		"eyJhbGciOiJIUzI1NiJ9.e30.", "eyJhbGciOjF9.e30.x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := a.AuthenticateToken(context.Background(), tok)
		if err != nil && !errors.Is(err, auth.ErrUnauthenticated) && !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("error %v matches no sentinel", err)
		}
		if err == nil && (p.Tenant == "" || p.Subject == "") {
			t.Fatalf("principal %+v without tenant or subject", p)
		}
	})
}
