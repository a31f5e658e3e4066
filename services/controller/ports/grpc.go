// Package ports serves andes.controller.v1 over gRPC: requests arrive validated (the
// platform's server checks their protovalidate rules), the actor is taken from the verified end-user token the gateway
// forwarded, write responses are stored against the caller's idempotency key and
// replayed byte for byte, and domain errors are mapped once (errors.go).
package ports

import (
	"context"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

// GRPC is andes.controller.v1.ControllerService.
type GRPC struct {
	controllerv1.UnimplementedControllerServiceServer
	app *app.App
}

// NewGRPC returns the API on a.
func NewGRPC(a *app.App) (*GRPC, error) {
	return &GRPC{app: a}, nil
}

// begin finds the actor and checks the scope the method needs: every method
// starts here.
func (g *GRPC) begin(ctx context.Context, scope string) (domain.Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return domain.Actor{}, statusErr(err)
	}
	if err := tokens.RequireScope(ctx, scope); err != nil {
		return domain.Actor{}, statusErr(err)
	}
	return a, nil
}

// actor is who the call acts for, from the verified token the platform's
// interceptor put in the context: a customer or a partner; nothing else acts here.
func actor(ctx context.Context) (domain.Actor, error) {
	p := tokens.FromContext(ctx)
	if p == nil {
		return domain.Actor{}, domain.ErrUnauthenticated
	}
	caller, _ := server.CallerName(ctx)
	a := domain.Actor{ClientID: p.ClientID, Subject: p.Subject, Caller: caller}
	switch p.Kind() {
	case tokens.KindCustomer:
		a.Kind, a.CustomerID = domain.ActorCustomer, p.Subject
	case tokens.KindPartner:
		a.Kind, a.PartnerID, a.Agent = domain.ActorPartner, p.PartnerID, p.HasScope(tokens.ScopeCash)
	default:
		return domain.Actor{}, domain.ErrUnauthenticated
	}
	return a, nil
}

// write is a write request's key and fingerprint: its deterministic bytes
// without the step-up proof (which is not part of the request's identity), after
// its full name so one key cannot serve two kinds of write.
func write(key string, req proto.Message, proof *authv1.StepUpProof) (app.Write, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return app.Write{}, err
	}
	w := app.Write{Key: key, Request: append([]byte(string(req.ProtoReflect().Descriptor().FullName())+"\x00"), b...)}
	if proof != nil {
		w.Proof = &domain.Proof{ChallengeID: proof.GetChallengeId(), Code: proof.GetCode()}
	}
	return w, nil
}

// answer turns a write's result into the response: a replay of the stored bytes
// (a response or a refusal), or the operation just recorded.
func answer[T proto.Message](res app.Result, err error, resp T, fill func(*controllerv1.Operation)) (T, error) {
	var zero T
	if err != nil {
		return zero, statusErr(err)
	}
	if r := res.Replay; r != nil {
		if r.Code != 0 {
			var st spb.Status
			if err := proto.Unmarshal(r.Body, &st); err != nil {
				return zero, err
			}
			return zero, status.ErrorProto(&st)
		}
		if err := proto.Unmarshal(r.Body, resp); err != nil {
			return zero, err
		}
		return resp, nil
	}
	fill(operationProto(res.Operation))
	return resp, nil
}

// PreviewTransfer implements andes.controller.v1.
func (g *GRPC) PreviewTransfer(ctx context.Context, req *controllerv1.PreviewTransferRequest) (*controllerv1.PreviewTransferResponse, error) {
	a, err := g.begin(ctx, tokens.ScopeTransfersWrite)
	if err != nil {
		return nil, err
	}
	pv, err := g.app.PreviewTransfer(ctx, a, app.TransferOrder{CustomerID: req.GetCustomerId(), SourceAccountID: req.GetSourceAccountId(),
		DestinationAccountID: req.GetDestinationAccountId(), DestinationAccountNumber: req.GetDestinationAccountNumber(),
		Amount: fromMoney(req.GetAmount())})
	if err != nil {
		return nil, statusErr(err)
	}
	return &controllerv1.PreviewTransferResponse{DestinationAccountNumber: pv.DestinationAccountNumber,
		MaskedBeneficiaryName: pv.MaskedName, StepUpRequired: pv.StepUpRequired, DailyLimit: dailyProto(pv.Daily)}, nil
}

