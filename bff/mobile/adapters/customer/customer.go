// Package customer is bff-mobile's client of the customer service
// (andes.customer.v1): the profile, the consolidated view and movements, read with
// the end user's token that the context carries.
package customer

import (
	"context"

	"google.golang.org/grpc"

	"github.com/andes-bank/andes/bff/mobile/adapters/rpcerror"
	"github.com/andes-bank/andes/bff/mobile/app"
	"github.com/andes-bank/andes/bff/mobile/domain"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
)

// RetryMethods are safe to send again when the customer service was unavailable:
// every method this client calls only reads.
var RetryMethods = []string{
	"andes.customer.v1.CustomerService/GetCustomer",
	"andes.customer.v1.CustomerService/GetCustomerView",
	"andes.customer.v1.CustomerService/ListMovements",
}

// Client implements app.Customers over gRPC.
type Client struct {
	api customerv1.CustomerServiceClient
}

var _ app.Customers = (*Client)(nil)

// New returns a client on conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{api: customerv1.NewCustomerServiceClient(conn)}
}

const service = "customer"

// Profile implements app.Customers.
func (c *Client) Profile(ctx context.Context, customerID string) (domain.Profile, error) {
	resp, err := c.api.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: customerID})
	if err != nil {
		return domain.Profile{}, rpcerror.Translate(service, err)
	}
	return profile(resp.GetCustomer()), nil
}

// View implements app.Customers.
func (c *Client) View(ctx context.Context, customerID string) (domain.View, error) {
	resp, err := c.api.GetCustomerView(ctx, &customerv1.GetCustomerViewRequest{CustomerId: customerID})
	if err != nil {
		return domain.View{}, rpcerror.Translate(service, err)
	}
	v := domain.View{
		Profile:   profile(resp.GetCustomer()),
		Accounts:  make([]domain.Account, 0, len(resp.GetAccounts())),
		Movements: make([]domain.Movement, 0, len(resp.GetLatestMovements())),
		AsOf:      resp.GetAsOf().AsTime(),
		Stale:     resp.GetStale(),
	}
	for _, a := range resp.GetAccounts() {
		v.Accounts = append(v.Accounts, account(a))
	}
	for _, m := range resp.GetLatestMovements() {
		v.Movements = append(v.Movements, movement(m))
	}
	return v, nil
}

// Movements implements app.Customers.
func (c *Client) Movements(ctx context.Context, accountID string, pageSize int, pageToken string) ([]domain.Movement, string, error) {
	resp, err := c.api.ListMovements(ctx, &customerv1.ListMovementsRequest{
		AccountId: accountID, PageSize: int32(pageSize), PageToken: pageToken})
	if err != nil {
		return nil, "", rpcerror.Translate(service, err)
	}
	out := make([]domain.Movement, 0, len(resp.GetMovements()))
	for _, m := range resp.GetMovements() {
		out = append(out, movement(m))
	}
	return out, resp.GetNextPageToken(), nil
}

func profile(c *customerv1.Customer) domain.Profile {
	return domain.Profile{GivenNames: c.GetGivenNames(), DefaultAccountID: c.GetPreferences().GetDefaultAccountId()}
}

func account(v *customerv1.AccountView) domain.Account {
	a := v.GetAccount()
	kind := domain.AccountKindUnknown
	switch a.GetType() {
	case customerv1.AccountType_ACCOUNT_TYPE_SAVINGS:
		kind = domain.AccountKindSavings
	case customerv1.AccountType_ACCOUNT_TYPE_CHECKING:
		kind = domain.AccountKindChecking
	}
	return domain.Account{
		ID:        a.GetAccountId(),
		Kind:      kind,
		Number:    a.GetAccountNumber(),
		Available: money(v.GetBalance().GetAvailable()),
		Ledger:    money(v.GetBalance().GetLedger()),
		Active:    a.GetStatus() == customerv1.AccountStatus_ACCOUNT_STATUS_ACTIVE,
	}
}

func movement(m *customerv1.Movement) domain.Movement {
	// The customer service masks other people's names and numbers already.
	counterparty := m.GetCounterpartyName()
	if counterparty == "" {
		counterparty = m.GetCounterpartyAccountNumber()
	}
	return domain.Movement{
		ID:           m.GetMovementId(),
		AccountID:    m.GetAccountId(),
		BookedAt:     m.GetBookedAt().AsTime(),
		Amount:       money(m.GetAmount()),
		Description:  m.GetDescription(),
		Counterparty: counterparty,
	}
}

func money(m *moneyv1.Money) domain.Money {
	return domain.Money{AmountMinor: m.GetAmountMinor(), Currency: m.GetCurrency()}
}
