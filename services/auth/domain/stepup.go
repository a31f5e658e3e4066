package domain

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// StepUpPurpose says what a one-time code authorizes (andes.auth.v1.StepUpPurpose).
type StepUpPurpose string

// Purposes.
const (
	PurposeBindDevice     StepUpPurpose = "bind_device"
	PurposeNewBeneficiary StepUpPurpose = "new_beneficiary"
	PurposeCashOut        StepUpPurpose = "cash_out"
	PurposeChangeContact  StepUpPurpose = "change_contact"
)

// Step-up policy.
const (
	StepUpCodeTTL     = 5 * time.Minute
	StepUpResendAfter = 30 * time.Second
	StepUpAttempts    = 3
)

// Errors of step-up.
var (
	ErrStepUpCodeInvalid = errors.New("one-time code is wrong")
	ErrStepUpExpired     = errors.New("one-time code expired, used up, or for another request")
	ErrNoPhone           = errors.New("the customer has no phone on file")
	ErrSMSUnavailable    = errors.New("the SMS gateway is unavailable")
)

// StepUpInvalid is a wrong code, with the attempts left.
type StepUpInvalid struct{ AttemptsLeft int }

func (e *StepUpInvalid) Error() string        { return ErrStepUpCodeInvalid.Error() }
func (e *StepUpInvalid) Is(target error) bool { return target == ErrStepUpCodeInvalid }

// StepUpChallenge is a one-time code sent to a customer.
type StepUpChallenge struct {
	ID                string
	CustomerID        string
	Purpose           StepUpPurpose
	MaskedDestination string
	ExpiresAt         time.Time
	ResendAvailableAt time.Time
	AttemptsLeft      int
	VerifiedAt        time.Time
}

// NewStepUpCode returns six random digits.
func NewStepUpCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000)) // crypto/rand never fails on Linux
	return fmt.Sprintf("%06d", n.Int64())
}

// MaskPhone shows where a code went without the whole number: "+51 9** *** 321".
func MaskPhone(p string) string {
	if len(p) < 8 || p[0] != '+' {
		return "***"
	}
	digits := p[3:]
	masked := []byte{}
	for i := range len(digits) {
		switch {
		case i == 0 || i >= len(digits)-3:
			masked = append(masked, digits[i])
		default:
			masked = append(masked, '*')
		}
		if (i+1)%3 == 0 && i != len(digits)-1 {
			masked = append(masked, ' ')
		}
	}
	return p[:3] + " " + string(masked)
}

// StepUpText is the SMS, in Spanish or English.
func StepUpText(code string, purpose StepUpPurpose, lang string) string {
	if len(lang) >= 2 && lang[:2] == "en" {
		what := map[StepUpPurpose]string{PurposeBindDevice: "link a new phone", PurposeNewBeneficiary: "pay a new beneficiary",
			PurposeCashOut: "confirm a cash withdrawal", PurposeChangeContact: "change your contact details"}[purpose]
		return fmt.Sprintf("Banco Andes: %s is your code to %s. It expires in 5 minutes. Never share it.", code, what)
	}
	what := map[StepUpPurpose]string{PurposeBindDevice: "vincular un nuevo celular", PurposeNewBeneficiary: "pagar a un nuevo beneficiario",
		PurposeCashOut: "confirmar un retiro de efectivo", PurposeChangeContact: "cambiar tus datos de contacto"}[purpose]
	return fmt.Sprintf("Banco Andes: %s es tu código para %s. Vence en 5 minutos. No lo compartas con nadie.", code, what)
}
