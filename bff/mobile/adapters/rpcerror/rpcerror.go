// Package rpcerror translates the gRPC statuses of the services behind bff-mobile
// into domain errors, once for every client adapter: the reason of the service's
// ErrorInfo is kept (it is the stable andes.errors.v1 list), the service's message
// and domain are dropped, metadata is cut to the keys the reasons document.
package rpcerror

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/andes-bank/andes/bff/mobile/domain"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
)

// documentedMetadata are the ErrorInfo metadata keys andes.errors.v1 documents;
// anything else a service adds stays inside.
var documentedMetadata = map[string]bool{
	"scope": true, "retry_after_seconds": true, "account_id": true, "limit_minor": true,
	"remaining_minor": true, "currency": true, "challenge_id": true, "attempts_left": true,
}

// Translate turns a client call's error into a domain error. service names the
// peer in the errors that are not refusals (for the log).
func Translate(service string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", service, err)
	}
	if r := refusal(st); r != nil {
		return r
	}
	switch st.Code() {
	case codes.Unimplemented:
		return fmt.Errorf("%s: %w", service, domain.ErrNotImplemented)
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return fmt.Errorf("%s answered %s: %w", service, st.Code(), domain.ErrUnavailable)
	case codes.Canceled:
		return context.Canceled
	case codes.NotFound:
		return domain.ErrNotFound
	}
	return fmt.Errorf("%s answered %s: %s", service, st.Code(), st.Message())
}

// refusal reads the status's ErrorInfo and the details that go with it; nil when
// the status carries no reason.
func refusal(st *status.Status) *domain.Refusal {
	var r *domain.Refusal
	var violations []domain.FieldViolation
	var challenge *domain.StepUpChallenge
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetReason() == "" {
				continue
			}
			r = &domain.Refusal{Reason: d.GetReason()}
			for k, v := range d.GetMetadata() {
				if documentedMetadata[k] {
					if r.Metadata == nil {
						r.Metadata = map[string]string{}
					}
					r.Metadata[k] = v
				}
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				violations = append(violations, domain.FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case *authv1.StepUpChallenge:
			challenge = &domain.StepUpChallenge{
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
	if r != nil {
		r.Violations, r.Challenge = violations, challenge
	}
	return r
}
