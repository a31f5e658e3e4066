// Package ports serves andes.customer.v1 over gRPC: requests arrive validated (the
// platform's server checks their protovalidate rules), the acting principal is taken from the verified end-user token
// (or the calling process when none came), and domain errors are mapped once.
package ports

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	identityv1 "github.com/andes-bank/andes/gen/andes/identity/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/customer/app"
	"github.com/andes-bank/andes/services/customer/domain"
)

// GRPC is andes.customer.v1.CustomerService. CreateCustomer and OpenAccount are
// not served yet (Unimplemented).
type GRPC struct {
	customerv1.UnimplementedCustomerServiceServer
	app *app.App
}

// NewGRPC returns the API on a.
func NewGRPC(a *app.App) (*GRPC, error) {
	return &GRPC{app: a}, nil
}

// actor is who the call acts for: the end user's verified token (put in the
// context by the platform's token interceptor) or else the calling process.
func actor(ctx context.Context) (domain.Actor, error) {
	caller, _ := server.CallerName(ctx)
	p := tokens.FromContext(ctx)
	if p == nil {
		return domain.NewActor(caller, domain.NoToken, "", "")
	}
	return domain.NewActor(caller, tokenKinds[p.Kind()], p.Subject, p.PartnerID)
}

// tokenKinds are the platform's principal kinds as the customer rules name them.
var tokenKinds = map[tokens.Kind]domain.TokenKind{
	tokens.KindClient:   domain.ClientToken,
	tokens.KindCustomer: domain.CustomerToken,
	tokens.KindPartner:  domain.PartnerToken,
}

// begin finds the actor: every method starts here.
func (g *GRPC) begin(ctx context.Context) (domain.Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return domain.Actor{}, toStatus(err)
	}
	return a, nil
}

