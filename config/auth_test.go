package config

import "testing"

const (
	jwtSecret = "a JWT secret of at least 32 bytes!"
	adminKey  = "an admin key of at least 32 bytes"
)

func TestAuthModes(t *testing.T) {
	tests := map[string]struct {
		env        map[string]string
		mode       string
		configured bool
		wantErr    bool
	}{
		"default":                  {mode: AuthOff},
		"admin key: optional":      {env: map[string]string{"CIRCUIT_BREAKER_ADMIN_KEY": adminKey}, mode: AuthOptional},
		"jwt secret: optional":     {env: map[string]string{"JWT_SECRET": jwtSecret}, mode: AuthOptional},
		"required with admin key":  {env: map[string]string{"CIRCUIT_BREAKER_AUTH_MODE": "required", "CIRCUIT_BREAKER_ADMIN_KEY": adminKey}, mode: AuthRequired, configured: true},
		"required with jwt secret": {env: map[string]string{"CIRCUIT_BREAKER_AUTH_MODE": "required", "JWT_SECRET": jwtSecret}, mode: AuthRequired, configured: true},
		"off despite admin key":    {env: map[string]string{"CIRCUIT_BREAKER_AUTH_MODE": "off", "CIRCUIT_BREAKER_ADMIN_KEY": adminKey}, mode: AuthOff},
		"required without source":  {env: map[string]string{"CIRCUIT_BREAKER_AUTH_MODE": "required"}, wantErr: true},
		"short admin key":          {env: map[string]string{"CIRCUIT_BREAKER_ADMIN_KEY": "short"}, wantErr: true},
		"unknown mode":             {env: map[string]string{"CIRCUIT_BREAKER_AUTH_MODE": "strict"}, wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := Load("", mapEnv(tt.env))
			if tt.wantErr {
				if err == nil {
					t.Fatal("Load succeeded, want an error")
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.EffectiveMode(); got != tt.mode {
				t.Errorf("EffectiveMode() = %q, want %q", got, tt.mode)
			}
			if got := c.AuthConfigured(); got != tt.configured {
				t.Errorf("AuthConfigured() = %v, want %v", got, tt.configured)
			}
		})
	}
}

func TestAuthSecretsDoNotPrint(t *testing.T) {
	c := Default()
	c.Auth.AdminKey = adminKey
	if s := c.Auth.AdminKey.String(); s != "[redacted]" {
		t.Errorf("admin key printed as %q", s)
	}
}
