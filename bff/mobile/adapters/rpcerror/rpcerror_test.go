package rpcerror_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/andes-bank/andes/bff/mobile/adapters/rpcerror"
	"github.com/andes-bank/andes/bff/mobile/domain"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
)

func withDetails(t *testing.T, code codes.Code, msg string, details ...protoadapt.MessageV1) error {
	t.Helper()
	st, err := status.New(code, msg).WithDetails(details...)
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestTranslateKeepsTheReasonAndDocumentedMetadataOnly(t *testing.T) {
	err := rpcerror.Translate("controller", withDetails(t, codes.PermissionDenied, "step-up needed for beneficiary 0011...",
		&errdetails.ErrorInfo{Reason: "STEP_UP_REQUIRED", Domain: "controller.andes.bank",
			Metadata: map[string]string{"challenge_id": "ch-1", "core_customer_number": "C-000123"}},
		&authv1.StepUpChallenge{ChallengeId: "ch-1", Purpose: authv1.StepUpPurpose_STEP_UP_PURPOSE_NEW_BENEFICIARY,
			Channel: authv1.StepUpChannel_STEP_UP_CHANNEL_SMS, AttemptsLeft: 3}))
	var r *domain.Refusal
	if !errors.As(err, &r) || !errors.Is(err, domain.ErrStepUp) {
		t.Fatalf("got %v", err)
	}
	if len(r.Metadata) != 1 || r.Metadata["challenge_id"] != "ch-1" {
		t.Errorf("metadata %v: only documented keys may pass", r.Metadata)
	}
	if c := r.Challenge; c == nil || c.ID != "ch-1" || c.Purpose != "NEW_BENEFICIARY" || c.Channel != "SMS" || c.AttemptsLeft != 3 {
		t.Errorf("challenge %+v", r.Challenge)
	}
}

func TestTranslateWithoutReason(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   error
		refuse bool
	}{
		{"unimplemented", status.Error(codes.Unimplemented, "method Transfer not implemented"), domain.ErrNotImplemented, false},
		{"unavailable", status.Error(codes.Unavailable, "connection refused"), domain.ErrUnavailable, true},
		{"deadline", status.Error(codes.DeadlineExceeded, "deadline"), domain.ErrUnavailable, true},
		{"not found", status.Error(codes.NotFound, "no such account"), domain.ErrNotFound, true},
		{"canceled", status.Error(codes.Canceled, "canceled"), context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rpcerror.Translate("customer", tt.err)
			if !errors.Is(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	var r *domain.Refusal
	if got := rpcerror.Translate("customer", status.Error(codes.Internal, "boom")); got == nil || errors.As(got, &r) {
		t.Fatalf("an internal failure became %v", got)
	}
}
