// Package ports serves andes.mobile.v1 with connect-go: Connect, gRPC and gRPC-Web
// on one handler. Requests are validated (platform/validation), the customer is the
// verified token's subject, and the token itself is forwarded to the services
// behind as "authorization" metadata, so they check ownership for the customer.
package ports

import (
	"context"
	"log/slog"
	"net/http"

	"connectrpc.com/connect"

	"github.com/andes-bank/andes/bff/mobile/app"
	"github.com/andes-bank/andes/bff/mobile/domain"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	mobilev1 "github.com/andes-bank/andes/gen/andes/mobile/v1"
	"github.com/andes-bank/andes/gen/andes/mobile/v1/mobilev1connect"
	"github.com/andes-bank/andes/platform/tokens"
	"github.com/andes-bank/andes/platform/validation"
)

// Connect implements mobilev1connect.MobileServiceHandler.
type Connect struct {
	app       *app.App
	validator *validation.Validator
	log       *slog.Logger
}

var _ mobilev1connect.MobileServiceHandler = (*Connect)(nil)

// NewConnect returns the handler's implementation.
func NewConnect(a *app.App, log *slog.Logger) (*Connect, error) {
	v, err := validation.New()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Connect{app: a, validator: v, log: log}, nil
}

// Handler returns the path and handler to mount: verifier checks the bearer
// token of every call before anything else runs.
func (c *Connect) Handler(verifier *tokens.Verifier) (string, http.Handler) {
	return mobilev1connect.NewMobileServiceHandler(c, connect.WithInterceptors(
		verifier.ConnectInterceptor(tokens.RPCOptions{Domain: string(errorDomain)}),
		customerToken{},
		c.validator.ConnectInterceptor(errorDomain),
	))
}

// Home implements mobilev1connect.MobileServiceHandler.
func (c *Connect) Home(ctx context.Context, req *connect.Request[mobilev1.HomeRequest]) (*connect.Response[mobilev1.HomeResponse], error) {
	h, err := c.app.Home(ctx, customer(ctx))
	if err != nil {
		return nil, c.toConnect(ctx, err)
	}
	return connect.NewResponse(homeProto(h)), nil
}

// ListMovements implements mobilev1connect.MobileServiceHandler.
func (c *Connect) ListMovements(ctx context.Context, req *connect.Request[mobilev1.ListMovementsRequest]) (*connect.Response[mobilev1.ListMovementsResponse], error) {
	ms, next, err := c.app.ListMovements(ctx, req.Msg.GetAccountId(), int(req.Msg.GetPageSize()), req.Msg.GetPageToken())
	if err != nil {
		return nil, c.toConnect(ctx, err)
	}
	resp := &mobilev1.ListMovementsResponse{Movements: make([]*mobilev1.Movement, 0, len(ms)), NextPageToken: next}
	for _, m := range ms {
		resp.Movements = append(resp.Movements, movementProto(m))
	}
	return connect.NewResponse(resp), nil
}

// Transfer implements mobilev1connect.MobileServiceHandler.
func (c *Connect) Transfer(ctx context.Context, req *connect.Request[mobilev1.TransferRequest]) (*connect.Response[mobilev1.TransferResponse], error) {
	t, err := c.app.Transfer(ctx, customer(ctx), transferRequest(req.Msg))
	if err != nil {
		return nil, c.toConnect(ctx, err)
	}
	return connect.NewResponse(&mobilev1.TransferResponse{Transfer: transferProto(t)}), nil
}

// GetTransfer implements mobilev1connect.MobileServiceHandler.
func (c *Connect) GetTransfer(ctx context.Context, req *connect.Request[mobilev1.GetTransferRequest]) (*connect.Response[mobilev1.GetTransferResponse], error) {
	t, err := c.app.GetTransfer(ctx, req.Msg.GetTransferId())
	if err != nil {
		return nil, c.toConnect(ctx, err)
	}
	return connect.NewResponse(&mobilev1.GetTransferResponse{Transfer: transferProto(t)}), nil
}

// customer is the verified token's customer; customerToken made sure there is one.
func customer(ctx context.Context) domain.Customer {
	return domain.Customer{ID: tokens.FromContext(ctx).Subject}
}

// customerToken runs after the token is verified: it lets through only tokens
// that act for a customer and carry the method's scope, and forwards the token to
// the services behind, so that they check what the customer may see.
type customerToken struct{}

func (customerToken) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		p := tokens.FromContext(ctx)
		raw, ok := tokens.BearerToken(req.Header().Get("Authorization"))
		if p == nil || !ok || !p.IsCustomer() {
			// A partner's or a machine's token is valid elsewhere, not here.
			return nil, refuse(errorsv1.Reason_REASON_INVALID_TOKEN, nil)
		}
		scope := tokens.ScopeAccountsRead
		if req.Spec().Procedure == mobilev1connect.MobileServiceTransferProcedure {
			scope = tokens.ScopeTransfersWrite
		}
		if err := tokens.RequireScope(ctx, scope); err != nil {
			return nil, err
		}
		ctx = tokens.ForwardBearer(ctx, raw)
		return next(ctx, req)
	}
}

func (customerToken) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler refuses streams: andes.mobile.v1 has none, and a stream
// would pass without the customer checks.
func (customerToken) WrapStreamingHandler(connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(context.Context, connect.StreamingHandlerConn) error {
		return refuse(errorsv1.Reason_REASON_NOT_IMPLEMENTED, nil)
	}
}
