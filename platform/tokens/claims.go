package tokens

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenType is the typ header of access tokens (RFC 9068 section 2.1).
const TokenType = "at+jwt"

// Claims are the claims of an Andes access token (RFC 9068 section 2.2, plus
// client_id, partner_id and RFC 8176 amr). auth signs this struct and verifiers
// read it, so both agree on the wire form.
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  Audience `json:"aud"`
	ExpiresAt Time     `json:"exp"`
	IssuedAt  Time     `json:"iat"`
	NotBefore *Time    `json:"nbf,omitempty"`
	ID        string   `json:"jti"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope,omitempty"`
	AuthTime  *Time    `json:"auth_time,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	PartnerID string   `json:"partner_id,omitempty"`
}

var _ jwt.Claims = (*Claims)(nil)

// GetExpirationTime implements jwt.Claims.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.numeric(), nil }

// GetIssuedAt implements jwt.Claims.
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) { return c.IssuedAt.numeric(), nil }

// GetNotBefore implements jwt.Claims.
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) {
	if c.NotBefore == nil {
		return nil, nil
	}
	return c.NotBefore.numeric(), nil
}

// GetIssuer implements jwt.Claims.
func (c *Claims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *Claims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *Claims) GetAudience() (jwt.ClaimStrings, error) { return jwt.ClaimStrings(c.Audience), nil }

// Principal turns verified claims into the principal handlers see.
func (c *Claims) Principal() *Principal {
	p := &Principal{
		Subject: c.Subject, ClientID: c.ClientID, PartnerID: c.PartnerID, TokenID: c.ID,
		IssuedAt: c.IssuedAt.Time, ExpiresAt: c.ExpiresAt.Time, AMR: c.AMR,
	}
	if c.Scope != "" {
		p.Scopes = strings.Fields(c.Scope)
	}
	if c.AuthTime != nil {
		p.AuthTime = c.AuthTime.Time
	}
	return p
}

// Time is a JWT NumericDate kept to the millisecond. RFC 7519 allows fractional
// seconds; iat needs them so that a subject revoked at 10.300 s does not also
// refuse the token it gets at 10.500 s (golang-jwt's NumericDate truncates to
// its global precision, whole seconds by default).
type Time struct{ time.Time }

// At returns t as a Time, truncated to the millisecond.
func At(t time.Time) Time { return Time{t.Truncate(time.Millisecond)} }

func (t Time) numeric() *jwt.NumericDate {
	if t.IsZero() {
		return nil
	}
	return &jwt.NumericDate{Time: t.Time}
}

// MarshalJSON writes seconds, with a fraction only when there is one.
func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', 3, 64), nil
}

// UnmarshalJSON reads seconds, fractional or not.
func (t *Time) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return errors.New("tokens: bad NumericDate")
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond))
	return nil
}

// Audience is the aud claim: one string on the wire when it has one value (RFC
// 7519 allows both forms; RFC 9068 tokens here have one audience).
type Audience []string

// MarshalJSON writes a single audience as a string.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON reads a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}
