// Package facade is the controller's client of andes.facade.v1: accounts, money
// movements by operation id, their outcomes, and statements, translated to the
// controller's domain.
package facade

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

// Client calls the facade over conn.
type Client struct {
	api facadev1.FacadeServiceClient
}

var _ app.Core = (*Client)(nil)

// New returns a client on conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{api: facadev1.NewFacadeServiceClient(conn)}
}

// RetryMethods are the facade calls safe to send again: reads, and writes, which
// carry the operation id as their key.
var RetryMethods = []string{
	"andes.facade.v1.FacadeService/GetAccount",
	"andes.facade.v1.FacadeService/ListMovements",
	"andes.facade.v1.FacadeService/GetTransaction",
	"andes.facade.v1.FacadeService/Transfer",
	"andes.facade.v1.FacadeService/CashIn",
	"andes.facade.v1.FacadeService/CashOut",
}

// refusals are the facade's reasons that mean "refused, nothing moved".
var refusals = map[errorsv1.Reason]error{
	errorsv1.Reason_REASON_INSUFFICIENT_FUNDS: domain.ErrInsufficientFunds,
	errorsv1.Reason_REASON_ACCOUNT_BLOCKED:    domain.ErrAccountBlocked,
	errorsv1.Reason_REASON_ACCOUNT_CLOSED:     domain.ErrAccountClosed,
	errorsv1.Reason_REASON_CURRENCY_MISMATCH:  domain.ErrCurrencyMismatch,
	errorsv1.Reason_REASON_SAME_ACCOUNT:       domain.ErrSameAccount,
	errorsv1.Reason_REASON_NOT_FOUND:          domain.ErrNotFound,
	errorsv1.Reason_REASON_VALIDATION_FAILED:  &domain.InvalidError{Field: "request", Description: "the core banking system refused the request"},
}

// translateRead maps a read's error: a missing object, an unavailable core, or
// the facade's failure.
func translateRead(err error) error {
	r := rpcstatus.Read(err)
	if e, ok := refusals[rpcstatus.Parse(r.Reason)]; ok {
		return e
	}
	switch {
	case r.Code == codes.NotFound:
		return domain.ErrNotFound
	case r.Is(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE), r.Code == codes.Unavailable, r.Code == codes.DeadlineExceeded:
		return domain.ErrUnavailable
	}
	return fmt.Errorf("facade: %v", err)
}

// translateWrite maps a write's error. Only answers that say nothing happened
// are refusals or unavailability; anything else — a deadline, a cut connection —
// may have moved money, and is returned as it is (an unknown outcome).
func translateWrite(err error) error {
	r := rpcstatus.Read(err)
	if e, ok := refusals[rpcstatus.Parse(r.Reason)]; ok {
		return e
	}
	if r.Is(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE) {
		return domain.ErrUnavailable
	}
	return fmt.Errorf("facade: outcome unknown: %v", err)
}

func money(m domain.Money) *moneyv1.Money {
	return &moneyv1.Money{AmountMinor: m.Minor, Currency: m.Currency}
}

func fromMoney(m *moneyv1.Money) domain.Money {
	return domain.Money{Minor: m.GetAmountMinor(), Currency: m.GetCurrency()}
}

var statuses = map[facadev1.AccountStatus]string{
	facadev1.AccountStatus_ACCOUNT_STATUS_ACTIVE:  domain.AccountActive,
	facadev1.AccountStatus_ACCOUNT_STATUS_BLOCKED: domain.AccountBlocked,
	facadev1.AccountStatus_ACCOUNT_STATUS_CLOSED:  domain.AccountClosed,
}

// Account implements app.Core.
func (c *Client) Account(ctx context.Context, number string) (app.CoreAccount, error) {
	resp, err := c.api.GetAccount(ctx, &facadev1.GetAccountRequest{AccountNumber: number})
	if err != nil {
		return app.CoreAccount{}, translateRead(err)
	}
	a := resp.GetAccount()
	return app.CoreAccount{Number: a.GetAccountNumber(), Currency: a.GetCurrency(), Status: statuses[a.GetStatus()],
		Available: a.GetAvailableBalance().GetAmountMinor(), HolderName: resp.GetHolderName()}, nil
}

