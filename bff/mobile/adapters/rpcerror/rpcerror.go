// Package rpcerror translates the gRPC statuses of the services behind bff-mobile
// into domain errors, once for every client adapter: the reason of the service's
// ErrorInfo is kept (it is the stable andes.errors.v1 list), the service's message
// and domain are dropped, metadata is cut to the keys the reasons document
// (platform/rpcstatus reads the answer).
package rpcerror

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/andes-bank/andes/bff/mobile/domain"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	"github.com/andes-bank/andes/platform/rpcstatus"
)

// Translate turns a client call's error into a domain error. service names the
// peer in the errors that are not refusals (for the log).
func Translate(service string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if _, ok := status.FromError(err); !ok {
		return fmt.Errorf("%s: %w", service, err)
	}
	st := rpcstatus.Read(err)
	if r := refusal(st); r != nil {
		return r
	}
	switch st.Code {
	case codes.Unimplemented:
		return fmt.Errorf("%s: %w", service, domain.ErrNotImplemented)
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return fmt.Errorf("%s answered %s: %w", service, st.Code, domain.ErrUnavailable)
	case codes.Canceled:
		return context.Canceled
	case codes.NotFound:
		return domain.ErrNotFound
	}
	return fmt.Errorf("%s answered %s: %s", service, st.Code, st.Message)
}

// refusal is the peer's reason with the details that go with it, the metadata
// cut to the documented keys; nil when the answer carries no reason.
func refusal(st rpcstatus.Refusal) *domain.Refusal {
	if st.Reason == "" {
		return nil
	}
	r := &domain.Refusal{Reason: st.Reason, Metadata: rpcstatus.Documented(st.Metadata)}
	for _, v := range st.Violations {
		r.Violations = append(r.Violations, domain.FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
	}
	for _, d := range st.Details {
		if d, ok := d.(*authv1.StepUpChallenge); ok {
			r.Challenge = &domain.StepUpChallenge{
				ID:                d.GetChallengeId(),
				Purpose:           strings.TrimPrefix(d.GetPurpose().String(), "STEP_UP_PURPOSE_"),
				Channel:           strings.TrimPrefix(d.GetChannel().String(), "STEP_UP_CHANNEL_"),
				MaskedDestination: d.GetMaskedDestination(),
				ExpiresAt:         d.GetExpiresAt().AsTime(),
				ResendAvailableAt: d.GetResendAvailableAt().AsTime(),
				AttemptsLeft:      d.GetAttemptsLeft(),
			}
		}
	}
	return r
}
