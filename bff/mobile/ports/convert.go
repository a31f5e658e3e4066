package ports

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/andes-bank/andes/bff/mobile/domain"
	mobilev1 "github.com/andes-bank/andes/gen/andes/mobile/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
)

func homeProto(h domain.Home) *mobilev1.HomeResponse {
	resp := &mobilev1.HomeResponse{
		GivenName:       h.GivenName,
		Accounts:        make([]*mobilev1.Account, 0, len(h.Accounts)),
		LatestMovements: make([]*mobilev1.Movement, 0, len(h.LatestMovements)),
		Stale:           h.Stale,
		AsOf:            timestamp(h.AsOf),
	}
	for _, a := range h.Accounts {
		resp.Accounts = append(resp.Accounts, accountProto(a))
	}
	for _, m := range h.LatestMovements {
		resp.LatestMovements = append(resp.LatestMovements, movementProto(m))
	}
	for _, s := range h.Missing {
		resp.MissingSections = append(resp.MissingSections, sectionProto(s))
	}
	return resp
}

func sectionProto(s domain.Section) mobilev1.HomeSection {
	switch s {
	case domain.SectionProfile:
		return mobilev1.HomeSection_HOME_SECTION_PROFILE
	case domain.SectionAccounts:
		return mobilev1.HomeSection_HOME_SECTION_ACCOUNTS
	case domain.SectionMovements:
		return mobilev1.HomeSection_HOME_SECTION_MOVEMENTS
	}
	return mobilev1.HomeSection_HOME_SECTION_UNSPECIFIED
}

func accountProto(a domain.Account) *mobilev1.Account {
	kind := mobilev1.AccountKind_ACCOUNT_KIND_UNSPECIFIED
	switch a.Kind {
	case domain.AccountKindSavings:
		kind = mobilev1.AccountKind_ACCOUNT_KIND_SAVINGS
	case domain.AccountKindChecking:
		kind = mobilev1.AccountKind_ACCOUNT_KIND_CHECKING
	}
	return &mobilev1.Account{
		AccountId:    a.ID,
		Kind:         kind,
		MaskedNumber: maskNumber(a.Number),
		Available:    moneyProto(a.Available),
		Ledger:       moneyProto(a.Ledger),
		CanTransact:  a.Active,
	}
}

// maskNumber keeps the last 4 digits: "•••• 4821".
func maskNumber(n string) string {
	if len(n) <= 4 {
		return "•••• " + n
	}
	return "•••• " + n[len(n)-4:]
}

func movementProto(m domain.Movement) *mobilev1.Movement {
	return &mobilev1.Movement{
		MovementId:   m.ID,
		AccountId:    m.AccountID,
		BookedAt:     timestamp(m.BookedAt),
		Amount:       moneyProto(m.Amount),
		Description:  m.Description,
		Counterparty: m.Counterparty,
	}
}

func transferRequest(r *mobilev1.TransferRequest) domain.TransferRequest {
	t := domain.TransferRequest{
		IdempotencyKey:           r.GetIdempotencyKey(),
		SourceAccountID:          r.GetSourceAccountId(),
		DestinationAccountID:     r.GetDestinationAccountId(),
		DestinationAccountNumber: r.GetDestinationAccountNumber(),
		Amount:                   domain.Money{AmountMinor: r.GetAmount().GetAmountMinor(), Currency: r.GetAmount().GetCurrency()},
		Description:              r.GetDescription(),
	}
	if p := r.GetStepUp(); p != nil {
		t.StepUp = &domain.StepUpProof{ChallengeID: p.GetChallengeId(), Code: p.GetCode()}
	}
	return t
}

func transferProto(t domain.Transfer) *mobilev1.Transfer {
	status := mobilev1.TransferStatus_TRANSFER_STATUS_UNSPECIFIED
	switch t.Status {
	case domain.TransferPending:
		status = mobilev1.TransferStatus_TRANSFER_STATUS_PENDING
	case domain.TransferCompleted:
		status = mobilev1.TransferStatus_TRANSFER_STATUS_COMPLETED
	case domain.TransferFailed:
		status = mobilev1.TransferStatus_TRANSFER_STATUS_FAILED
	}
	return &mobilev1.Transfer{
		TransferId:    t.ID,
		Status:        status,
		Amount:        moneyProto(t.Amount),
		Beneficiary:   t.Beneficiary,
		CreatedAt:     timestamp(t.CreatedAt),
		FailureReason: t.FailureReason,
	}
}

func moneyProto(m domain.Money) *moneyv1.Money {
	return &moneyv1.Money{AmountMinor: m.AmountMinor, Currency: m.Currency}
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
