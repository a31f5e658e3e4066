package ports

import (
	"context"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/andes-bank/andes/bff/web/app"
	"github.com/andes-bank/andes/bff/web/domain"
	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	webv1 "github.com/andes-bank/andes/gen/andes/web/v1"
	"github.com/andes-bank/andes/gen/andes/web/v1/webv1connect"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/tokens"
)

// API is andes.web.v1.WebService: the page's contract, translated to calls on
// customer and controller with the session's access token. The BFF owns no
// accounts or money of its own, so translation between the page's messages and
// the services' is all there is; it lives here, at the port.
type API struct {
	sessions   *app.App
	customer   customerv1.CustomerServiceClient
	controller controllerv1.ControllerServiceClient
}

var _ webv1connect.WebServiceHandler = (*API)(nil)

// NewAPI returns the API.
func NewAPI(sessions *app.App, customer customerv1.CustomerServiceClient, controller controllerv1.ControllerServiceClient) *API {
	return &API{sessions: sessions, customer: customer, controller: controller}
}

// session is the request's live session, put in the context by the HTTP layer.
type sessionKey struct{}

type liveSession struct {
	id string
	s  *domain.Session
}

func withSession(ctx context.Context, id string, s *domain.Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, &liveSession{id: id, s: s})
}

// call is the session of the request and a context carrying its access token.
func call(ctx context.Context) (*liveSession, context.Context, error) {
	ls, _ := ctx.Value(sessionKey{}).(*liveSession)
	if ls == nil {
		return nil, ctx, sessionError(domain.ErrNoSession)
	}
	return ls, tokens.ForwardBearer(ctx, ls.s.Tokens.Access), nil
}

func (a *API) GetSession(ctx context.Context, _ *connect.Request[webv1.GetSessionRequest]) (*connect.Response[webv1.GetSessionResponse], error) {
	ls, _, err := call(ctx)
	if err != nil {
		return nil, err
	}
	s, p := ls.s, a.sessions.Policy()
	return connect.NewResponse(&webv1.GetSessionResponse{
		GivenName: s.GivenName, DisplayName: s.DisplayName, Language: s.Language, CsrfToken: s.CSRF,
		IdleExpiresAt: timestamppb.New(p.IdleExpires(s)), ExpiresAt: timestamppb.New(s.Expires),
	}), nil
}

func (a *API) SetLanguage(ctx context.Context, req *connect.Request[webv1.SetLanguageRequest]) (*connect.Response[webv1.SetLanguageResponse], error) {
	ls, cctx, err := call(ctx)
	if err != nil {
		return nil, err
	}
	lang := domain.NormalizeLanguage(req.Msg.GetLanguage())
	// Preferences are replaced whole: read them, change the language, write back.
	cur, err := a.customer.GetCustomer(cctx, &customerv1.GetCustomerRequest{CustomerId: ls.s.CustomerID})
	if err != nil {
		return nil, backendError(err)
	}
	prefs := proto.Clone(cur.GetCustomer().GetPreferences()).(*customerv1.Preferences)
	if prefs == nil {
		prefs = &customerv1.Preferences{}
	}
	prefs.Language = lang
	if _, err := a.customer.UpdatePreferences(cctx, &customerv1.UpdatePreferencesRequest{CustomerId: ls.s.CustomerID, Preferences: prefs}); err != nil {
		return nil, backendError(err)
	}
	if err := a.sessions.SetLanguage(ctx, ls.id, lang); err != nil {
		return nil, sessionError(err)
	}
	return connect.NewResponse(&webv1.SetLanguageResponse{Language: lang}), nil
}

func (a *API) ListAccounts(ctx context.Context, _ *connect.Request[webv1.ListAccountsRequest]) (*connect.Response[webv1.ListAccountsResponse], error) {
	ls, cctx, err := call(ctx)
	if err != nil {
		return nil, err
	}
	req := &customerv1.GetCustomerViewRequest{CustomerId: ls.s.CustomerID, RequireFresh: ls.s.WantsFresh(a.sessions.Now())}
	view, err := a.customer.GetCustomerView(cctx, req)
	if err != nil && req.RequireFresh {
		// The core is slow or away: the last known balances, marked stale, beat none.
		req.RequireFresh = false
		view, err = a.customer.GetCustomerView(cctx, req)
	}
	if err != nil {
		return nil, backendError(err)
	}
	preferred := view.GetCustomer().GetPreferences().GetDefaultAccountId()
	out := &webv1.ListAccountsResponse{Stale: view.GetStale(), AsOf: view.GetAsOf()}
	for _, av := range view.GetAccounts() {
		acc := accountOf(av.GetAccount(), av.GetBalance())
		if acc.GetAccountId() == preferred {
			out.Accounts = append([]*webv1.Account{acc}, out.Accounts...)
		} else {
			out.Accounts = append(out.Accounts, acc)
		}
	}
	return connect.NewResponse(out), nil
}

