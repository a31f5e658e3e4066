package corebank

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/facade/domain"
)

// businessZone is the core's business time zone (Peru, UTC-5 all year): value
// dates are its calendar days.
var businessZone = time.FixedZone("PET", -5*60*60)

func toProfile(c api.Customer) domain.Profile {
	return domain.Profile{CustomerNumber: c.CustomerNumber, DocumentType: fromCoreDocument(c.DocumentType),
		DocumentNumber: c.DocumentNumber, GivenNames: c.GivenNames, FamilyNames: c.FamilyNames, BirthDate: c.BirthDate,
		Email: c.Email, Phone: c.Phone}
}

// The core spells passports PAS.
func toCoreDocument(t string) string {
	if t == domain.DocumentPassport {
		return "PAS"
	}
	return t
}

func fromCoreDocument(t string) string {
	if t == "PAS" {
		return domain.DocumentPassport
	}
	return t
}

func toCoreAccountType(t domain.AccountType) string {
	if t == domain.AccountChecking {
		return "checking"
	}
	return "savings"
}

func toAccount(a api.Account) domain.Account {
	out := domain.Account{Number: a.AccountNumber, CustomerNumber: a.CustomerNumber, Currency: a.Currency,
		Ledger:    domain.Money{Minor: a.Balance.LedgerMinor, Currency: a.Currency},
		Available: domain.Money{Minor: a.Balance.AvailableMinor + a.Balance.OverdraftLimitMinor, Currency: a.Currency},
		Overdraft: domain.Money{Minor: a.Balance.OverdraftLimitMinor, Currency: a.Currency},
		OpenedAt:  a.OpenedAt}
	switch a.Type {
	case "savings":
		out.Type = domain.AccountSavings
	case "checking":
		out.Type = domain.AccountChecking
	}
	switch a.Status {
	case "active":
		out.Status = domain.AccountActive
	case "blocked":
		out.Status = domain.AccountBlocked
	case "closed":
		out.Status = domain.AccountClosed
	}
	return out
}

func toMovement(p api.Posting) domain.Movement {
	m := domain.Movement{
		PostingID: p.TransactionID + "-" + strconv.Itoa(p.Leg), AccountNumber: p.AccountNumber, BookedAt: p.PostedAt,
		ValueDate:    p.PostedAt.In(businessZone).Format(time.DateOnly),
		Amount:       domain.Money{Minor: p.AmountMinor, Currency: p.Currency},
		BalanceAfter: domain.Money{Minor: p.BalanceAfterMinor, Currency: p.Currency},
		Description:  p.Description,
	}
	switch p.Kind {
	case "transfer":
		m.Kind = domain.MovementTransferIn
		if p.AmountMinor < 0 {
			m.Kind = domain.MovementTransferOut
		}
	case "cash_in":
		m.Kind = domain.MovementCashIn
	case "cash_out":
		m.Kind = domain.MovementCashOut
	case "salary":
		m.Kind = domain.MovementSalary
	case "interest":
		m.Kind = domain.MovementInterest
	case "fee":
		m.Kind = domain.MovementFee
	default:
		m.Kind = domain.MovementOther
	}
	// The facade puts "<caller>:<operation id>" in the reference of what it
	// posts; the caller sees its own operation id.
	if _, op, ok := strings.Cut(p.Reference, ":"); ok {
		m.OperationID = op
	}
	return m
}

func toSnapshot(p api.Position) domain.Snapshot {
	s := domain.Snapshot{Profile: toProfile(p.Customer), AsOf: p.AsOf,
		Accounts:        make([]domain.Account, 0, len(p.Accounts)),
		LatestMovements: make([]domain.Movement, 0, len(p.LatestPostings))}
	for _, a := range p.Accounts {
		s.Accounts = append(s.Accounts, toAccount(a))
	}
	for _, d := range p.Products.TermDeposits {
		s.Products = append(s.Products, domain.Product{ID: d.Number, Type: domain.ProductTermDeposit,
			Name: "Term deposit " + d.Number, Amount: domain.Money{Minor: d.PrincipalMinor, Currency: d.Currency}, DueDate: d.MaturesOn})
	}
	for _, l := range p.Products.Loans {
		s.Products = append(s.Products, domain.Product{ID: l.Number, Type: domain.ProductLoan,
			Name: "Loan " + l.Number, Amount: domain.Money{Minor: l.OutstandingMinor, Currency: l.Currency}, DueDate: l.MaturesOn})
	}
	if cp := p.Products.CardProgram; cp.Fundings > 0 || cp.FundedMinor != 0 {
		s.Products = append(s.Products, domain.Product{ID: "card-program", Type: domain.ProductCardProgram,
			Name: "Prepaid card program", Amount: domain.Money{Minor: cp.FundedMinor, Currency: cp.Currency}})
	}
	for i, p := range p.LatestPostings {
		if i == domain.LatestMovements {
			break
		}
		s.LatestMovements = append(s.LatestMovements, toMovement(p))
	}
	return s
}

func toTransaction(t api.Transaction) domain.Transaction {
	out := domain.Transaction{Status: domain.TransactionCompleted, CoreTransactionID: t.TransactionID, PostedAt: t.PostedAt}
	seen := map[string]bool{}
	for _, p := range t.Postings {
		if p.CustomerNumber != "" && !seen[p.CustomerNumber] {
			seen[p.CustomerNumber] = true
			out.Customers = append(out.Customers, p.CustomerNumber)
		}
	}
	return out
}

// storedAnswer decodes the answer the core stored for a completed operation:
// a refusal, or the transaction, customer or account the write made.
func storedAnswer(op api.Operation) domain.Operation {
	out := domain.Operation{State: domain.OperationDone}
	if op.HTTPStatus >= 300 {
		out.Refusal = translate(op.HTTPStatus, http.Header{}, op.Response)
		return out
	}
	var shape struct {
		TransactionID  string `json:"transaction_id"`
		AccountNumber  string `json:"account_number"`
		DocumentNumber string `json:"document_number"`
	}
	_ = json.Unmarshal(op.Response, &shape)
	switch {
	case shape.TransactionID != "":
		var t api.Transaction
		if json.Unmarshal(op.Response, &t) == nil {
			tx := toTransaction(t)
			out.Transaction = &tx
		}
	case shape.AccountNumber != "":
		var a api.Account
		if json.Unmarshal(op.Response, &a) == nil {
			acct := toAccount(a)
			out.Account = &acct
		}
	case shape.DocumentNumber != "":
		var c api.Customer
		if json.Unmarshal(op.Response, &c) == nil {
			p := toProfile(c)
			out.Profile = &p
		}
	}
	return out
}