func (g *GRPC) GetCustomer(ctx context.Context, req *customerv1.GetCustomerRequest) (*customerv1.GetCustomerResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	c, err := g.app.GetCustomer(ctx, a, req.GetCustomerId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &customerv1.GetCustomerResponse{Customer: customerProto(c)}, nil
}

func (g *GRPC) LookupCustomer(ctx context.Context, req *customerv1.LookupCustomerRequest) (*customerv1.LookupCustomerResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	c, err := g.app.LookupCustomer(ctx, a, documentTypes[req.GetDocument().GetType()], req.GetDocument().GetNumber())
	if err != nil {
		return nil, toStatus(err)
	}
	return &customerv1.LookupCustomerResponse{Customer: customerProto(c)}, nil
}

func (g *GRPC) UpdatePreferences(ctx context.Context, req *customerv1.UpdatePreferencesRequest) (*customerv1.UpdatePreferencesResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	p := req.GetPreferences()
	c, err := g.app.UpdatePreferences(ctx, a, req.GetCustomerId(), domain.Preferences{Language: p.GetLanguage(),
		NotifyByEmail: p.GetNotifyByEmail(), NotifyBySMS: p.GetNotifyBySms(), DefaultAccountID: p.GetDefaultAccountId()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &customerv1.UpdatePreferencesResponse{Customer: customerProto(c)}, nil
}

func (g *GRPC) ListPartnerCustomers(ctx context.Context, req *customerv1.ListPartnerCustomersRequest) (*customerv1.ListPartnerCustomersResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	cs, next, err := g.app.ListPartnerCustomers(ctx, a, req.GetPartnerId(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &customerv1.ListPartnerCustomersResponse{NextPageToken: next}
	for _, c := range cs {
		resp.Customers = append(resp.Customers, customerProto(c))
	}
	return resp, nil
}

func (g *GRPC) GetPartner(ctx context.Context, req *customerv1.GetPartnerRequest) (*customerv1.GetPartnerResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	p, err := g.app.GetPartner(ctx, a, req.GetPartnerId())
	if err != nil {
		return nil, toStatus(err)
	}
	st := customerv1.PartnerStatus_PARTNER_STATUS_ACTIVE
	if p.Status == "suspended" {
		st = customerv1.PartnerStatus_PARTNER_STATUS_SUSPENDED
	}
	return &customerv1.GetPartnerResponse{Partner: &customerv1.Partner{PartnerId: p.ID, DisplayName: p.DisplayName,
		Status: st, SettlementAccountNumber: p.SettlementAccountNumber, CreatedAt: timestamppb.New(p.CreatedAt)}}, nil
}

func (g *GRPC) GetAccount(ctx context.Context, req *customerv1.GetAccountRequest) (*customerv1.GetAccountResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	acc, err := g.app.GetAccount(ctx, a, req.GetAccountId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &customerv1.GetAccountResponse{Account: accountProto(acc)}, nil
}

func (g *GRPC) LookupAccountNumber(ctx context.Context, req *customerv1.LookupAccountNumberRequest) (*customerv1.LookupAccountNumberResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	l, err := g.app.LookupAccountNumber(ctx, a, req.GetAccountNumber())
	if err != nil {
		return nil, toStatus(err)
	}
	return &customerv1.LookupAccountNumberResponse{Account: accountProto(l.Account), MaskedHolderName: l.MaskedName}, nil
}

func (g *GRPC) ListAccounts(ctx context.Context, req *customerv1.ListAccountsRequest) (*customerv1.ListAccountsResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	accs, err := g.app.ListAccounts(ctx, a, req.GetCustomerId(), req.GetIncludeClosed())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &customerv1.ListAccountsResponse{}
	for _, acc := range accs {
		resp.Accounts = append(resp.Accounts, accountProto(acc))
	}
	return resp, nil
}

func (g *GRPC) GetCustomerView(ctx context.Context, req *customerv1.GetCustomerViewRequest) (*customerv1.GetCustomerViewResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	v, err := g.app.GetCustomerView(ctx, a, req.GetCustomerId(), req.GetRequireFresh())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &customerv1.GetCustomerViewResponse{Customer: customerProto(v.Customer), AsOf: timestamppb.New(v.AsOf), Stale: v.Stale}
	for _, av := range v.Accounts {
		resp.Accounts = append(resp.Accounts, &customerv1.AccountView{Account: accountProto(av.Account), Balance: &customerv1.Balance{
			Ledger: moneyProto(av.Balance.Ledger), Available: moneyProto(av.Balance.Available), OverdraftLimit: moneyProto(av.Balance.Overdraft)}})
	}
	for _, p := range v.Products {
		resp.Products = append(resp.Products, &customerv1.Product{ProductId: p.ID, Type: productTypes[p.Type], Name: p.Name,
			Amount: moneyProto(p.Amount), DueDate: p.DueDate})
	}
	for _, m := range v.LatestMovements {
		resp.LatestMovements = append(resp.LatestMovements, movementProto(m))
	}
	return resp, nil
}

func (g *GRPC) ListMovements(ctx context.Context, req *customerv1.ListMovementsRequest) (*customerv1.ListMovementsResponse, error) {
	a, err := g.begin(ctx)
	if err != nil {
		return nil, err
	}
	ms, next, err := g.app.ListMovements(ctx, a, req.GetAccountId(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &customerv1.ListMovementsResponse{NextPageToken: next}
	for _, m := range ms {
		resp.Movements = append(resp.Movements, movementProto(m))
	}
	return resp, nil
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func customerProto(c *domain.Customer) *customerv1.Customer {
	return &customerv1.Customer{
		CustomerId: c.ID, CoreCustomerNumber: c.CoreCustomerNumber, PartnerId: c.PartnerID,
		Document:   &identityv1.IdentityDocument{Type: documentEnums[c.DocumentType], Number: c.DocumentNumber},
		GivenNames: c.GivenNames, FamilyNames: c.FamilyNames, BirthDate: c.BirthDate, Email: c.Email, PhoneNumber: c.Phone,
		Status: customerStatuses[c.Status],
		Preferences: &customerv1.Preferences{Language: c.Preferences.Language, NotifyByEmail: c.Preferences.NotifyByEmail,
			NotifyBySms: c.Preferences.NotifyBySMS, DefaultAccountId: c.Preferences.DefaultAccountID},
		CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt),
	}
}

func accountProto(a *domain.Account) *customerv1.Account {
	return &customerv1.Account{AccountId: a.ID, CustomerId: a.CustomerID, AccountNumber: a.AccountNumber,
		Type: accountTypes[a.Type], Currency: a.Currency, Status: accountStatuses[a.Status], OpenedAt: ts(a.OpenedAt)}
}

func moneyProto(m domain.Money) *moneyv1.Money {
	return &moneyv1.Money{AmountMinor: m.Minor, Currency: m.Currency}
}

func movementProto(m domain.Movement) *customerv1.Movement {
	return &customerv1.Movement{MovementId: m.ID, AccountId: m.AccountID, BookedAt: ts(m.BookedAt), ValueDate: m.ValueDate,
		Amount: moneyProto(m.Amount), BalanceAfter: moneyProto(m.BalanceAfter), Description: m.Description,
		Kind: customerv1.MovementKind(m.Kind), CounterpartyName: m.CounterpartyName,
		CounterpartyAccountNumber: m.CounterpartyAccountNumber, OperationId: m.OperationID}
}

var documentTypes = map[identityv1.DocumentType]string{
	identityv1.DocumentType_DOCUMENT_TYPE_DNI:      "DNI",
	identityv1.DocumentType_DOCUMENT_TYPE_CE:       "CE",
	identityv1.DocumentType_DOCUMENT_TYPE_PASSPORT: "PASSPORT",
	identityv1.DocumentType_DOCUMENT_TYPE_RUC:      "RUC",
}

var documentEnums = map[string]identityv1.DocumentType{
	"DNI": identityv1.DocumentType_DOCUMENT_TYPE_DNI, "CE": identityv1.DocumentType_DOCUMENT_TYPE_CE,
	"PASSPORT": identityv1.DocumentType_DOCUMENT_TYPE_PASSPORT, "RUC": identityv1.DocumentType_DOCUMENT_TYPE_RUC,
}

var customerStatuses = map[string]customerv1.CustomerStatus{
	domain.CustomerActive:  customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE,
	domain.CustomerBlocked: customerv1.CustomerStatus_CUSTOMER_STATUS_BLOCKED,
	domain.CustomerClosed:  customerv1.CustomerStatus_CUSTOMER_STATUS_CLOSED,
}

var accountTypes = map[string]customerv1.AccountType{
	domain.AccountSavings:  customerv1.AccountType_ACCOUNT_TYPE_SAVINGS,
	domain.AccountChecking: customerv1.AccountType_ACCOUNT_TYPE_CHECKING,
}

var accountStatuses = map[string]customerv1.AccountStatus{
	domain.AccountActive:  customerv1.AccountStatus_ACCOUNT_STATUS_ACTIVE,
	domain.AccountBlocked: customerv1.AccountStatus_ACCOUNT_STATUS_BLOCKED,
	domain.AccountClosed:  customerv1.AccountStatus_ACCOUNT_STATUS_CLOSED,
}

var productTypes = map[string]customerv1.ProductType{
	domain.ProductTermDeposit: customerv1.ProductType_PRODUCT_TYPE_TERM_DEPOSIT,
	domain.ProductLoan:        customerv1.ProductType_PRODUCT_TYPE_LOAN,
	domain.ProductCard:        customerv1.ProductType_PRODUCT_TYPE_CARD,
}