func accountOf(acc *customerv1.Account, bal *customerv1.Balance) *webv1.Account {
	kind := webv1.AccountKind_ACCOUNT_KIND_UNSPECIFIED
	switch acc.GetType() {
	case customerv1.AccountType_ACCOUNT_TYPE_SAVINGS:
		kind = webv1.AccountKind_ACCOUNT_KIND_SAVINGS
	case customerv1.AccountType_ACCOUNT_TYPE_CHECKING:
		kind = webv1.AccountKind_ACCOUNT_KIND_CHECKING
	}
	return &webv1.Account{AccountId: acc.GetAccountId(), Kind: kind, AccountNumber: acc.GetAccountNumber(),
		Available: bal.GetAvailable(), Ledger: bal.GetLedger(),
		CanTransact: acc.GetStatus() == customerv1.AccountStatus_ACCOUNT_STATUS_ACTIVE}
}

func movementOf(m *customerv1.Movement) *webv1.Movement {
	party := m.GetCounterpartyName()
	if n := m.GetCounterpartyAccountNumber(); n != "" {
		party = strings.TrimSpace(party + " " + n)
	}
	return &webv1.Movement{MovementId: m.GetMovementId(), BookedAt: m.GetBookedAt(), ValueDate: m.GetValueDate(),
		Amount: m.GetAmount(), BalanceAfter: m.GetBalanceAfter(), Description: m.GetDescription(), Counterparty: party}
}

// pageSize applies the page's defaults and caps.
func pageSize(n, def, maxSize int32) int32 {
	switch {
	case n == 0:
		return def
	case n > maxSize:
		return maxSize
	}
	return n
}

