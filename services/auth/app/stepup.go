package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/andes-bank/andes/services/auth/domain"
)

func (a *App) codeMAC(challengeID, code string) string {
	m := hmac.New(sha256.New, a.d.Secrets.Derive("step-up-code"))
	m.Write([]byte(challengeID + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

func bindingKey(binding string) string {
	sum := sha256.Sum256([]byte(binding))
	return hex.EncodeToString(sum[:])
}

// NewID returns a random UUID (version 4).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// SendStepUpCode sends a one-time code for a purpose bound to one request. Asked
// again for the same customer, purpose and binding before the resend time, it
// answers the pending challenge and sends nothing.
func (a *App) SendStepUpCode(ctx context.Context, customerID string, purpose domain.StepUpPurpose, binding, lang string, origin Origin) (domain.StepUpChallenge, error) {
	if _, err := a.d.Users.User(ctx, customerID); err != nil {
		return domain.StepUpChallenge{}, err
	}
	phone, err := a.d.Phones.Phone(ctx, customerID)
	if err != nil {
		return domain.StepUpChallenge{}, err
	}
	now := a.d.Now()
	c := domain.StepUpChallenge{ID: NewID(), CustomerID: customerID, Purpose: purpose, MaskedDestination: domain.MaskPhone(phone),
		ExpiresAt: now.Add(domain.StepUpCodeTTL), ResendAvailableAt: now.Add(domain.StepUpResendAfter), AttemptsLeft: domain.StepUpAttempts}
	code := domain.NewStepUpCode()
	bk := bindingKey(binding)
	cur, created, err := a.d.StepUps.Start(ctx, c, bk, a.codeMAC(c.ID, code), now)
	if err != nil || !created {
		return cur, err
	}
	// The challenge id is the SMS's idempotency key: a retried send is one SMS.
	if err := a.d.SMS.Send(ctx, "step-up-"+c.ID, phone, domain.StepUpText(code, purpose, lang)); err != nil {
		a.d.Logger.WarnContext(ctx, "one-time code not sent", "err", err, "challenge", c.ID)
		_ = a.d.StepUps.Forget(ctx, c, bk)
		a.Audit(ctx, domain.AuditEvent{Action: domain.ActionStepUpSent, Failure: "sms_unavailable", CustomerID: customerID,
			OriginIP: origin.IP, UserAgent: origin.UserAgent, Detail: string(purpose)})
		return domain.StepUpChallenge{}, domain.ErrSMSUnavailable
	}
	a.Audit(ctx, domain.AuditEvent{Action: domain.ActionStepUpSent, Success: true, CustomerID: customerID,
		OriginIP: origin.IP, UserAgent: origin.UserAgent, Detail: string(purpose) + " challenge=" + c.ID})
	return c, nil
}

// VerifyStepUpCode checks a code; a right code may be checked again and answers
// the same.
func (a *App) VerifyStepUpCode(ctx context.Context, customerID, binding, challengeID, code string, origin Origin) (domain.StepUpChallenge, error) {
	c, err := a.d.StepUps.Verify(ctx, challengeID, customerID, bindingKey(binding), a.codeMAC(challengeID, code), a.d.Now())
	ev := domain.AuditEvent{Action: domain.ActionStepUpVerified, Success: err == nil, CustomerID: customerID,
		OriginIP: origin.IP, UserAgent: origin.UserAgent, Detail: "challenge=" + challengeID}
	switch {
	case err == nil:
	case errors.Is(err, domain.ErrStepUpCodeInvalid):
		ev.Failure = "code_invalid"
	case errors.Is(err, domain.ErrStepUpExpired):
		ev.Failure = "expired"
	default:
		return c, err
	}
	a.Audit(ctx, ev)
	return c, err
}