// Transfer implements andes.controller.v1.
func (g *GRPC) Transfer(ctx context.Context, req *controllerv1.TransferRequest) (*controllerv1.TransferResponse, error) {
	a, err := g.begin(ctx, tokens.ScopeTransfersWrite)
	if err != nil {
		return nil, err
	}
	bare := proto.CloneOf(req)
	bare.StepUp = nil
	w, err := write(req.GetIdempotencyKey(), bare, req.GetStepUp())
	if err != nil {
		return nil, err
	}
	res, err := g.app.Transfer(ctx, a, w, app.TransferOrder{CustomerID: req.GetCustomerId(), SourceAccountID: req.GetSourceAccountId(),
		DestinationAccountID: req.GetDestinationAccountId(), DestinationAccountNumber: req.GetDestinationAccountNumber(),
		Amount: fromMoney(req.GetAmount()), Description: req.GetDescription()})
	resp := &controllerv1.TransferResponse{}
	return answer(res, err, resp, func(op *controllerv1.Operation) { resp.Operation = op })
}

// CashIn implements andes.controller.v1.
func (g *GRPC) CashIn(ctx context.Context, req *controllerv1.CashInRequest) (*controllerv1.CashInResponse, error) {
	a, err := g.begin(ctx, tokens.ScopeCash)
	if err != nil {
		return nil, err
	}
	w, err := write(req.GetIdempotencyKey(), req, nil)
	if err != nil {
		return nil, err
	}
	res, err := g.app.CashIn(ctx, a, w, app.CashOrder{AgentPartnerID: req.GetAgentPartnerId(), AccountNumber: req.GetAccountNumber(),
		Amount: fromMoney(req.GetAmount()), AgentReference: req.GetAgentReference()})
	resp := &controllerv1.CashInResponse{}
	return answer(res, err, resp, func(op *controllerv1.Operation) { resp.Operation = op })
}

// CashOut implements andes.controller.v1.
func (g *GRPC) CashOut(ctx context.Context, req *controllerv1.CashOutRequest) (*controllerv1.CashOutResponse, error) {
	a, err := g.begin(ctx, tokens.ScopeCash)
	if err != nil {
		return nil, err
	}
	bare := proto.CloneOf(req)
	bare.StepUp = nil
	w, err := write(req.GetIdempotencyKey(), bare, req.GetStepUp())
	if err != nil {
		return nil, err
	}
	res, err := g.app.CashOut(ctx, a, w, app.CashOrder{AgentPartnerID: req.GetAgentPartnerId(), AccountNumber: req.GetAccountNumber(),
		Amount: fromMoney(req.GetAmount()), AgentReference: req.GetAgentReference()})
	resp := &controllerv1.CashOutResponse{}
	return answer(res, err, resp, func(op *controllerv1.Operation) { resp.Operation = op })
}

// readScope is what reads need: a customer's or partner's accounts:read, or an
// agent's cash (agents follow the operations they made).
func readScope(ctx context.Context) string {
	if p := tokens.FromContext(ctx); p != nil && !p.HasScope(tokens.ScopeAccountsRead) && p.HasScope(tokens.ScopeCash) {
		return tokens.ScopeCash
	}
	return tokens.ScopeAccountsRead
}

// GetOperation implements andes.controller.v1.
func (g *GRPC) GetOperation(ctx context.Context, req *controllerv1.GetOperationRequest) (*controllerv1.GetOperationResponse, error) {
	a, err := g.begin(ctx, readScope(ctx))
	if err != nil {
		return nil, err
	}
	op, err := g.app.GetOperation(ctx, a, req.GetOperationId())
	if err != nil {
		return nil, statusErr(err)
	}
	return &controllerv1.GetOperationResponse{Operation: operationProto(op)}, nil
}

