// Package auth is the controller's client of auth's one-time codes (step-up).
package auth

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

// Client calls auth over conn.
type Client struct {
	api authv1.AuthServiceClient
}

var _ app.StepUp = (*Client)(nil)

// New returns a client on conn.
func New(conn grpc.ClientConnInterface) *Client {
	return &Client{api: authv1.NewAuthServiceClient(conn)}
}

// RetryMethods: sending is idempotent on (customer, purpose, binding), and
// verifying a right code again answers the same.
var RetryMethods = []string{
	"andes.auth.v1.AuthService/SendStepUpCode",
	"andes.auth.v1.AuthService/VerifyStepUpCode",
}

var purposes = map[string]authv1.StepUpPurpose{
	domain.PurposeNewBeneficiary: authv1.StepUpPurpose_STEP_UP_PURPOSE_NEW_BENEFICIARY,
	domain.PurposeCashOut:        authv1.StepUpPurpose_STEP_UP_PURPOSE_CASH_OUT,
}

func translate(err error) error {
	r := rpcstatus.Read(err)
	switch {
	case r.Is(errorsv1.Reason_REASON_STEP_UP_CODE_INVALID):
		n, _ := strconv.Atoi(r.Metadata[rpcstatus.KeyAttemptsLeft])
		return &domain.StepUpInvalid{AttemptsLeft: n}
	case r.Is(errorsv1.Reason_REASON_STEP_UP_EXPIRED):
		return domain.ErrStepUpExpired
	case r.Is(errorsv1.Reason_REASON_NOT_FOUND), r.Is(errorsv1.Reason_REASON_VALIDATION_FAILED):
		// No credentials or no phone on file: the customer cannot receive a code.
		return &domain.InvalidError{Field: "customer_id", Description: "the customer cannot receive one-time codes"}
	case r.Is(errorsv1.Reason_REASON_DEPENDENCY_UNAVAILABLE), r.Code == codes.Unavailable, r.Code == codes.DeadlineExceeded:
		return domain.ErrUnavailable
	}
	return fmt.Errorf("auth: %v", err)
}

// Send implements app.StepUp.
func (c *Client) Send(ctx context.Context, customerID, purpose, binding string) (domain.Challenge, error) {
	resp, err := c.api.SendStepUpCode(ctx, &authv1.SendStepUpCodeRequest{CustomerId: customerID, Purpose: purposes[purpose], Binding: binding})
	if err != nil {
		return domain.Challenge{}, translate(err)
	}
	ch := resp.GetChallenge()
	return domain.Challenge{ID: ch.GetChallengeId(), Purpose: purpose, MaskedDestination: ch.GetMaskedDestination(),
		ExpiresAt: ch.GetExpiresAt().AsTime(), ResendAvailableAt: ch.GetResendAvailableAt().AsTime(),
		AttemptsLeft: int(ch.GetAttemptsLeft())}, nil
}

// Verify implements app.StepUp.
func (c *Client) Verify(ctx context.Context, customerID, binding string, proof domain.Proof) error {
	_, err := c.api.VerifyStepUpCode(ctx, &authv1.VerifyStepUpCodeRequest{CustomerId: customerID, Binding: binding,
		Proof: &authv1.StepUpProof{ChallengeId: proof.ChallengeID, Code: proof.Code}})
	if err != nil {
		return translate(err)
	}
	return nil
}
