package tokens

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
)

// The scopes of andes.auth.v1.Scope as tokens carry them, read from the auth
// contract (each value's claim_value option), so that no process spells one
// differently from what auth issues.
var (
	ScopeAccountsRead   = ClaimValue(authv1.Scope_SCOPE_ACCOUNTS_READ)
	ScopeAccountsWrite  = ClaimValue(authv1.Scope_SCOPE_ACCOUNTS_WRITE)
	ScopeTransfersWrite = ClaimValue(authv1.Scope_SCOPE_TRANSFERS_WRITE)
	ScopeCustomersRead  = ClaimValue(authv1.Scope_SCOPE_CUSTOMERS_READ)
	ScopeCustomersWrite = ClaimValue(authv1.Scope_SCOPE_CUSTOMERS_WRITE)
	ScopeCash           = ClaimValue(authv1.Scope_SCOPE_CASH)
	ScopeCardsRead      = ClaimValue(authv1.Scope_SCOPE_CARDS_READ)
	ScopeCardsWrite     = ClaimValue(authv1.Scope_SCOPE_CARDS_WRITE)
	ScopeOfflineAccess  = ClaimValue(authv1.Scope_SCOPE_OFFLINE_ACCESS)
)

// ClaimValue is the string an enum value of the auth contract (a Scope or an
// Audience) takes in a token; "" for a value without one.
func ClaimValue(v protoreflect.Enum) string {
	ev := v.Descriptor().Values().ByNumber(v.Number())
	if ev == nil {
		return ""
	}
	s, _ := proto.GetExtension(ev.Options(), authv1.E_ClaimValue).(string)
	return s
}
