package domain

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
)

// PKCE (RFC 7636) is forced for every client and only with S256 (RFC 9700 section
// 2.1.1): "plain" would hand the verifier to whoever sees the authorization request.
const PKCEMethodS256 = "S256"

// Errors about PKCE.
var (
	ErrPKCERequired        = errors.New("PKCE is required: code_challenge is missing")
	ErrPKCEMethod          = errors.New("code_challenge_method must be S256")
	ErrPKCEMalformed       = errors.New("code_challenge or code_verifier is malformed")
	ErrPKCEMismatch        = errors.New("code_verifier does not match the code_challenge")
	ErrPKCENoChallenge     = errors.New("code_verifier sent for a code issued without a challenge")
	ErrPKCEVerifierMissing = errors.New("code_verifier is missing")
)

// CheckChallenge validates the authorization request's PKCE parameters.
func CheckChallenge(challenge, method string) error {
	switch {
	case challenge == "":
		return ErrPKCERequired
	case method != PKCEMethodS256:
		// An absent method means "plain" (RFC 7636 section 4.3), refused too.
		return ErrPKCEMethod
	case len(challenge) != 43 || !unreserved(challenge):
		// base64url of a SHA-256 without padding is always 43 characters.
		return ErrPKCEMalformed
	}
	return nil
}

// VerifyPKCE checks the token request's verifier against the challenge stored with
// the code. A verifier for a code that has no challenge is refused: it means the
// code was not issued by this server's own authorize endpoint, or a downgrade.
func VerifyPKCE(challenge, method, verifier string) error {
	switch {
	case challenge == "" && verifier != "":
		return ErrPKCENoChallenge
	case challenge == "":
		return ErrPKCERequired
	case method != PKCEMethodS256:
		return ErrPKCEMethod
	case verifier == "":
		return ErrPKCEVerifierMissing
	case len(verifier) < 43 || len(verifier) > 128 || !unreserved(verifier):
		return ErrPKCEMalformed
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return ErrPKCEMismatch
	}
	return nil
}

// S256Challenge computes the challenge of a verifier; for clients and tests.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// unreserved reports whether s holds only RFC 3986 unreserved characters, the
// alphabet of verifiers (RFC 7636 section 4.1).
func unreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}
