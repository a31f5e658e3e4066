// Package facade is the customer service's client of andes.facade.v1: the core's
// snapshot and movements, translated to the customer domain.
package facade

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/services/customer/app"
	"github.com/andes-bank/andes/services/customer/domain"
)

// Client calls the facade over conn.
type Client struct {
	api facadev1.FacadeServiceClient
}

var _ app.CoreBanking = (*Client)(nil)

// New returns a client on conn (from p.Dial("facade", ...)).
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{api: facadev1.NewFacadeServiceClient(conn)}
}

// RetryMethods are the facade reads safe to send again (grpcclient.Options.Retry).
var RetryMethods = []string{
	"andes.facade.v1.FacadeService/GetCustomerSnapshot",
	"andes.facade.v1.FacadeService/ListMovements",
}

// translate keeps the facade's errors from passing through as the customer
// service's: unavailability stays retryable, a missing object is not found, the
// rest is the facade's failure.
func translate(err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return fmt.Errorf("%w: facade: %s", domain.ErrUnavailable, status.Code(err))
	case codes.NotFound:
		return domain.ErrNotFound
	case codes.InvalidArgument:
		return fmt.Errorf("%w: the facade refused the request", domain.ErrInvalid)
	}
	return fmt.Errorf("facade: %w", err)
}

// Snapshot implements app.CoreBanking.
func (c *Client) Snapshot(ctx context.Context, customerNumber string, requireFresh bool) (*domain.Snapshot, error) {
	resp, err := c.api.GetCustomerSnapshot(ctx, &facadev1.GetCustomerSnapshotRequest{CustomerNumber: customerNumber, RequireFresh: requireFresh})
	if err != nil {
		return nil, translate(err)
	}
	s := resp.GetSnapshot()
	out := &domain.Snapshot{AsOf: s.GetAsOf().AsTime(), Stale: s.GetStale()}
	if s.GetFreshUntil() != nil {
		out.FreshUntil = s.GetFreshUntil().AsTime()
	}
	for _, a := range s.GetAccounts() {
		out.Accounts = append(out.Accounts, domain.CoreAccount{
			AccountNumber: a.GetAccountNumber(),
			Status:        accountStatus[a.GetStatus()],
			Balance: domain.Balance{
				Ledger: money(a.GetLedgerBalance()), Available: money(a.GetAvailableBalance()), Overdraft: money(a.GetOverdraftLimit()),
			},
		})
	}
	for _, p := range s.GetProducts() {
		out.Products = append(out.Products, domain.Product{ID: p.GetProductId(), Type: productType[p.GetType()],
			Name: p.GetName(), Amount: money(p.GetAmount()), DueDate: p.GetDueDate()})
	}
	for _, m := range s.GetLatestMovements() {
		out.LatestMovements = append(out.LatestMovements, movement(m))
	}
	return out, nil
}

// Movements implements app.CoreBanking.
func (c *Client) Movements(ctx context.Context, accountNumber string, pageSize int, pageToken string) ([]domain.Movement, string, error) {
	resp, err := c.api.ListMovements(ctx, &facadev1.ListMovementsRequest{AccountNumber: accountNumber,
		PageSize: int32(pageSize), PageToken: pageToken})
	if err != nil {
		return nil, "", translate(err)
	}
	out := make([]domain.Movement, 0, len(resp.GetMovements()))
	for _, m := range resp.GetMovements() {
		out = append(out, movement(m))
	}
	return out, resp.GetNextPageToken(), nil
}

func money(m *moneyv1.Money) domain.Money {
	return domain.Money{Minor: m.GetAmountMinor(), Currency: m.GetCurrency()}
}

func movement(m *facadev1.Movement) domain.Movement {
	return domain.Movement{
		ID: m.GetPostingId(), AccountNumber: m.GetAccountNumber(), BookedAt: m.GetBookedAt().AsTime(),
		ValueDate: m.GetValueDate(), Amount: money(m.GetAmount()), BalanceAfter: money(m.GetBalanceAfter()),
		Description: m.GetDescription(), Kind: int32(m.GetKind()), CounterpartyName: m.GetCounterpartyName(),
		CounterpartyAccountNumber: m.GetCounterpartyAccountNumber(), OperationID: m.GetOperationId(),
	}
}

var accountStatus = map[facadev1.AccountStatus]string{
	facadev1.AccountStatus_ACCOUNT_STATUS_ACTIVE:  domain.AccountActive,
	facadev1.AccountStatus_ACCOUNT_STATUS_BLOCKED: domain.AccountBlocked,
	facadev1.AccountStatus_ACCOUNT_STATUS_CLOSED:  domain.AccountClosed,
}

var productType = map[facadev1.ProductType]string{
	facadev1.ProductType_PRODUCT_TYPE_TERM_DEPOSIT: domain.ProductTermDeposit,
	facadev1.ProductType_PRODUCT_TYPE_LOAN:         domain.ProductLoan,
	facadev1.ProductType_PRODUCT_TYPE_CARD_PROGRAM: domain.ProductCard,
}
