// Package controller is bff-mobile's client of the controller
// (andes.controller.v1): transfers and their state, with the end user's token that
// the context carries.
package controller

import (
	"context"

	"google.golang.org/grpc"

	"github.com/andes-bank/andes/bff/mobile/adapters/rpcerror"
	"github.com/andes-bank/andes/bff/mobile/app"
	"github.com/andes-bank/andes/bff/mobile/domain"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// RetryMethods are safe to send again when the controller was unavailable: a
// transfer carries its idempotency key, so a repeat never pays twice.
var RetryMethods = []string{
	"andes.controller.v1.ControllerService/Transfer",
	"andes.controller.v1.ControllerService/GetOperation",
}

// Client implements app.Payments over gRPC.
type Client struct {
	api controllerv1.ControllerServiceClient
}

var _ app.Payments = (*Client)(nil)

// New returns a client on conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{api: controllerv1.NewControllerServiceClient(conn)}
}

const service = "controller"

// Transfer implements app.Payments.
func (c *Client) Transfer(ctx context.Context, customerID string, r domain.TransferRequest) (domain.Transfer, error) {
	req := &controllerv1.TransferRequest{
		IdempotencyKey:  r.IdempotencyKey,
		CustomerId:      customerID,
		SourceAccountId: r.SourceAccountID,
		Amount:          &moneyv1.Money{AmountMinor: r.Amount.AmountMinor, Currency: r.Amount.Currency},
		Description:     r.Description,
	}
	if r.DestinationAccountID != "" {
		req.Destination = &controllerv1.TransferRequest_DestinationAccountId{DestinationAccountId: r.DestinationAccountID}
	} else {
		req.Destination = &controllerv1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: r.DestinationAccountNumber}
	}
	if r.StepUp != nil {
		req.StepUp = &authv1.StepUpProof{ChallengeId: r.StepUp.ChallengeID, Code: r.StepUp.Code}
	}
	resp, err := c.api.Transfer(ctx, req)
	if err != nil {
		return domain.Transfer{}, rpcerror.Translate(service, err)
	}
	return transfer(resp.GetOperation()), nil
}

// GetTransfer implements app.Payments. An operation that is not a transfer is
// not one the app can show: NOT_FOUND, as for another customer's.
func (c *Client) GetTransfer(ctx context.Context, transferID string) (domain.Transfer, error) {
	resp, err := c.api.GetOperation(ctx, &controllerv1.GetOperationRequest{OperationId: transferID})
	if err != nil {
		return domain.Transfer{}, rpcerror.Translate(service, err)
	}
	if resp.GetOperation().GetType() != controllerv1.OperationType_OPERATION_TYPE_TRANSFER {
		return domain.Transfer{}, domain.ErrNotFound
	}
	return transfer(resp.GetOperation()), nil
}

func transfer(op *controllerv1.Operation) domain.Transfer {
	t := domain.Transfer{
		ID:          op.GetOperationId(),
		Amount:      domain.Money{AmountMinor: op.GetAmount().GetAmountMinor(), Currency: op.GetAmount().GetCurrency()},
		Beneficiary: op.GetTransfer().GetMaskedBeneficiaryName(),
		CreatedAt:   op.GetCreatedAt().AsTime(),
	}
	switch op.GetStatus() {
	case controllerv1.OperationStatus_OPERATION_STATUS_PENDING:
		t.Status = domain.TransferPending
	case controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED:
		t.Status = domain.TransferCompleted
	case controllerv1.OperationStatus_OPERATION_STATUS_FAILED:
		t.Status = domain.TransferFailed
		t.FailureReason = rpcstatus.Wire(op.GetFailureReason())
	}
	return t
}