// ListOperations implements andes.controller.v1.
func (g *GRPC) ListOperations(ctx context.Context, req *controllerv1.ListOperationsRequest) (*controllerv1.ListOperationsResponse, error) {
	a, err := g.begin(ctx, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	ops, next, err := g.app.ListOperations(ctx, a, req.GetCustomerId(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, statusErr(err)
	}
	resp := &controllerv1.ListOperationsResponse{NextPageToken: next}
	for _, op := range ops {
		resp.Operations = append(resp.Operations, operationProto(op))
	}
	return resp, nil
}

// GetStatement implements andes.controller.v1.
func (g *GRPC) GetStatement(ctx context.Context, req *controllerv1.GetStatementRequest) (*controllerv1.GetStatementResponse, error) {
	a, err := g.begin(ctx, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	st, err := g.app.GetStatement(ctx, a, req.GetCustomerId(), req.GetAccountId(), req.GetFromDate(), req.GetToDate(),
		int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, statusErr(err)
	}
	resp := &controllerv1.GetStatementResponse{Account: accountProto(st.Account), FromDate: req.GetFromDate(), ToDate: req.GetToDate(),
		OpeningBalance: money(st.Opening), ClosingBalance: money(st.Closing), NextPageToken: st.Next}
	for _, m := range st.Movements {
		resp.Movements = append(resp.Movements, &customerv1.Movement{MovementId: m.ID, AccountId: st.Account.ID, BookedAt: ts(m.BookedAt),
			ValueDate: m.ValueDate, Amount: money(m.Amount), BalanceAfter: money(m.BalanceAfter), Description: m.Description,
			Kind: customerv1.MovementKind(m.Kind), CounterpartyName: m.CounterpartyName,
			CounterpartyAccountNumber: m.CounterpartyAccountNumber, OperationId: m.OperationID})
	}
	return resp, nil
}

// ListBeneficiaries implements andes.controller.v1.
func (g *GRPC) ListBeneficiaries(ctx context.Context, req *controllerv1.ListBeneficiariesRequest) (*controllerv1.ListBeneficiariesResponse, error) {
	a, err := g.begin(ctx, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	bs, next, err := g.app.ListBeneficiaries(ctx, a, req.GetCustomerId(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, statusErr(err)
	}
	resp := &controllerv1.ListBeneficiariesResponse{NextPageToken: next}
	for _, b := range bs {
		resp.Beneficiaries = append(resp.Beneficiaries, &controllerv1.Beneficiary{AccountNumber: b.AccountNumber,
			MaskedHolderName: b.MaskedHolderName, Currency: b.Currency, FirstPaidAt: ts(b.FirstPaidAt), LastPaidAt: ts(b.LastPaidAt)})
	}
	return resp, nil
}

// GetDailyLimits implements andes.controller.v1.
func (g *GRPC) GetDailyLimits(ctx context.Context, req *controllerv1.GetDailyLimitsRequest) (*controllerv1.GetDailyLimitsResponse, error) {
	a, err := g.begin(ctx, tokens.ScopeAccountsRead)
	if err != nil {
		return nil, err
	}
	ls, err := g.app.GetDailyLimits(ctx, a, req.GetCustomerId())
	if err != nil {
		return nil, statusErr(err)
	}
	resp := &controllerv1.GetDailyLimitsResponse{}
	for _, d := range ls {
		resp.Limits = append(resp.Limits, dailyProto(d))
	}
	return resp, nil
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func money(m domain.Money) *moneyv1.Money {
	return &moneyv1.Money{AmountMinor: m.Minor, Currency: m.Currency}
}

func fromMoney(m *moneyv1.Money) domain.Money {
	return domain.Money{Minor: m.GetAmountMinor(), Currency: m.GetCurrency()}
}

func dailyProto(d domain.Daily) *controllerv1.DailyLimit {
	return &controllerv1.DailyLimit{Limit: money(d.Limit), Used: money(d.Used), Remaining: money(d.Remaining()), BusinessDate: d.BusinessDate}
}

var accountStatuses = map[string]customerv1.AccountStatus{
	domain.AccountActive:  customerv1.AccountStatus_ACCOUNT_STATUS_ACTIVE,
	domain.AccountBlocked: customerv1.AccountStatus_ACCOUNT_STATUS_BLOCKED,
	domain.AccountClosed:  customerv1.AccountStatus_ACCOUNT_STATUS_CLOSED,
}

func accountProto(a domain.Account) *customerv1.Account {
	return &customerv1.Account{AccountId: a.ID, CustomerId: a.CustomerID, AccountNumber: a.Number, Currency: a.Currency,
		Status: accountStatuses[a.Status], Type: accountTypes[a.Type], OpenedAt: ts(a.OpenedAt)}
}

var accountTypes = map[string]customerv1.AccountType{
	"savings":  customerv1.AccountType_ACCOUNT_TYPE_SAVINGS,
	"checking": customerv1.AccountType_ACCOUNT_TYPE_CHECKING,
}

var (
	types = map[domain.OperationType]controllerv1.OperationType{
		domain.TypeTransfer: controllerv1.OperationType_OPERATION_TYPE_TRANSFER,
		domain.TypeCashIn:   controllerv1.OperationType_OPERATION_TYPE_CASH_IN,
		domain.TypeCashOut:  controllerv1.OperationType_OPERATION_TYPE_CASH_OUT,
	}
	statuses = map[domain.Status]controllerv1.OperationStatus{
		domain.StatusPending:   controllerv1.OperationStatus_OPERATION_STATUS_PENDING,
		domain.StatusCompleted: controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED,
		domain.StatusFailed:    controllerv1.OperationStatus_OPERATION_STATUS_FAILED,
	}
	channels = map[domain.Channel]controllerv1.Channel{
		domain.ChannelMobile:  controllerv1.Channel_CHANNEL_MOBILE,
		domain.ChannelWeb:     controllerv1.Channel_CHANNEL_WEB,
		domain.ChannelPartner: controllerv1.Channel_CHANNEL_PARTNER,
		domain.ChannelAgent:   controllerv1.Channel_CHANNEL_AGENT,
	}
)

func operationProto(op *domain.Operation) *controllerv1.Operation {
	o := &controllerv1.Operation{OperationId: op.ID, Type: types[op.Type], Status: statuses[op.Status], CustomerId: op.CustomerID,
		Amount: money(op.Amount), Description: op.Description, Channel: channels[op.Channel], ClientId: op.ClientID,
		CreatedAt: ts(op.CreatedAt), ResolvedAt: ts(op.ResolvedAt), CoreTransactionId: op.CoreTransactionID}
	if op.Status == domain.StatusFailed {
		o.FailureReason = rpcstatus.Parse(op.FailureReason)
	}
	if op.Type == domain.TypeTransfer {
		o.Details = &controllerv1.Operation_Transfer{Transfer: &controllerv1.TransferDetails{SourceAccountId: op.SourceAccountID,
			DestinationAccountId: op.DestinationAccountID, DestinationAccountNumber: op.DestinationAccountNumber,
			MaskedBeneficiaryName: op.MaskedBeneficiaryName, NewBeneficiary: op.NewBeneficiary}}
	} else {
		o.Details = &controllerv1.Operation_Cash{Cash: &controllerv1.CashDetails{AgentPartnerId: op.AgentPartnerID,
			AccountId: op.AccountID, AccountNumber: op.AccountNumber, AgentReference: op.AgentReference}}
	}
	return o
}

// Codec stores the API's responses against idempotency keys (app.Codec).
type Codec struct{}

var _ app.Codec = Codec{}

// Operation implements app.Codec.
func (Codec) Operation(op *domain.Operation) (app.Stored, error) {
	o := operationProto(op)
	var m proto.Message
	switch op.Type {
	case domain.TypeCashIn:
		m = &controllerv1.CashInResponse{Operation: o}
	case domain.TypeCashOut:
		m = &controllerv1.CashOutResponse{Operation: o}
	default:
		m = &controllerv1.TransferResponse{Operation: o}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	return app.Stored{Body: b}, err
}

// Refusal implements app.Codec.
func (Codec) Refusal(err error) (app.Stored, error) {
	st := toStatus(err)
	if st == nil {
		return app.Stored{}, err
	}
	b, merr := proto.MarshalOptions{Deterministic: true}.Marshal(st.Proto())
	return app.Stored{Code: int(st.Code()), Body: b}, merr
}
