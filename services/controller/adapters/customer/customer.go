// Package customer is the controller's client of andes.customer.v1: customers,
// accounts and partners, translated to the controller's domain. Calls made for an
// end user forward the user's access token, so the customer service applies its
// own object-level checks as well.
package customer

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

// Client calls the customer service over conn.
type Client struct {
	api customerv1.CustomerServiceClient
}

var _ app.Customers = (*Client)(nil)

// New returns a client on conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{api: customerv1.NewCustomerServiceClient(conn)}
}

// RetryMethods are the customer reads safe to send again.
var RetryMethods = []string{"andes.customer.v1.CustomerService"}

// asUser forwards the end user's token the call came with; nil asks as the
// controller itself (no token).
func asUser(ctx context.Context, actor *domain.Actor) context.Context {
	if actor == nil {
		return ctx
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("authorization"); len(v) == 1 {
		return metadata.AppendToOutgoingContext(ctx, "authorization", v[0])
	}
	return ctx
}

func translate(err error) error {
	r := rpcstatus.Read(err)
	switch {
	case r.Code == codes.NotFound || r.Is(errorsv1.Reason_REASON_NOT_FOUND):
		return domain.ErrNotFound
	case r.Code == codes.Unavailable || r.Code == codes.DeadlineExceeded || r.Code == codes.ResourceExhausted:
		return domain.ErrUnavailable
	}
	return fmt.Errorf("customer service: %v", err)
}

var accountStatuses = map[customerv1.AccountStatus]string{
	customerv1.AccountStatus_ACCOUNT_STATUS_ACTIVE:  domain.AccountActive,
	customerv1.AccountStatus_ACCOUNT_STATUS_BLOCKED: domain.AccountBlocked,
	customerv1.AccountStatus_ACCOUNT_STATUS_CLOSED:  domain.AccountClosed,
}

func account(a *customerv1.Account) domain.Account {
	return domain.Account{ID: a.GetAccountId(), CustomerID: a.GetCustomerId(), Number: a.GetAccountNumber(),
		Currency: a.GetCurrency(), Status: accountStatuses[a.GetStatus()], Type: accountTypes[a.GetType()],
		OpenedAt: openedAt(a)}
}

func openedAt(a *customerv1.Account) time.Time {
	if a.GetOpenedAt() == nil {
		return time.Time{}
	}
	return a.GetOpenedAt().AsTime()
}

var accountTypes = map[customerv1.AccountType]string{
	customerv1.AccountType_ACCOUNT_TYPE_SAVINGS:  "savings",
	customerv1.AccountType_ACCOUNT_TYPE_CHECKING: "checking",
}

// Customer implements app.Customers.
func (c *Client) Customer(ctx context.Context, actor *domain.Actor, id string) (app.Customer, error) {
	resp, err := c.api.GetCustomer(asUser(ctx, actor), &customerv1.GetCustomerRequest{CustomerId: id})
	if err != nil {
		return app.Customer{}, translate(err)
	}
	cu := resp.GetCustomer()
	return app.Customer{ID: cu.GetCustomerId(), PartnerID: cu.GetPartnerId(),
		Blocked: cu.GetStatus() != customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE}, nil
}

// Account implements app.Customers.
func (c *Client) Account(ctx context.Context, actor *domain.Actor, id string) (domain.Account, error) {
	resp, err := c.api.GetAccount(asUser(ctx, actor), &customerv1.GetAccountRequest{AccountId: id})
	if err != nil {
		return domain.Account{}, translate(err)
	}
	return account(resp.GetAccount()), nil
}

// Accounts implements app.Customers.
func (c *Client) Accounts(ctx context.Context, actor *domain.Actor, customerID string) ([]domain.Account, error) {
	resp, err := c.api.ListAccounts(asUser(ctx, actor), &customerv1.ListAccountsRequest{CustomerId: customerID})
	if err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Account, 0, len(resp.GetAccounts()))
	for _, a := range resp.GetAccounts() {
		out = append(out, account(a))
	}
	return out, nil
}

// Partner implements app.Customers.
func (c *Client) Partner(ctx context.Context, actor *domain.Actor, id string) (app.Partner, error) {
	resp, err := c.api.GetPartner(asUser(ctx, actor), &customerv1.GetPartnerRequest{PartnerId: id})
	if err != nil {
		return app.Partner{}, translate(err)
	}
	p := resp.GetPartner()
	return app.Partner{ID: p.GetPartnerId(), Active: p.GetStatus() == customerv1.PartnerStatus_PARTNER_STATUS_ACTIVE,
		SettlementAccountNumber: p.GetSettlementAccountNumber()}, nil
}

// LookupNumber implements app.Customers.
func (c *Client) LookupNumber(ctx context.Context, number string) (domain.Account, string, error) {
	resp, err := c.api.LookupAccountNumber(ctx, &customerv1.LookupAccountNumberRequest{AccountNumber: number})
	if err != nil {
		return domain.Account{}, "", translate(err)
	}
	return account(resp.GetAccount()), resp.GetMaskedHolderName(), nil
}