func outcome(t *facadev1.Transaction) app.Outcome {
	o := app.Outcome{CoreTransactionID: t.GetCoreTransactionId()}
	if t.GetPostedAt() != nil {
		o.PostedAt = t.GetPostedAt().AsTime()
	}
	switch t.GetStatus() {
	case facadev1.TransactionStatus_TRANSACTION_STATUS_COMPLETED:
		o.Status = app.OutcomeCompleted
	case facadev1.TransactionStatus_TRANSACTION_STATUS_REJECTED:
		o.Status = app.OutcomeRejected
		o.Refusal = rejection(t.GetRejectionReason())
	case facadev1.TransactionStatus_TRANSACTION_STATUS_NOT_RECEIVED:
		o.Status = app.OutcomeNotReceived
	default:
		o.Status = app.OutcomePending
	}
	return o
}

// rejection turns the core's reason for a refused write into the domain's.
func rejection(r errorsv1.Reason) error {
	if e, ok := refusals[r]; ok {
		return e
	}
	return refusals[errorsv1.Reason_REASON_VALIDATION_FAILED]
}

// Transfer implements app.Core.
func (c *Client) Transfer(ctx context.Context, op *domain.Operation) (app.Outcome, error) {
	resp, err := c.api.Transfer(ctx, &facadev1.TransferRequest{OperationId: op.ID, SourceAccountNumber: op.SourceAccountNumber,
		DestinationAccountNumber: op.DestinationAccountNumber, Amount: money(op.Amount), Description: op.Description})
	if err != nil {
		return app.Outcome{}, translateWrite(err)
	}
	return outcome(resp.GetTransaction()), nil
}

// CashIn implements app.Core.
func (c *Client) CashIn(ctx context.Context, op *domain.Operation) (app.Outcome, error) {
	resp, err := c.api.CashIn(ctx, &facadev1.CashInRequest{OperationId: op.ID, AccountNumber: op.AccountNumber,
		AgentAccountNumber: op.AgentAccountNumber, Amount: money(op.Amount), AgentReference: op.AgentReference})
	if err != nil {
		return app.Outcome{}, translateWrite(err)
	}
	return outcome(resp.GetTransaction()), nil
}

// CashOut implements app.Core.
func (c *Client) CashOut(ctx context.Context, op *domain.Operation) (app.Outcome, error) {
	resp, err := c.api.CashOut(ctx, &facadev1.CashOutRequest{OperationId: op.ID, AccountNumber: op.AccountNumber,
		AgentAccountNumber: op.AgentAccountNumber, Amount: money(op.Amount), AgentReference: op.AgentReference})
	if err != nil {
		return app.Outcome{}, translateWrite(err)
	}
	return outcome(resp.GetTransaction()), nil
}

// Transaction implements app.Core.
func (c *Client) Transaction(ctx context.Context, operationID string) (app.Outcome, error) {
	resp, err := c.api.GetTransaction(ctx, &facadev1.GetTransactionRequest{OperationId: operationID})
	if err != nil {
		return app.Outcome{}, translateRead(err)
	}
	return outcome(resp.GetTransaction()), nil
}

// statementCap bounds the movements read for one statement: a retail account's
// year stays far below it.
const statementCap = 20_000

// Statement implements app.Core. The facade pages newest first; a statement reads
// oldest first, so the range is read whole and turned round.
func (c *Client) Statement(ctx context.Context, number, from, to string) (app.Statement, error) {
	var st app.Statement
	token := ""
	for first := true; first || token != ""; first = false {
		resp, err := c.api.ListMovements(ctx, &facadev1.ListMovementsRequest{AccountNumber: number, FromDate: from, ToDate: to,
			PageSize: 200, PageToken: token})
		if err != nil {
			return app.Statement{}, translateRead(err)
		}
		if first {
			st.Opening, st.Closing = fromMoney(resp.GetOpeningBalance()), fromMoney(resp.GetClosingBalance())
		}
		for _, m := range resp.GetMovements() {
			mv := app.Movement{ID: m.GetPostingId(), ValueDate: m.GetValueDate(), Amount: fromMoney(m.GetAmount()),
				BalanceAfter: fromMoney(m.GetBalanceAfter()), Description: m.GetDescription(), Kind: int32(m.GetKind()),
				CounterpartyAccountNumber: m.GetCounterpartyAccountNumber(), CounterpartyName: m.GetCounterpartyName(),
				OperationID: m.GetOperationId()}
			if m.GetBookedAt() != nil {
				mv.BookedAt = m.GetBookedAt().AsTime()
			}
			st.Movements = append(st.Movements, mv)
		}
		if len(st.Movements) > statementCap {
			return app.Statement{}, &domain.InvalidError{Field: "from_date", Description: "too many movements in the range: ask for a shorter one"}
		}
		token = resp.GetNextPageToken()
	}
	slices.Reverse(st.Movements)
	return st, nil
}
