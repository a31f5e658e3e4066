package domain

import "time"

// Money is an amount in minor units of a currency; never a float.
type Money struct {
	Minor    int64
	Currency string
}

// Balance is an account's balances as the core reported them.
type Balance struct {
	Ledger, Available, Overdraft Money
}

// CoreAccount is an account as the core's snapshot shows it, by account number.
type CoreAccount struct {
	AccountNumber string
	Status        string
	Balance       Balance
}

// Product kinds.
const (
	ProductTermDeposit = "term_deposit"
	ProductLoan        = "loan"
	ProductCard        = "card"
)

// Product is a deposit, loan or card summary.
type Product struct {
	ID      string
	Type    string
	Name    string
	Amount  Money
	DueDate string
}

// Movement is one posting. AccountNumber is the core's; AccountID is filled in by
// the customer service.
type Movement struct {
	ID                        string
	AccountNumber             string
	AccountID                 string
	BookedAt                  time.Time
	ValueDate                 string
	Amount                    Money
	BalanceAfter              Money
	Description               string
	Kind                      int32 // the contract's MovementKind number, same in facade and customer
	CounterpartyName          string
	CounterpartyAccountNumber string
	OperationID               string
}

// Snapshot is the facade's consolidated object for one core customer.
type Snapshot struct {
	Accounts        []CoreAccount
	Products        []Product
	LatestMovements []Movement
	AsOf            time.Time
	FreshUntil      time.Time
	Stale           bool
}

// AccountView is an owned account with its balance.
type AccountView struct {
	Account *Account
	Balance Balance
}

// View is the consolidated view the gateways show, in Andes ids.
type View struct {
	Customer        *Customer
	Accounts        []AccountView
	Products        []Product
	LatestMovements []Movement
	AsOf            time.Time
	Stale           bool
}

// BuildView joins a snapshot to the accounts Andes knows the customer owns: accounts
// the core lists but Andes does not record as the customer's are left out (ownership
// is the customer service's), closed ones too; movements get Andes account ids and
// masked counterparties. The view is stale when the facade said so or its freshness
// has passed by now.
func BuildView(c *Customer, owned []*Account, s *Snapshot, now time.Time) *View {
	byNumber := make(map[string]*Account, len(owned))
	for _, a := range owned {
		byNumber[a.AccountNumber] = a
	}
	v := &View{Customer: c, Products: s.Products, AsOf: s.AsOf,
		Stale: s.Stale || (!s.FreshUntil.IsZero() && now.After(s.FreshUntil))}
	for _, ca := range s.Accounts {
		a, ok := byNumber[ca.AccountNumber]
		if !ok || ca.Status == AccountClosed || a.Status == AccountClosed {
			continue
		}
		shown := *a
		if ca.Status != "" {
			// The core's status is the newer truth about blocking.
			shown.Status = ca.Status
		}
		v.Accounts = append(v.Accounts, AccountView{Account: &shown, Balance: ca.Balance})
	}
	for _, m := range s.LatestMovements {
		a, ok := byNumber[m.AccountNumber]
		if !ok {
			continue
		}
		m.AccountID = a.ID
		m.CounterpartyAccountNumber = MaskAccountNumber(m.CounterpartyAccountNumber)
		v.LatestMovements = append(v.LatestMovements, m)
		if len(v.LatestMovements) == 20 {
			break
		}
	}
	return v
}
