package auth

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/circuit-breaker/circuit-breaker/config"
)

// FromConfig builds the authenticator the configuration describes: its
// effective mode (config.Config.EffectiveMode), the bootstrap admin key,
// the JWT verifier (when an HS256 secret or public key is configured; key
// files are read now) and keys, which may be nil to disable API keys.
func FromConfig(c config.Config, keys *Keys, log *slog.Logger) (*Authenticator, error) {
	jc := c.Auth.JWT
	o := JWTOptions{
		HS256Secret: []byte(c.HS256Secret()),
		Issuer:      jc.Issuer, Audience: jc.Audience,
		TenantClaim: jc.TenantClaim, RolesClaim: jc.RolesClaim, AdminRole: jc.AdminRole,
		Leeway: time.Duration(jc.Leeway),
	}
	for i, pk := range jc.PublicKeys {
		data := []byte(pk.PEM)
		where := fmt.Sprintf("auth.jwt.public_keys[%d]", i)
		if pk.File != "" {
			var err error
			if data, err = os.ReadFile(pk.File); err != nil {
				return nil, fmt.Errorf("auth: %s: %w", where, err)
			}
			where += " (" + pk.File + ")"
		}
		ks, err := ParsePublicKeys(pk.KID, data)
		if err != nil {
			return nil, fmt.Errorf("auth: %s: %w", where, err)
		}
		o.PublicKeys = append(o.PublicKeys, ks...)
	}
	var jv *JWTVerifier
	if len(o.HS256Secret) > 0 || len(o.PublicKeys) > 0 {
		var err error
		if jv, err = NewJWTVerifier(o); err != nil {
			return nil, err
		}
	}
	return New(Options{Mode: Mode(c.EffectiveMode()), AdminKey: string(c.Auth.AdminKey), Keys: keys, JWT: jv, Logger: log})
}
