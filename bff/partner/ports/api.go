package ports

import (
	"context"
	"log/slog"
	"regexp"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	partnerv1 "github.com/andes-bank/andes/gen/andes/partner/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/platform/validation"
)

// Customers is what the partner API needs of the customer service; its gRPC client
// satisfies it.
type Customers interface {
	ListPartnerCustomers(ctx context.Context, in *customerv1.ListPartnerCustomersRequest, opts ...grpc.CallOption) (*customerv1.ListPartnerCustomersResponse, error)
	CreateCustomer(ctx context.Context, in *customerv1.CreateCustomerRequest, opts ...grpc.CallOption) (*customerv1.CreateCustomerResponse, error)
	GetCustomer(ctx context.Context, in *customerv1.GetCustomerRequest, opts ...grpc.CallOption) (*customerv1.GetCustomerResponse, error)
	GetCustomerView(ctx context.Context, in *customerv1.GetCustomerViewRequest, opts ...grpc.CallOption) (*customerv1.GetCustomerViewResponse, error)
	OpenAccount(ctx context.Context, in *customerv1.OpenAccountRequest, opts ...grpc.CallOption) (*customerv1.OpenAccountResponse, error)
	GetAccount(ctx context.Context, in *customerv1.GetAccountRequest, opts ...grpc.CallOption) (*customerv1.GetAccountResponse, error)
	ListMovements(ctx context.Context, in *customerv1.ListMovementsRequest, opts ...grpc.CallOption) (*customerv1.ListMovementsResponse, error)
}

// Controller is what the partner API needs of the controller; its gRPC client
// satisfies it.
type Controller interface {
	Transfer(ctx context.Context, in *controllerv1.TransferRequest, opts ...grpc.CallOption) (*controllerv1.TransferResponse, error)
	CashIn(ctx context.Context, in *controllerv1.CashInRequest, opts ...grpc.CallOption) (*controllerv1.CashInResponse, error)
	CashOut(ctx context.Context, in *controllerv1.CashOutRequest, opts ...grpc.CallOption) (*controllerv1.CashOutResponse, error)
	GetOperation(ctx context.Context, in *controllerv1.GetOperationRequest, opts ...grpc.CallOption) (*controllerv1.GetOperationResponse, error)
	ListOperations(ctx context.Context, in *controllerv1.ListOperationsRequest, opts ...grpc.CallOption) (*controllerv1.ListOperationsResponse, error)
	GetStatement(ctx context.Context, in *controllerv1.GetStatementRequest, opts ...grpc.CallOption) (*controllerv1.GetStatementResponse, error)
}

var (
	_ Customers  = customerv1.CustomerServiceClient(nil)
	_ Controller = controllerv1.ControllerServiceClient(nil)
)

// API is andes.partner.v1.PartnerService on top of the internal services. Each
// method checks the scope, validates the request, checks tenancy itself (a partner
// acts only on its own customers: any other id is the same 404 as one that does not
// exist) although the services check it too, calls the services with the partner's
// token (the adapters forward it) and maps the answers to the partner contract.
type API struct {
	partnerv1.UnimplementedPartnerServiceServer
	customers  Customers
	controller Controller
	validator  *validation.Validator
	log        *slog.Logger
}

// NewAPI returns the partner API over the two services.
func NewAPI(customers Customers, controller Controller, log *slog.Logger) (*API, error) {
	v, err := validation.New()
	if err != nil {
		return nil, err
	}
	return &API{customers: customers, controller: controller, validator: v, log: log}, nil
}

// begin checks the caller holds one of scopes and validates req; every method
// starts here. The principal is the one the REST middleware verified.
func (a *API) begin(ctx context.Context, req proto.Message, scopes ...string) (*tokens.Principal, error) {
	p := tokens.FromContext(ctx)
	if p == nil || p.PartnerID == "" {
		return nil, refuse(errorsv1.Reason_REASON_INVALID_TOKEN, nil)
	}
	ok := false
	for _, s := range scopes {
		ok = ok || p.HasScope(s)
	}
	if !ok {
		return nil, refuse(errorsv1.Reason_REASON_INSUFFICIENT_SCOPE, map[string]string{rpcstatus.KeyScope: scopes[0]})
	}
	if err := a.validator.Check(errorDomain, req); err != nil {
		return nil, err
	}
	return p, nil
}

var idempotencyKeyPattern = regexp.MustCompile(`^[\x21-\x7E]{1,255}$`)

// idempotencyKey is the Idempotency-Key header, which the REST mux's header matcher
// turns into the idempotency-key metadata.
func idempotencyKey(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get(idempotencyKeyMD)
	switch {
	case len(values) == 0 || values[0] == "":
		return "", refuse(errorsv1.Reason_REASON_IDEMPOTENCY_KEY_MISSING, nil)
	case len(values) > 1 || !idempotencyKeyPattern.MatchString(values[0]):
		return "", errorDomain.InvalidField("Idempotency-Key", "one header of 1 to 255 visible ASCII characters")
	}
	return values[0], nil
}

