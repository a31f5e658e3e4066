package ports

import (
	"errors"

	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	partnerv1 "github.com/andes-bank/andes/gen/andes/partner/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// errForeignRow is a service answering with an object that is not the caller's: a
// bug behind us, answered INTERNAL rather than shown.
var errForeignRow = errors.New("a service answered with another tenant's object")

// The partner contract's enums mirror the internal ones value for value (their
// numbers are the same by design); converting by number keeps the mapping in one
// line each, and the tests check the names agree.

func customerOut(c *customerv1.Customer) *partnerv1.Customer {
	// core_customer_number, partner_id and preferences are internal.
	return &partnerv1.Customer{CustomerId: c.GetCustomerId(), Document: c.GetDocument(), GivenNames: c.GetGivenNames(),
		FamilyNames: c.GetFamilyNames(), BirthDate: c.GetBirthDate(), Email: c.GetEmail(), PhoneNumber: c.GetPhoneNumber(),
		Status: partnerv1.CustomerStatus(c.GetStatus()), CreatedAt: c.GetCreatedAt()}
}

// accountOut maps an account, with its balances when b is set (v says when they
// were read and whether they are stale).
func accountOut(a *customerv1.Account, b *customerv1.Balance, v *customerv1.GetCustomerViewResponse) *partnerv1.Account {
	out := &partnerv1.Account{AccountId: a.GetAccountId(), CustomerId: a.GetCustomerId(), AccountNumber: a.GetAccountNumber(),
		Type: partnerv1.AccountType(a.GetType()), Currency: a.GetCurrency(), Status: partnerv1.AccountStatus(a.GetStatus()),
		OpenedAt: a.GetOpenedAt()}
	if b != nil {
		out.LedgerBalance, out.AvailableBalance = b.GetLedger(), b.GetAvailable()
		out.BalancesAsOf, out.BalancesStale = v.GetAsOf(), v.GetStale()
	}
	return out
}

func movementOut(m *customerv1.Movement) *partnerv1.Movement {
	return &partnerv1.Movement{MovementId: m.GetMovementId(), BookedAt: m.GetBookedAt(), ValueDate: m.GetValueDate(),
		Amount: m.GetAmount(), BalanceAfter: m.GetBalanceAfter(), Description: m.GetDescription(),
		Kind: partnerv1.MovementKind(m.GetKind()), CounterpartyName: m.GetCounterpartyName(), OperationId: m.GetOperationId()}
}

func transferOut(op *controllerv1.Operation) *partnerv1.Transfer {
	t := op.GetTransfer()
	return &partnerv1.Transfer{TransferId: op.GetOperationId(), CustomerId: op.GetCustomerId(),
		SourceAccountId: t.GetSourceAccountId(), DestinationAccountNumber: t.GetDestinationAccountNumber(),
		BeneficiaryName: t.GetMaskedBeneficiaryName(), Amount: op.GetAmount(), Description: op.GetDescription(),
		Status: partnerv1.OperationStatus(op.GetStatus()), FailureReason: rpcstatus.Wire(op.GetFailureReason()),
		CreatedAt: op.GetCreatedAt(), ResolvedAt: op.GetResolvedAt()}
}

func cashOut(op *controllerv1.Operation) *partnerv1.CashOperation {
	dir := partnerv1.CashDirection_CASH_DIRECTION_IN
	if op.GetType() == controllerv1.OperationType_OPERATION_TYPE_CASH_OUT {
		dir = partnerv1.CashDirection_CASH_DIRECTION_OUT
	}
	c := op.GetCash()
	return &partnerv1.CashOperation{OperationId: op.GetOperationId(), Direction: dir, AccountNumber: c.GetAccountNumber(),
		Amount: op.GetAmount(), AgentReference: c.GetAgentReference(), Status: partnerv1.OperationStatus(op.GetStatus()),
		FailureReason: rpcstatus.Wire(op.GetFailureReason()), CreatedAt: op.GetCreatedAt(), ResolvedAt: op.GetResolvedAt()}
}
