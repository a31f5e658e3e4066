// Package domain holds the web session's rules: how long it lives, when its access
// token must be refreshed, and the CSRF check. No I/O, no generated types.
package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"time"
)

// Errors the ports map once.
var (
	// ErrNoSession: no cookie, an unknown or ended session (idle, absolute, logged out).
	ErrNoSession = errors.New("no live session")
	// ErrCSRF: a state-changing call without the session's CSRF token.
	ErrCSRF = errors.New("missing or wrong CSRF token")
	// ErrLoginState: a callback whose state is unknown, used or not this browser's.
	ErrLoginState = errors.New("unknown or expired login state")
	// ErrAuthUnavailable: auth could not be reached or refused for a reason of its own.
	ErrAuthUnavailable = errors.New("the authorization server is unavailable")
)

// Languages the page offers; the first is the default.
const (
	LangSpanish = "es-PE"
	LangEnglish = "en"
)

// NormalizeLanguage maps any BCP 47 tag to a language the page has.
func NormalizeLanguage(tag string) string {
	if len(tag) >= 2 && (tag[:2] == "en" || tag[:2] == "EN") {
		return LangEnglish
	}
	return LangSpanish
}

// Tokens are what auth issued for the session; they never leave the server.
type Tokens struct {
	Access        string    `json:"a"`
	Refresh       string    `json:"r"`
	AccessExpires time.Time `json:"ae"`
}

// Session is a logged-in browser. Its id is a 256-bit random value known only to
// the browser's cookie; the store names and seals it with keys derived from the id
// (see RecordKey), so a leak of the store hands out neither live cookies nor tokens.
type Session struct {
	CustomerID  string    `json:"c"`
	GivenName   string    `json:"g"`
	DisplayName string    `json:"d"`
	Language    string    `json:"l"`
	CSRF        string    `json:"x"`
	Tokens      Tokens    `json:"t"`
	Created     time.Time `json:"ct"`
	LastSeen    time.Time `json:"ls"`
	Expires     time.Time `json:"ex"` // absolute end, whatever the activity
	// LastWrite is when the customer last moved money through this session: the
	// screens right after it read balances from the core, not a cache.
	LastWrite time.Time `json:"lw,omitzero"`
}

// FreshAfterWrite is how long after a write the balances are read fresh.
const FreshAfterWrite = time.Minute

// WantsFresh says whether balances shown at now must come from the core.
func (s *Session) WantsFresh(now time.Time) bool {
	return !s.LastWrite.IsZero() && now.Sub(s.LastWrite) < FreshAfterWrite
}

// Policy is how long sessions live.
type Policy struct {
	Idle     time.Duration // ends after this long without a request
	Absolute time.Duration // ends this long after login regardless
	// RefreshBefore: the access token is refreshed when it expires sooner than this.
	RefreshBefore time.Duration
}

// IdleExpires is when s ends if no request comes.
func (p Policy) IdleExpires(s *Session) time.Time {
	t := s.LastSeen.Add(p.Idle)
	if t.After(s.Expires) {
		return s.Expires
	}
	return t
}

// Live says whether s may still act at now.
func (p Policy) Live(s *Session, now time.Time) bool {
	return now.Before(p.IdleExpires(s))
}

// NeedsRefresh says whether the access token must be renewed before use.
func (p Policy) NeedsRefresh(s *Session, now time.Time) bool {
	return !now.Add(p.RefreshBefore).Before(s.Tokens.AccessExpires)
}

// CheckCSRF compares the header's token with the session's in constant time.
func (s *Session) CheckCSRF(given string) error {
	if given == "" || subtle.ConstantTimeCompare([]byte(given), []byte(s.CSRF)) != 1 {
		return ErrCSRF
	}
	return nil
}

// NewSecret is a 256-bit random value, URL-safe: session ids, CSRF tokens, OAuth2
// state and PKCE verifiers (43 characters, RFC 7636's minimum length).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// PKCEChallenge is the S256 challenge of a verifier (RFC 7636 section 4.2).
func PKCEChallenge(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// PendingLogin is an authorization request under way, kept until its callback.
type PendingLogin struct {
	Verifier string `json:"v"`
	Language string `json:"l"`
}