// write begins a write: scope, key, then the body's rules.
func (a *API) write(ctx context.Context, req proto.Message, scope string) (*tokens.Principal, string, error) {
	p := tokens.FromContext(ctx)
	if p != nil && p.PartnerID != "" && !p.HasScope(scope) {
		return nil, "", refuse(errorsv1.Reason_REASON_INSUFFICIENT_SCOPE, map[string]string{rpcstatus.KeyScope: scope})
	}
	key, err := idempotencyKey(ctx)
	if err != nil {
		return nil, "", err
	}
	p, err = a.begin(ctx, req, scope)
	return p, key, err
}

func (a *API) fail(ctx context.Context, err error) error { return translate(ctx, a.log, err) }

// ownCustomer returns the customer if it is the partner's; anything else, including
// a customer of another partner, is NOT_FOUND.
func (a *API) ownCustomer(ctx context.Context, p *tokens.Principal, customerID string) (*customerv1.Customer, error) {
	resp, err := a.customers.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: customerID})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	if c := resp.GetCustomer(); c.GetPartnerId() == p.PartnerID && c.GetCustomerId() == customerID {
		return c, nil
	}
	return nil, notFound()
}

// ownAccount returns the account if it belongs to the partner's customer named in the
// path.
func (a *API) ownAccount(ctx context.Context, p *tokens.Principal, customerID, accountID string) (*customerv1.Account, error) {
	if _, err := a.ownCustomer(ctx, p, customerID); err != nil {
		return nil, err
	}
	resp, err := a.customers.GetAccount(ctx, &customerv1.GetAccountRequest{AccountId: accountID})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	if acc := resp.GetAccount(); acc.GetCustomerId() == customerID && acc.GetAccountId() == accountID {
		return acc, nil
	}
	return nil, notFound()
}

// ownView is the customer's consolidated view (accounts with balances) if the
// customer is the partner's.
func (a *API) ownView(ctx context.Context, p *tokens.Principal, customerID string) (*customerv1.GetCustomerViewResponse, error) {
	v, err := a.customers.GetCustomerView(ctx, &customerv1.GetCustomerViewRequest{CustomerId: customerID})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	if c := v.GetCustomer(); c.GetPartnerId() != p.PartnerID || c.GetCustomerId() != customerID {
		return nil, notFound()
	}
	return v, nil
}

