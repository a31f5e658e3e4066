// Package ports serves andes.facade.v1 over the internal gRPC listener: requests
// arrive validated (the platform's server checks their protovalidate rules), are
// translated to the domain, errors are mapped once to statuses with
// andes.errors.v1 reasons, and every write is namespaced by the caller's mTLS
// identity.
package ports

import (
	"context"

	"github.com/andes-bank/andes/facade/app"
	"github.com/andes-bank/andes/facade/domain"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	"github.com/andes-bank/andes/platform/server"
)

// Server implements andes.facade.v1.FacadeService.
type Server struct {
	facadev1.UnimplementedFacadeServiceServer
	app *app.Facade
	// caller names the calling process from its certificate; tests may replace it.
	caller func(ctx context.Context) (string, error)
}

var _ facadev1.FacadeServiceServer = (*Server)(nil)

// New builds the port on the use cases.
func New(a *app.Facade) (*Server, error) {
	return &Server{app: a, caller: server.CallerName}, nil
}

// callerName is the namespace of the caller's operation ids.
func (s *Server) callerName(ctx context.Context) (string, error) {
	name, err := s.caller(ctx)
	if err != nil {
		return "", errorDomain.Error(errorsv1.Reason_REASON_INVALID_TOKEN, "the caller has no Andes identity", nil)
	}
	return name, nil
}

// GetCustomerSnapshot answers from the cache, the core or the last snapshot kept.
func (s *Server) GetCustomerSnapshot(ctx context.Context, req *facadev1.GetCustomerSnapshotRequest) (*facadev1.GetCustomerSnapshotResponse, error) {
	snap, src, err := s.app.GetCustomerSnapshot(ctx, req.GetCustomerNumber(), req.GetRequireFresh())
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.GetCustomerSnapshotResponse{Snapshot: toSnapshot(snap), Source: toSource(src)}, nil
}

// GetAccount reads one account from the core.
func (s *Server) GetAccount(ctx context.Context, req *facadev1.GetAccountRequest) (*facadev1.GetAccountResponse, error) {
	a, holder, err := s.app.GetAccount(ctx, req.GetAccountNumber())
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.GetAccountResponse{Account: toAccount(a), HolderName: holder}, nil
}

// ListMovements pages through an account's movements.
func (s *Server) ListMovements(ctx context.Context, req *facadev1.ListMovementsRequest) (*facadev1.ListMovementsResponse, error) {
	page, err := s.app.ListMovements(ctx, domain.MovementQuery{Account: req.GetAccountNumber(), From: req.GetFromDate(),
		To: req.GetToDate(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, toStatus(err)
	}
	out := &facadev1.ListMovementsResponse{NextPageToken: page.NextPageToken, Movements: make([]*facadev1.Movement, len(page.Movements))}
	for i, m := range page.Movements {
		out.Movements[i] = toMovement(m)
	}
	if page.Opening != nil {
		out.OpeningBalance = toMoney(*page.Opening)
	}
	if page.Closing != nil {
		out.ClosingBalance = toMoney(*page.Closing)
	}
	return out, nil
}

// Transfer moves money between two core accounts.
func (s *Server) Transfer(ctx context.Context, req *facadev1.TransferRequest) (*facadev1.TransferResponse, error) {
	caller, err := s.callerName(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.app.Transfer(ctx, caller, domain.TransferOrder{OperationID: req.GetOperationId(),
		Source: req.GetSourceAccountNumber(), Destination: req.GetDestinationAccountNumber(),
		Amount: fromMoney(req.GetAmount()), Description: req.GetDescription()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.TransferResponse{Transaction: toTransaction(tx)}, nil
}

// CashIn credits a customer against an agent's settlement account.
func (s *Server) CashIn(ctx context.Context, req *facadev1.CashInRequest) (*facadev1.CashInResponse, error) {
	caller, err := s.callerName(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.app.CashIn(ctx, caller, domain.CashOrder{OperationID: req.GetOperationId(), Account: req.GetAccountNumber(),
		AgentAccount: req.GetAgentAccountNumber(), Amount: fromMoney(req.GetAmount()), AgentReference: req.GetAgentReference()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.CashInResponse{Transaction: toTransaction(tx)}, nil
}

// CashOut debits a customer in favour of an agent's settlement account.
func (s *Server) CashOut(ctx context.Context, req *facadev1.CashOutRequest) (*facadev1.CashOutResponse, error) {
	caller, err := s.callerName(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.app.CashOut(ctx, caller, domain.CashOrder{OperationID: req.GetOperationId(), Account: req.GetAccountNumber(),
		AgentAccount: req.GetAgentAccountNumber(), Amount: fromMoney(req.GetAmount()), AgentReference: req.GetAgentReference()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.CashOutResponse{Transaction: toTransaction(tx)}, nil
}

// CreateCustomer creates a customer in the core.
func (s *Server) CreateCustomer(ctx context.Context, req *facadev1.CreateCustomerRequest) (*facadev1.CreateCustomerResponse, error) {
	caller, err := s.callerName(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.app.CreateCustomer(ctx, caller, domain.NewCustomer{OperationID: req.GetOperationId(), Profile: domain.Profile{
		DocumentType: fromDocumentType(req.GetDocument().GetType()), DocumentNumber: req.GetDocument().GetNumber(),
		GivenNames: req.GetGivenNames(), FamilyNames: req.GetFamilyNames(), BirthDate: req.GetBirthDate(),
		Email: req.GetEmail(), Phone: req.GetPhoneNumber(),
	}})
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.CreateCustomerResponse{Profile: toProfile(p)}, nil
}

// OpenAccount opens a deposit account in the core.
func (s *Server) OpenAccount(ctx context.Context, req *facadev1.OpenAccountRequest) (*facadev1.OpenAccountResponse, error) {
	caller, err := s.callerName(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.app.OpenAccount(ctx, caller, domain.NewAccount{OperationID: req.GetOperationId(),
		CustomerNumber: req.GetCustomerNumber(), Type: fromAccountType(req.GetType()), Currency: req.GetCurrency()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.OpenAccountResponse{Account: toAccount(a)}, nil
}

// GetTransaction tells what happened to the caller's write with an operation id.
func (s *Server) GetTransaction(ctx context.Context, req *facadev1.GetTransactionRequest) (*facadev1.GetTransactionResponse, error) {
	caller, err := s.callerName(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.app.GetTransaction(ctx, caller, req.GetOperationId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.GetTransactionResponse{Transaction: toTransaction(tx)}, nil
}
