package domain

import (
	"errors"
	"slices"
	"strings"
)

// Scope is one OAuth2 scope as it appears in a token's scope claim. The list is
// fixed by andes.auth.v1.Scope (its claim_value options); a test keeps the two equal.
type Scope string

// The scopes of andes.auth.v1.Scope.
const (
	ScopeAccountsRead   Scope = "accounts:read"
	ScopeAccountsWrite  Scope = "accounts:write"
	ScopeTransfersWrite Scope = "transfers:write"
	ScopeCustomersRead  Scope = "customers:read"
	ScopeCustomersWrite Scope = "customers:write"
	ScopeCash           Scope = "cash"
	ScopeCardsRead      Scope = "cards:read"
	ScopeCardsWrite     Scope = "cards:write"
	ScopeOfflineAccess  Scope = "offline_access"
)

// AllScopes is every scope the platform knows, in the proto's order.
var AllScopes = []Scope{
	ScopeAccountsRead, ScopeAccountsWrite, ScopeTransfersWrite, ScopeCustomersRead,
	ScopeCustomersWrite, ScopeCash, ScopeCardsRead, ScopeCardsWrite, ScopeOfflineAccess,
}

// Audience is the platform's one audience (andes.auth.v1.AUDIENCE_PLATFORM): every
// Andes API accepts tokens for it and only for it.
const Audience = "https://api.andes.bank"

// ErrInvalidScope is a scope string that names an unknown scope, repeats one or is
// malformed; also a request for a scope the client may not have.
var ErrInvalidScope = errors.New("invalid scope")

// Scopes is a set of scopes kept sorted, so that its string form is canonical.
type Scopes []Scope

// ParseScopes reads a space-separated scope parameter (RFC 6749 section 3.3). Empty
// gives an empty set.
func ParseScopes(s string) (Scopes, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, " ")
	out := make(Scopes, 0, len(parts))
	for _, p := range parts {
		sc := Scope(p)
		if p == "" || !slices.Contains(AllScopes, sc) || slices.Contains(out, sc) {
			return nil, ErrInvalidScope
		}
		out = append(out, sc)
	}
	slices.Sort(out)
	return out, nil
}

// MustScopes builds a set from known scopes; for constants and tests.
func MustScopes(list ...Scope) Scopes {
	out := slices.Clone(Scopes(list))
	slices.Sort(out)
	return slices.Compact(out)
}

// String is the space-separated form carried in tokens and responses.
func (s Scopes) String() string {
	parts := make([]string, len(s))
	for i, sc := range s {
		parts[i] = string(sc)
	}
	return strings.Join(parts, " ")
}

// Has reports whether the set holds sc.
func (s Scopes) Has(sc Scope) bool { return slices.Contains(s, sc) }

// Subset reports whether every scope of s is in of.
func (s Scopes) Subset(of Scopes) bool {
	for _, sc := range s {
		if !of.Has(sc) {
			return false
		}
	}
	return true
}

// Without returns s less sc.
func (s Scopes) Without(sc Scope) Scopes {
	return slices.DeleteFunc(slices.Clone(s), func(x Scope) bool { return x == sc })
}