func (a *API) ListCustomers(ctx context.Context, req *partnerv1.ListCustomersRequest) (*partnerv1.ListCustomersResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	resp, err := a.customers.ListPartnerCustomers(ctx, &customerv1.ListPartnerCustomersRequest{
		PartnerId: p.PartnerID, PageSize: req.GetPageSize(), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &partnerv1.ListCustomersResponse{NextPageToken: resp.GetNextPageToken()}
	for _, c := range resp.GetCustomers() {
		if c.GetPartnerId() != p.PartnerID {
			// The service filters by partner; a row that is not ours is a bug there and
			// must not reach the partner.
			return nil, internal(ctx, a.log, errForeignRow)
		}
		out.Customers = append(out.Customers, customerOut(c))
	}
	return out, nil
}

func (a *API) CreateCustomer(ctx context.Context, req *partnerv1.CreateCustomerRequest) (*partnerv1.CreateCustomerResponse, error) {
	p, key, err := a.write(ctx, req, tokens.ScopeCustomersWrite)
	if err != nil {
		return nil, err
	}
	resp, err := a.customers.CreateCustomer(ctx, &customerv1.CreateCustomerRequest{
		IdempotencyKey: key, PartnerId: p.PartnerID, Document: req.GetDocument(), GivenNames: req.GetGivenNames(),
		FamilyNames: req.GetFamilyNames(), BirthDate: req.GetBirthDate(), Email: req.GetEmail(), PhoneNumber: req.GetPhoneNumber()})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	if resp.GetCustomer().GetPartnerId() != p.PartnerID {
		return nil, internal(ctx, a.log, errForeignRow)
	}
	return &partnerv1.CreateCustomerResponse{Customer: customerOut(resp.GetCustomer())}, nil
}

func (a *API) GetCustomer(ctx context.Context, req *partnerv1.GetCustomerRequest) (*partnerv1.GetCustomerResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeCustomersRead)
	if err != nil {
		return nil, err
	}
	c, err := a.ownCustomer(ctx, p, req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	return &partnerv1.GetCustomerResponse{Customer: customerOut(c)}, nil
}

func (a *API) ListAccounts(ctx context.Context, req *partnerv1.ListAccountsRequest) (*partnerv1.ListAccountsResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	v, err := a.ownView(ctx, p, req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	out := &partnerv1.ListAccountsResponse{}
	for _, av := range v.GetAccounts() {
		if av.GetAccount().GetCustomerId() != req.GetCustomerId() {
			return nil, internal(ctx, a.log, errForeignRow)
		}
		out.Accounts = append(out.Accounts, accountOut(av.GetAccount(), av.GetBalance(), v))
	}
	return out, nil
}

func (a *API) OpenAccount(ctx context.Context, req *partnerv1.OpenAccountRequest) (*partnerv1.OpenAccountResponse, error) {
	p, key, err := a.write(ctx, req, tokens.ScopeAccountsWrite)
	if err != nil {
		return nil, err
	}
	if _, err := a.ownCustomer(ctx, p, req.GetCustomerId()); err != nil {
		return nil, err
	}
	resp, err := a.customers.OpenAccount(ctx, &customerv1.OpenAccountRequest{IdempotencyKey: key,
		CustomerId: req.GetCustomerId(), Type: customerv1.AccountType(req.GetType()), Currency: req.GetCurrency()})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnerv1.OpenAccountResponse{Account: accountOut(resp.GetAccount(), nil, nil)}, nil
}

func (a *API) GetAccount(ctx context.Context, req *partnerv1.GetAccountRequest) (*partnerv1.GetAccountResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	v, err := a.ownView(ctx, p, req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	for _, av := range v.GetAccounts() {
		if av.GetAccount().GetAccountId() == req.GetAccountId() && av.GetAccount().GetCustomerId() == req.GetCustomerId() {
			return &partnerv1.GetAccountResponse{Account: accountOut(av.GetAccount(), av.GetBalance(), v)}, nil
		}
	}
	// The view holds open accounts only: a closed one is shown without balances.
	acc, err := a.ownAccount(ctx, p, req.GetCustomerId(), req.GetAccountId())
	if err != nil {
		return nil, err
	}
	return &partnerv1.GetAccountResponse{Account: accountOut(acc, nil, nil)}, nil
}

func (a *API) ListMovements(ctx context.Context, req *partnerv1.ListMovementsRequest) (*partnerv1.ListMovementsResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	if _, err := a.ownAccount(ctx, p, req.GetCustomerId(), req.GetAccountId()); err != nil {
		return nil, err
	}
	resp, err := a.customers.ListMovements(ctx, &customerv1.ListMovementsRequest{AccountId: req.GetAccountId(),
		PageSize: req.GetPageSize(), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &partnerv1.ListMovementsResponse{NextPageToken: resp.GetNextPageToken()}
	for _, m := range resp.GetMovements() {
		out.Movements = append(out.Movements, movementOut(m))
	}
	return out, nil
}

func (a *API) GetStatement(ctx context.Context, req *partnerv1.GetStatementRequest) (*partnerv1.GetStatementResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	if _, err := a.ownAccount(ctx, p, req.GetCustomerId(), req.GetAccountId()); err != nil {
		return nil, err
	}
	resp, err := a.controller.GetStatement(ctx, &controllerv1.GetStatementRequest{CustomerId: req.GetCustomerId(),
		AccountId: req.GetAccountId(), FromDate: req.GetFromDate(), ToDate: req.GetToDate(),
		PageSize: req.GetPageSize(), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &partnerv1.GetStatementResponse{Account: accountOut(resp.GetAccount(), nil, nil),
		OpeningBalance: resp.GetOpeningBalance(), ClosingBalance: resp.GetClosingBalance(), NextPageToken: resp.GetNextPageToken()}
	for _, m := range resp.GetMovements() {
		out.Movements = append(out.Movements, movementOut(m))
	}
	return out, nil
}

func (a *API) CreateTransfer(ctx context.Context, req *partnerv1.CreateTransferRequest) (*partnerv1.CreateTransferResponse, error) {
	p, key, err := a.write(ctx, req, tokens.ScopeTransfersWrite)
	if err != nil {
		return nil, err
	}
	if _, err := a.ownAccount(ctx, p, req.GetCustomerId(), req.GetSourceAccountId()); err != nil {
		return nil, err
	}
	resp, err := a.controller.Transfer(ctx, &controllerv1.TransferRequest{IdempotencyKey: key,
		CustomerId: req.GetCustomerId(), SourceAccountId: req.GetSourceAccountId(),
		Destination: &controllerv1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: req.GetDestinationAccountNumber()},
		Amount:      req.GetAmount(), Description: req.GetDescription(), StepUp: req.GetStepUp()})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	op := resp.GetOperation()
	if op.GetCustomerId() != req.GetCustomerId() {
		return nil, internal(ctx, a.log, errForeignRow)
	}
	return &partnerv1.CreateTransferResponse{Transfer: transferOut(op)}, nil
}

// ownOperation returns the operation if it is of type t and the caller's: a transfer
// of the partner's customer named in the path, or a cash operation of the partner's
// own agents.
func (a *API) ownOperation(ctx context.Context, p *tokens.Principal, id string, t controllerv1.OperationType, customerID string) (*controllerv1.Operation, error) {
	resp, err := a.controller.GetOperation(ctx, &controllerv1.GetOperationRequest{OperationId: id})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	op := resp.GetOperation()
	switch {
	case op.GetOperationId() != id || op.GetType() != t:
		return nil, notFound()
	case t == controllerv1.OperationType_OPERATION_TYPE_TRANSFER && op.GetCustomerId() != customerID:
		return nil, notFound()
	case t != controllerv1.OperationType_OPERATION_TYPE_TRANSFER && op.GetCash().GetAgentPartnerId() != p.PartnerID:
		return nil, notFound()
	}
	return op, nil
}

func (a *API) GetTransfer(ctx context.Context, req *partnerv1.GetTransferRequest) (*partnerv1.GetTransferResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeTransfersWrite, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	if _, err := a.ownCustomer(ctx, p, req.GetCustomerId()); err != nil {
		return nil, err
	}
	op, err := a.ownOperation(ctx, p, req.GetTransferId(), controllerv1.OperationType_OPERATION_TYPE_TRANSFER, req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	return &partnerv1.GetTransferResponse{Transfer: transferOut(op)}, nil
}

func (a *API) ListTransfers(ctx context.Context, req *partnerv1.ListTransfersRequest) (*partnerv1.ListTransfersResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	if _, err := a.ownCustomer(ctx, p, req.GetCustomerId()); err != nil {
		return nil, err
	}
	resp, err := a.controller.ListOperations(ctx, &controllerv1.ListOperationsRequest{CustomerId: req.GetCustomerId(),
		PageSize: req.GetPageSize(), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	// A customer's operations include cash at agents; this route lists transfers, so a
	// page may hold fewer than page_size (AIP-158 allows it).
	out := &partnerv1.ListTransfersResponse{NextPageToken: resp.GetNextPageToken()}
	for _, op := range resp.GetOperations() {
		if op.GetCustomerId() != req.GetCustomerId() {
			return nil, internal(ctx, a.log, errForeignRow)
		}
		if op.GetType() == controllerv1.OperationType_OPERATION_TYPE_TRANSFER {
			out.Transfers = append(out.Transfers, transferOut(op))
		}
	}
	return out, nil
}

func (a *API) CreateCashIn(ctx context.Context, req *partnerv1.CreateCashInRequest) (*partnerv1.CreateCashInResponse, error) {
	p, key, err := a.write(ctx, req, tokens.ScopeCash)
	if err != nil {
		return nil, err
	}
	resp, err := a.controller.CashIn(ctx, &controllerv1.CashInRequest{IdempotencyKey: key, AgentPartnerId: p.PartnerID,
		AccountNumber: req.GetAccountNumber(), Amount: req.GetAmount(), AgentReference: req.GetAgentReference()})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnerv1.CreateCashInResponse{CashIn: cashOut(resp.GetOperation())}, nil
}

func (a *API) GetCashIn(ctx context.Context, req *partnerv1.GetCashInRequest) (*partnerv1.GetCashInResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeCash)
	if err != nil {
		return nil, err
	}
	op, err := a.ownOperation(ctx, p, req.GetCashInId(), controllerv1.OperationType_OPERATION_TYPE_CASH_IN, "")
	if err != nil {
		return nil, err
	}
	return &partnerv1.GetCashInResponse{CashIn: cashOut(op)}, nil
}

func (a *API) CreateCashOut(ctx context.Context, req *partnerv1.CreateCashOutRequest) (*partnerv1.CreateCashOutResponse, error) {
	p, key, err := a.write(ctx, req, tokens.ScopeCash)
	if err != nil {
		return nil, err
	}
	resp, err := a.controller.CashOut(ctx, &controllerv1.CashOutRequest{IdempotencyKey: key, AgentPartnerId: p.PartnerID,
		AccountNumber: req.GetAccountNumber(), Amount: req.GetAmount(), AgentReference: req.GetAgentReference(), StepUp: req.GetStepUp()})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &partnerv1.CreateCashOutResponse{CashOut: cashOut(resp.GetOperation())}, nil
}

func (a *API) GetCashOut(ctx context.Context, req *partnerv1.GetCashOutRequest) (*partnerv1.GetCashOutResponse, error) {
	p, err := a.begin(ctx, req, tokens.ScopeCash)
	if err != nil {
		return nil, err
	}
	op, err := a.ownOperation(ctx, p, req.GetCashOutId(), controllerv1.OperationType_OPERATION_TYPE_CASH_OUT, "")
	if err != nil {
		return nil, err
	}
	return &partnerv1.GetCashOutResponse{CashOut: cashOut(op)}, nil
}
