package ports

import (
	"time"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

func toCustomer(c domain.Customer) api.Customer {
	return api.Customer{CustomerNumber: c.Number, DocumentType: c.DocumentType, DocumentNumber: c.DocumentNumber,
		GivenNames: c.GivenNames, FamilyNames: c.FamilyNames, BirthDate: c.BirthDate, Email: c.Email, Phone: c.Phone,
		CreatedAt: c.CreatedAt.UTC()}
}

func toAccount(a domain.Account, now time.Time) api.Account {
	return api.Account{
		AccountNumber: a.Number, CustomerNumber: a.CustomerNumber, Class: string(a.Class), Type: a.Type,
		Currency: a.Currency, Name: a.Name, Status: a.Status, OpenedAt: a.OpenedAt.UTC(),
		Balance: toBalance(a, now),
	}
}

func toBalance(a domain.Account, now time.Time) api.Balance {
	return api.Balance{Currency: a.Currency, LedgerMinor: a.LedgerMinor, AvailableMinor: a.AvailableMinor(),
		HeldMinor: a.HeldMinor, OverdraftLimitMinor: a.OverdraftMinor, AsOf: now.UTC()}
}

func toAccounts(as []domain.Account, now time.Time) []api.Account {
	out := make([]api.Account, len(as))
	for i, a := range as {
		out[i] = toAccount(a, now)
	}
	return out
}

func toPosting(p domain.Posting) api.Posting {
	return api.Posting{Seq: p.Seq, TransactionID: domain.FormatTxID(p.TransactionID), Leg: p.Leg,
		AccountNumber: p.AccountNumber, CustomerNumber: p.CustomerNumber, AmountMinor: p.AmountMinor,
		Currency: p.Currency, BalanceAfterMinor: p.BalanceAfterMinor, Kind: string(p.Kind),
		Description: p.Description, Reference: p.Reference, PostedAt: p.PostedAt.UTC()}
}

func toPostings(ps []domain.Posting) []api.Posting {
	out := make([]api.Posting, len(ps))
	for i, p := range ps {
		out[i] = toPosting(p)
	}
	return out
}

func toTransaction(t domain.Transaction) api.Transaction {
	out := api.Transaction{TransactionID: domain.FormatTxID(t.ID), Status: "posted", Kind: string(t.Kind),
		Description: t.Description, Reference: t.Reference, PostedAt: t.PostedAt.UTC(), Postings: toPostings(t.Postings)}
	for _, p := range t.Postings {
		if p.AmountMinor > 0 {
			out.AmountMinor += p.AmountMinor
			out.Currency = p.Currency
		}
		if held, ok := t.HeldAfter[p.AccountNumber]; ok {
			out.Balances = append(out.Balances, api.AccountState{AccountNumber: p.AccountNumber,
				LedgerMinor: p.BalanceAfterMinor, AvailableMinor: p.BalanceAfterMinor - held})
		}
	}
	return out
}

func toHold(h domain.Hold, capture *domain.Transaction) api.Hold {
	out := api.Hold{HoldID: domain.FormatHoldID(h.ID), Account: h.Account, AmountMinor: h.AmountMinor,
		CapturedMinor: h.CapturedMinor, Currency: h.Currency, Status: h.Status, Description: h.Description,
		CreatedAt: h.CreatedAt.UTC(), ExpiresAt: h.ExpiresAt.UTC()}
	if !h.ClosedAt.IsZero() {
		closed := h.ClosedAt.UTC()
		out.ClosedAt = &closed
	}
	if capture != nil {
		t := toTransaction(*capture)
		out.Transaction = &t
	}
	return out
}

func toProducts(p domain.Products) api.Products {
	out := api.Products{TermDeposits: []api.TermDeposit{}, Loans: []api.Loan{},
		CardProgram: api.CardProgram{SettlementAccount: p.CardProgram.SettlementAccount, Currency: p.CardProgram.Currency,
			FundedMinor: p.CardProgram.FundedMinor, Fundings: p.CardProgram.Fundings}}
	for _, d := range p.TermDeposits {
		out.TermDeposits = append(out.TermDeposits, api.TermDeposit{Number: d.Number, Currency: d.Currency,
			PrincipalMinor: d.PrincipalMinor, RateBps: d.RateBps, OpenedOn: d.OpenedOn, MaturesOn: d.MaturesOn, Status: d.Status})
	}
	for _, l := range p.Loans {
		out.Loans = append(out.Loans, api.Loan{Number: l.Number, Currency: l.Currency, PrincipalMinor: l.PrincipalMinor,
			OutstandingMinor: l.OutstandingMinor, RateBps: l.RateBps, OpenedOn: l.OpenedOn, MaturesOn: l.MaturesOn, Status: l.Status})
	}
	return out
}
