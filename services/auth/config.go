// Package auth is the Andes OAuth2 authorization server (DESIGN.md section 7): the
// OAuth2 edge with its login page, the token store in Redis, the signing keys, the
// revocation feed, and the internal gRPC API. This file and service.go are its
// composition root.
package auth

import (
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/tokens"
)

// DevPepper is the development pepper used when ANDES_AUTH_PEPPER(_FILE) is unset:
// fine for `make up` and tests, never for real customers (the process warns).
const DevPepper = "andes-dev-pepper-not-for-production-use-0001"

// Config is auth's configuration, from its environment.
type Config struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`
	// Issuer overrides the issuer URL, http://<edge address> by default; needed
	// when the edge listens on 0.0.0.0 or behind TLS termination.
	Issuer      string        `env:"ANDES_AUTH_ISSUER"`
	DatabaseURL config.Secret `env:"DATABASE_URL,required"`
	RedisURL    config.Secret `env:"REDIS_URL,required"`
	NATSURL     config.Secret `env:"NATS_URL,required"`
	// Pepper keys the client-secret hashes and the keys derived from it (signing
	// key sealing, CSRF); at least 32 bytes, normally ANDES_AUTH_PEPPER_FILE.
	Pepper config.Secret `env:"ANDES_AUTH_PEPPER"`
	// DemoFile is deploy/demo/demo.yaml: its clients and personas are seeded.
	DemoFile string `env:"ANDES_DEMO_FILE"`
	// WebEdgeAddr is the web BFF's edge, for its redirect URI.
	WebEdgeAddr string `env:"ANDES_BFF_WEB_EDGE_ADDR" default:"127.0.0.1:8080"`
	// WebRedirectURI overrides http://<web edge>/auth/callback.
	WebRedirectURI string `env:"ANDES_AUTH_WEB_REDIRECT_URI"`
	// CustomerAddr is the customer service, which answers where a customer's
	// one-time codes go.
	CustomerAddr string `env:"ANDES_CUSTOMER_ADDR,required,addr"`
	// SMSEdgeAddr is the SMS gateway (simulator) for one-time codes.
	SMSEdgeAddr string `env:"ANDES_SMS_EDGE_ADDR"`

	AccessTokenTTL  time.Duration `env:"ANDES_AUTH_ACCESS_TOKEN_TTL" default:"10m"`
	RefreshTokenTTL time.Duration `env:"ANDES_AUTH_REFRESH_TOKEN_TTL" default:"720h"`
	CodeTTL         time.Duration `env:"ANDES_AUTH_CODE_TTL" default:"1m"`
	KeyRotation     time.Duration `env:"ANDES_AUTH_KEY_ROTATION" default:"24h"`
	// LoginMaxFailures is how many failed logins lock a user.
	LoginMaxFailures int `env:"ANDES_AUTH_LOGIN_MAX_FAILURES" default:"5"`

	// RevocationStream and RevocationSubject name the revocation feed
	// (platform/tokens); tests prefix them.
	RevocationStream  string `env:"ANDES_AUTH_REVOCATION_STREAM" default:"AUTH_REVOCATIONS"`
	RevocationSubject string `env:"ANDES_AUTH_REVOCATION_SUBJECT" default:"auth.revocations"`
}

// Validate checks what tags cannot.
func (c *Config) Validate() error {
	switch {
	case c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > time.Hour:
		return &config.VarError{Var: "ANDES_AUTH_ACCESS_TOKEN_TTL", Msg: "must be from 1m to 1h: access tokens are short-lived"}
	case c.RefreshTokenTTL < c.AccessTokenTTL:
		return &config.VarError{Var: "ANDES_AUTH_REFRESH_TOKEN_TTL", Msg: "must not be shorter than the access token's"}
	case c.CodeTTL < 10*time.Second || c.CodeTTL > 10*time.Minute:
		return &config.VarError{Var: "ANDES_AUTH_CODE_TTL", Msg: "must be from 10s to 10m"}
	case c.KeyRotation < time.Hour:
		return &config.VarError{Var: "ANDES_AUTH_KEY_ROTATION", Msg: "must be at least 1h"}
	case c.LoginMaxFailures < 3 || c.LoginMaxFailures > 20:
		return &config.VarError{Var: "ANDES_AUTH_LOGIN_MAX_FAILURES", Msg: "must be from 3 to 20"}
	case c.Pepper != "" && len(c.Pepper.Reveal()) < 32:
		return &config.VarError{Var: "ANDES_AUTH_PEPPER", Msg: "must be at least 32 bytes"}
	}
	if _, err := c.IssuerURL(); err != nil {
		return &config.VarError{Var: "ANDES_AUTH_ISSUER", Msg: err.Error()}
	}
	return nil
}

// IssuerURL is the issuer: ANDES_AUTH_ISSUER, or the edge's address over http.
func (c *Config) IssuerURL() (string, error) {
	if c.Issuer != "" {
		u, err := url.Parse(c.Issuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.Path != "" {
			return "", fmt.Errorf("%q is not an issuer URL (scheme and host, no path)", c.Issuer)
		}
		return c.Issuer, nil
	}
	host, _, err := net.SplitHostPort(c.EdgeAddr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return "", fmt.Errorf("ANDES_EDGE_ADDR %s is not an address clients reach: set ANDES_AUTH_ISSUER", c.EdgeAddr)
	}
	return "http://" + c.EdgeAddr, nil
}

// WebRedirect is the web BFF's registered redirect URI.
func (c *Config) WebRedirect() string {
	if c.WebRedirectURI != "" {
		return c.WebRedirectURI
	}
	return "http://" + c.WebEdgeAddr + "/auth/callback"
}

// Feed is the revocation feed.
func (c *Config) Feed() tokens.Feed {
	return tokens.Feed{Stream: c.RevocationStream, Subject: c.RevocationSubject}
}