func (a *API) ListMovements(ctx context.Context, req *connect.Request[webv1.ListMovementsRequest]) (*connect.Response[webv1.ListMovementsResponse], error) {
	_, cctx, err := call(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := a.customer.ListMovements(cctx, &customerv1.ListMovementsRequest{AccountId: req.Msg.GetAccountId(),
		PageSize: pageSize(req.Msg.GetPageSize(), 25, 100), PageToken: req.Msg.GetPageToken()})
	if err != nil {
		return nil, backendError(err)
	}
	out := &webv1.ListMovementsResponse{NextPageToken: resp.GetNextPageToken()}
	for _, m := range resp.GetMovements() {
		out.Movements = append(out.Movements, movementOf(m))
	}
	return connect.NewResponse(out), nil
}

func (a *API) ListBeneficiaries(ctx context.Context, req *connect.Request[webv1.ListBeneficiariesRequest]) (*connect.Response[webv1.ListBeneficiariesResponse], error) {
	ls, cctx, err := call(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := a.controller.ListBeneficiaries(cctx, &controllerv1.ListBeneficiariesRequest{CustomerId: ls.s.CustomerID,
		PageSize: pageSize(req.Msg.GetPageSize(), 50, 100), PageToken: req.Msg.GetPageToken()})
	if err != nil {
		return nil, backendError(err)
	}
	out := &webv1.ListBeneficiariesResponse{NextPageToken: resp.GetNextPageToken()}
	for _, b := range resp.GetBeneficiaries() {
		out.Beneficiaries = append(out.Beneficiaries, &webv1.Beneficiary{AccountNumber: b.GetAccountNumber(),
			MaskedName: b.GetMaskedHolderName(), Currency: b.GetCurrency()})
	}
	return connect.NewResponse(out), nil
}

// maskNumber shows the last 4 digits of an account that is not the customer's.
func maskNumber(n string) string {
	if len(n) <= 4 {
		return n
	}
	return "•••• " + n[len(n)-4:]
}

func (a *API) PreviewTransfer(ctx context.Context, req *connect.Request[webv1.PreviewTransferRequest]) (*connect.Response[webv1.PreviewTransferResponse], error) {
	ls, cctx, err := call(ctx)
	if err != nil {
		return nil, err
	}
	in := &controllerv1.PreviewTransferRequest{CustomerId: ls.s.CustomerID, SourceAccountId: req.Msg.GetSourceAccountId(), Amount: req.Msg.GetAmount()}
	own := req.Msg.GetDestinationAccountId() != ""
	if own {
		in.Destination = &controllerv1.PreviewTransferRequest_DestinationAccountId{DestinationAccountId: req.Msg.GetDestinationAccountId()}
	} else {
		in.Destination = &controllerv1.PreviewTransferRequest_DestinationAccountNumber{DestinationAccountNumber: req.Msg.GetDestinationAccountNumber()}
	}
	resp, err := a.controller.PreviewTransfer(cctx, in)
	if err != nil {
		return nil, backendError(err)
	}
	dest := resp.GetDestinationAccountNumber()
	if !own {
		dest = maskNumber(dest)
	}
	return connect.NewResponse(&webv1.PreviewTransferResponse{Beneficiary: resp.GetMaskedBeneficiaryName(), Destination: dest,
		StepUpRequired: resp.GetStepUpRequired(), DailyLimitRemaining: resp.GetDailyLimit().GetRemaining()}), nil
}

func (a *API) Transfer(ctx context.Context, req *connect.Request[webv1.TransferRequest]) (*connect.Response[webv1.TransferResponse], error) {
	ls, cctx, err := call(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	// The page's key goes through as is: the controller scopes keys to (client,
	// subject), so it cannot collide with another customer's or client's.
	in := &controllerv1.TransferRequest{IdempotencyKey: m.GetIdempotencyKey(), CustomerId: ls.s.CustomerID,
		SourceAccountId: m.GetSourceAccountId(), Amount: m.GetAmount(), Description: m.GetDescription(), StepUp: m.GetStepUp()}
	if m.GetDestinationAccountId() != "" {
		in.Destination = &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: m.GetDestinationAccountId()}
	} else {
		in.Destination = &controllerv1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: m.GetDestinationAccountNumber()}
	}
	resp, err := a.controller.Transfer(cctx, in)
	if err != nil {
		return nil, backendError(err)
	}
	// Best effort: without it the next screen may show cached balances a moment.
	_ = a.sessions.NoteWrite(ctx, ls.id)
	return connect.NewResponse(&webv1.TransferResponse{Transfer: a.transferOf(cctx, ls.s.CustomerID, resp.GetOperation())}), nil
}

func (a *API) GetTransfer(ctx context.Context, req *connect.Request[webv1.GetTransferRequest]) (*connect.Response[webv1.GetTransferResponse], error) {
	ls, cctx, err := call(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := a.controller.GetOperation(cctx, &controllerv1.GetOperationRequest{OperationId: req.Msg.GetTransferId()})
	if err != nil {
		return nil, backendError(err)
	}
	op := resp.GetOperation()
	if op.GetType() != controllerv1.OperationType_OPERATION_TYPE_TRANSFER || op.GetCustomerId() != ls.s.CustomerID {
		return nil, refuse(errorsv1.Reason_REASON_NOT_FOUND, nil)
	}
	return connect.NewResponse(&webv1.GetTransferResponse{Transfer: a.transferOf(cctx, ls.s.CustomerID, op)}), nil
}

// transferOf is the receipt; the destination is shown in full only when it is one
// of the customer's own accounts.
func (a *API) transferOf(ctx context.Context, customerID string, op *controllerv1.Operation) *webv1.Transfer {
	d := op.GetTransfer()
	st := webv1.TransferStatus_TRANSFER_STATUS_UNSPECIFIED
	switch op.GetStatus() {
	case controllerv1.OperationStatus_OPERATION_STATUS_PENDING:
		st = webv1.TransferStatus_TRANSFER_STATUS_PENDING
	case controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED:
		st = webv1.TransferStatus_TRANSFER_STATUS_COMPLETED
	case controllerv1.OperationStatus_OPERATION_STATUS_FAILED:
		st = webv1.TransferStatus_TRANSFER_STATUS_FAILED
	}
	dest := maskNumber(d.GetDestinationAccountNumber())
	if id := d.GetDestinationAccountId(); id != "" && !d.GetNewBeneficiary() {
		if acc, err := a.customer.GetAccount(ctx, &customerv1.GetAccountRequest{AccountId: id}); err == nil &&
			acc.GetAccount().GetCustomerId() == customerID {
			dest = d.GetDestinationAccountNumber()
		}
	}
	t := &webv1.Transfer{TransferId: op.GetOperationId(), Status: st, SourceAccountId: d.GetSourceAccountId(),
		Destination: dest, Beneficiary: d.GetMaskedBeneficiaryName(), Amount: op.GetAmount(),
		Description: op.GetDescription(), CreatedAt: op.GetCreatedAt()}
	if st == webv1.TransferStatus_TRANSFER_STATUS_FAILED {
		t.FailureReason = rpcstatus.Wire(op.GetFailureReason())
	}
	return t
}

func (a *API) GetStatement(ctx context.Context, req *connect.Request[webv1.GetStatementRequest]) (*connect.Response[webv1.GetStatementResponse], error) {
	ls, cctx, err := call(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	resp, err := a.controller.GetStatement(cctx, &controllerv1.GetStatementRequest{CustomerId: ls.s.CustomerID, AccountId: m.GetAccountId(),
		FromDate: m.GetFromDate(), ToDate: m.GetToDate(), PageSize: pageSize(m.GetPageSize(), 50, 200), PageToken: m.GetPageToken()})
	if err != nil {
		return nil, backendError(err)
	}
	out := &webv1.GetStatementResponse{Account: accountOf(resp.GetAccount(), nil), OpeningBalance: resp.GetOpeningBalance(),
		ClosingBalance: resp.GetClosingBalance(), NextPageToken: resp.GetNextPageToken()}
	for _, mv := range resp.GetMovements() {
		out.Movements = append(out.Movements, movementOf(mv))
	}
	return connect.NewResponse(out), nil
}
