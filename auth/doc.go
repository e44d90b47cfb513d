// Package auth decides who a request is: API keys (stored hashed, shown
// once), JWT bearer tokens (HS256, RS256, ES256 with issuer and audience
// checked; "none" refused) and the anonymous default tenant when
// authentication is off. Handlers read the result with FromContext.
package auth
