// Package ports serves andes.facade.v1 over the internal gRPC listener: requests
// validated with protovalidate, translated to the domain, errors mapped once to
// statuses with andes.errors.v1 reasons, and every write namespaced by the
// caller's mTLS identity.
package ports

import (
	"context"
	"errors"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/andes-bank/andes/facade/app"
	"github.com/andes-bank/andes/facade/domain"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	"github.com/andes-bank/andes/platform/server"
)

// Server implements andes.facade.v1.FacadeService.
type Server struct {
	facadev1.UnimplementedFacadeServiceServer
	app       *app.Facade
	validator protovalidate.Validator
	// caller names the calling process from its certificate; tests may replace it.
	caller func(ctx context.Context) (string, error)
}

var _ facadev1.FacadeServiceServer = (*Server)(nil)

// New builds the port on the use cases.
func New(a *app.Facade) (*Server, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	return &Server{app: a, validator: v, caller: server.CallerName}, nil
}

func (s *Server) validate(m proto.Message) error {
	err := s.validator.Validate(m)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return invalid("request", "could not be validated")
	}
	br := &errdetails.BadRequest{}
	for _, v := range verr.Violations {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: protovalidate.FieldPathString(v.Proto.GetField()), Description: v.Proto.GetMessage(),
		})
	}
	sp := spec(errorsv1.Reason_REASON_VALIDATION_FAILED)
	st := status.New(codes.InvalidArgument, verr.Error())
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: sp.GetReason(), Domain: errorDomain}, br); err == nil {
		st = d
	}
	return st.Err()
}

// callerName is the namespace of the caller's operation ids.
func (s *Server) callerName(ctx context.Context) (string, error) {
	name, err := s.caller(ctx)
	if err != nil {
		return "", status.Error(codes.Unauthenticated, "the caller has no Andes identity")
	}
	return name, nil
}

// GetCustomerSnapshot answers from the cache, the core or the last snapshot kept.
func (s *Server) GetCustomerSnapshot(ctx context.Context, req *facadev1.GetCustomerSnapshotRequest) (*facadev1.GetCustomerSnapshotResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	snap, src, err := s.app.GetCustomerSnapshot(ctx, req.GetCustomerNumber(), req.GetRequireFresh())
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.GetCustomerSnapshotResponse{Snapshot: toSnapshot(snap), Source: toSource(src)}, nil
}

// GetAccount reads one account from the core.
func (s *Server) GetAccount(ctx context.Context, req *facadev1.GetAccountRequest) (*facadev1.GetAccountResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	a, holder, err := s.app.GetAccount(ctx, req.GetAccountNumber())
	if err != nil {
		return nil, toStatus(err)
	}
	return &facadev1.GetAccountResponse{Account: toAccount(a), HolderName: holder}, nil
}

// ListMovements pages through an account's movements.
func (s *Server) ListMovements(ctx context.Context, req *facadev1.ListMovementsRequest) (*facadev1.ListMovementsResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
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
	if err := s.validate(req); err != nil {
		return nil, err
	}
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
	if err := s.validate(req); err != nil {
		return nil, err
	}
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
	if err := s.validate(req); err != nil {
		return nil, err
	}
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
	if err := s.validate(req); err != nil {
		return nil, err
	}
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
	if err := s.validate(req); err != nil {
		return nil, err
	}
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
	if err := s.validate(req); err != nil {
		return nil, err
	}
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
