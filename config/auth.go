package config

import (
	"strings"
	"time"
)

// Authentication modes (auth.mode).
const (
	// AuthOff runs every request as the anonymous principal of the default
	// tenant.
	AuthOff = "off"
	// AuthOptional checks credentials when a request carries them and runs
	// it anonymously otherwise.
	AuthOptional = "optional"
	// AuthRequired refuses requests without valid credentials.
	AuthRequired = "required"
)

// MinSecretLen is the shortest admin key or HS256 secret accepted, in bytes.
const MinSecretLen = 32

// Auth configures authentication ([auth]). Package auth turns it into an
// authenticator.
type Auth struct {
	// Mode is "off", "optional" or "required". Empty (the default) means
	// optional when a credential source is configured, off otherwise; see
	// [Auth.EffectiveMode].
	Mode string `toml:"mode"`
	// AdminKey is a bootstrap secret: a request presenting it is an admin
	// of the default tenant that may manage API keys of every tenant.
	// Typically "${CIRCUIT_BREAKER_ADMIN_KEY}". At least 32 bytes.
	AdminKey Secret `toml:"admin_key"`
	// JWT configures bearer-token verification.
	JWT JWT `toml:"jwt"`
}

// JWT configures the verification of JWT bearer tokens ([auth.jwt]).
type JWT struct {
	// HS256Secret is the shared secret of HS256 tokens (at least 32 bytes).
	// When empty, security.jwt_secret is used.
	HS256Secret Secret `toml:"hs256_secret"`
	// PublicKeys verify RS256 and ES256 tokens ([[auth.jwt.public_keys]]).
	PublicKeys []PublicKey `toml:"public_keys"`
	// Issuer, when set, must equal the tokens' "iss" claim.
	Issuer string `toml:"issuer"`
	// Audience, when set, must be among the tokens' "aud" claim.
	Audience string `toml:"audience"`
	// TenantClaim names the claim holding the tenant (default "tenant";
	// "tid" is tried when it is absent).
	TenantClaim string `toml:"tenant_claim"`
	// RolesClaim names the claim listing the subject's roles (default
	// "roles"); the role AdminRole (default "admin") makes it an admin of
	// its tenant.
	RolesClaim string `toml:"roles_claim"`
	AdminRole  string `toml:"admin_role"`
	// Leeway is the clock skew tolerated on exp and nbf (default 30s).
	Leeway Duration `toml:"leeway"`
}

// PublicKey is one PEM public key (RSA, or ECDSA P-256), given inline or
// as a file. A file may hold several keys.
type PublicKey struct {
	// KID, when set, is matched against the tokens' "kid" header.
	KID  string `toml:"kid"`
	File string `toml:"file"`
	PEM  string `toml:"pem"`
}

// DefaultAuth returns the defaults of [auth]: mode chosen from the
// credentials configured, tenant from the "tenant" claim, admins by the
// "admin" role in "roles", 30 seconds of leeway.
func DefaultAuth() Auth {
	return Auth{JWT: JWT{TenantClaim: "tenant", RolesClaim: "roles", AdminRole: "admin", Leeway: Duration(30 * time.Second)}}
}

// HS256Secret returns the HS256 secret in effect: auth.jwt.hs256_secret,
// else security.jwt_secret.
func (c Config) HS256Secret() Secret {
	if c.Auth.JWT.HS256Secret != "" {
		return c.Auth.JWT.HS256Secret
	}
	return c.Security.JWTSecret
}

// hasCredentialSource reports whether any credential can be verified.
func (c Config) hasCredentialSource() bool {
	return c.Auth.AdminKey != "" || c.HS256Secret() != "" || len(c.Auth.JWT.PublicKeys) > 0
}

// EffectiveMode returns auth.mode, or, when it is empty, "optional" if an
// admin key or a JWT key is configured and "off" otherwise.
func (c Config) EffectiveMode() string {
	if c.Auth.Mode != "" {
		return c.Auth.Mode
	}
	if c.hasCredentialSource() {
		return AuthOptional
	}
	return AuthOff
}

// AuthConfigured reports whether every request must authenticate (the
// effective mode is "required", which validation allows only with a
// credential source). serve refuses a non-loopback bind unless it is true
// or server.allow_insecure_public_bind is set: in "optional" mode anyone
// may still act anonymously on the default tenant.
func (c Config) AuthConfigured() bool {
	return c.EffectiveMode() == AuthRequired && c.hasCredentialSource()
}

func validateAuth(c *Config, ch *checker) {
	a := c.Auth
	if a.Mode != "" {
		ch.oneOf("auth.mode", a.Mode, AuthOff, AuthOptional, AuthRequired)
	}
	if a.Mode == AuthRequired && !c.hasCredentialSource() {
		ch.fail("auth.mode", "is %q but no credential source is configured: set auth.admin_key, auth.jwt.hs256_secret (or security.jwt_secret) or auth.jwt.public_keys", AuthRequired)
	}
	ch.secretLen("auth.admin_key", a.AdminKey)
	ch.secretLen("auth.jwt.hs256_secret", a.JWT.HS256Secret)
	if a.JWT.HS256Secret == "" {
		ch.secretLen("security.jwt_secret", c.Security.JWTSecret)
	}
	for i, k := range a.JWT.PublicKeys {
		key := keyString([]string{"auth", "jwt", "public_keys", elem(i)})
		switch {
		case k.File == "" && strings.TrimSpace(k.PEM) == "":
			ch.fail(key, "needs file or pem")
		case k.File != "" && k.PEM != "":
			ch.fail(key, "has both file and pem; give one")
		}
	}
	ch.nonEmpty("auth.jwt.tenant_claim", a.JWT.TenantClaim)
	ch.nonEmpty("auth.jwt.roles_claim", a.JWT.RolesClaim)
	ch.nonEmpty("auth.jwt.admin_role", a.JWT.AdminRole)
	if d := time.Duration(a.JWT.Leeway); d < 0 || d > 5*time.Minute {
		ch.fail("auth.jwt.leeway", "must be between 0s and 5m, got %s", d)
	}
}

// secretLen checks that a secret, if set, is at least MinSecretLen bytes.
func (ch *checker) secretLen(key string, s Secret) {
	if s != "" && len(s) < MinSecretLen {
		ch.fail(key, "must be at least %d bytes, got %d (generate one with: openssl rand -base64 32)", MinSecretLen, len(s))
	}
}
