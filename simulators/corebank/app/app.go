// Package app holds the core banking simulator's use cases: which accounts each
// movement may touch, defaults, statements. The ledger itself is behind Ledger,
// implemented by adapters/pgledger.
package app

import (
	"context"
	"time"

	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

// Ledger is the core's book: each write is one statement that either changes the
// balances with their postings or refuses with a *domain.Error.
type Ledger interface {
	Post(ctx context.Context, p domain.Post) (domain.Transaction, error)
	CreateHold(ctx context.Context, h domain.HoldRequest) (domain.Hold, error)
	CaptureHold(ctx context.Context, c domain.Capture) (domain.Hold, domain.Transaction, error)
	VoidHold(ctx context.Context, id int64, at time.Time) (domain.Hold, error)
	CreateCustomer(ctx context.Context, c domain.NewCustomer) (domain.Customer, error)
	OpenAccount(ctx context.Context, a domain.NewAccount) (domain.Account, error)
	SetAccountStatus(ctx context.Context, number, status string) (domain.Account, error)
	Reader
}

// Reader answers questions without changing anything.
type Reader interface {
	Customer(ctx context.Context, number string) (domain.Customer, error)
	CustomerByDocument(ctx context.Context, docType, docNumber string) (domain.Customer, error)
	Accounts(ctx context.Context, customer string) ([]domain.Account, error)
	Account(ctx context.Context, number string) (domain.Account, error)
	BankAccounts(ctx context.Context) ([]domain.Account, error)
	Postings(ctx context.Context, account string, f domain.PostingFilter) ([]domain.Posting, error)
	BalanceBefore(ctx context.Context, account string, before time.Time) (int64, error)
	CustomerPostings(ctx context.Context, customer string, limit int) ([]domain.Posting, error)
	Transaction(ctx context.Context, id int64) (domain.Transaction, error)
	Hold(ctx context.Context, id int64) (domain.Hold, error)
	Products(ctx context.Context, customer string) (domain.Products, error)
	Feed(ctx context.Context, after int64, limit int) (postings []domain.Posting, head int64, err error)
	Operation(ctx context.Context, caller, key string, now time.Time) (domain.Operation, error)
}

// Writes runs a write at most once per idempotency key (platform/idempotency),
// with work's ledger bound to the transaction that also stores its response.
type Writes interface {
	Once(ctx context.Context, scope idempotency.Scope, key string, request []byte,
		work func(ctx context.Context, l Ledger, lease *idempotency.Lease) (idempotency.Response, error)) (idempotency.Response, error)
}

// Snapshots run reads that must agree with each other (a position, a statement
// page with its balances) at one snapshot of the ledger.
type Snapshots interface {
	Consistent(ctx context.Context, fn func(ctx context.Context, r Reader) error) error
}

// Options tune the core.
type Options struct {
	Now     func() time.Time
	HoldTTL time.Duration // default expiry of a hold; 7 days when zero
}

// Core is the simulator's use cases.
type Core struct {
	reader  Reader
	now     func() time.Time
	holdTTL time.Duration
}

// New builds the core on reader (the ledger on the pool).
func New(reader Reader, o Options) *Core {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HoldTTL <= 0 {
		o.HoldTTL = 7 * 24 * time.Hour
	}
	return &Core{reader: reader, now: o.Now, holdTTL: o.HoldTTL}
}

// Now is the core's clock.
func (c *Core) Now() time.Time { return c.now().UTC() }

// Reader is the ledger for reads.
func (c *Core) Reader() Reader { return c.reader }

var (
	customerOnly    = []domain.Class{domain.ClassCustomer}
	transferCredits = []domain.Class{domain.ClassCustomer, domain.ClassSettlement}
	transferDebits  = []domain.Class{domain.ClassCustomer, domain.ClassSettlement}
	agentOnly       = []domain.Class{domain.ClassAgent}
)

// TransferCmd moves money between two accounts of the same currency: customer
// accounts, or the card program's settlement account (card funding and unloading).
type TransferCmd struct {
	Debit, Credit string
	AmountMinor   int64
	Currency      string
	Description   string
	Reference     string
}

// Transfer posts a transfer; op is the idempotency operation id.
func (c *Core) Transfer(ctx context.Context, l Ledger, t TransferCmd, op string) (domain.Transaction, error) {
	p := domain.Post{
		Kind: domain.KindTransfer, Debit: t.Debit, Credit: t.Credit, AmountMinor: t.AmountMinor,
		Currency: t.Currency, Description: t.Description, Reference: t.Reference,
		DebitClasses: transferDebits, CreditClasses: transferCredits, OperationRef: op, At: c.Now(),
	}
	if err := p.Validate(); err != nil {
		return domain.Transaction{}, err
	}
	if err := validReference(t.Reference); err != nil {
		return domain.Transaction{}, err
	}
	return l.Post(ctx, p)
}

func validReference(r string) error {
	if len(r) > 64 {
		return domain.Invalid("reference", "at most 64 bytes")
	}
	return nil
}

// CashCmd is cash handed over at an agent: cash-in credits the customer and
// debits the agent's settlement account (the agent keeps the notes); cash-out the
// reverse. Money is never created: it moves from one to the other.
type CashCmd struct {
	Agent, Account string
	AmountMinor    int64
	Currency       string
	Description    string
	Reference      string
}

// CashIn posts a cash deposit at an agent.
func (c *Core) CashIn(ctx context.Context, l Ledger, cmd CashCmd, op string) (domain.Transaction, error) {
	return c.cash(ctx, l, domain.Post{Kind: domain.KindCashIn, Debit: cmd.Agent, Credit: cmd.Account,
		DebitClasses: agentOnly, CreditClasses: customerOnly}, cmd, op)
}

// CashOut posts a cash withdrawal at an agent.
func (c *Core) CashOut(ctx context.Context, l Ledger, cmd CashCmd, op string) (domain.Transaction, error) {
	return c.cash(ctx, l, domain.Post{Kind: domain.KindCashOut, Debit: cmd.Account, Credit: cmd.Agent,
		DebitClasses: customerOnly, CreditClasses: agentOnly}, cmd, op)
}

func (c *Core) cash(ctx context.Context, l Ledger, p domain.Post, cmd CashCmd, op string) (domain.Transaction, error) {
	if !domain.ValidAccountNumber(cmd.Agent) {
		return domain.Transaction{}, domain.Invalid("agent_account", "%q is not a 14-digit account number with valid check digits", cmd.Agent)
	}
	p.AmountMinor, p.Currency, p.Description, p.Reference = cmd.AmountMinor, cmd.Currency, cmd.Description, cmd.Reference
	p.OperationRef, p.At = op, c.Now()
	if p.Description == "" {
		p.Description = string(p.Kind)
	}
	if err := p.Validate(); err != nil {
		return domain.Transaction{}, err
	}
	if err := validReference(cmd.Reference); err != nil {
		return domain.Transaction{}, err
	}
	return l.Post(ctx, p)
}

// Inject posts a movement the platform did not make (salary, interest, fee)
// against the bank's general-ledger account for it.
func (c *Core) Inject(ctx context.Context, l Ledger, m domain.Movement, op string) (domain.Transaction, error) {
	p, err := m.Post()
	if err != nil {
		return domain.Transaction{}, err
	}
	p.OperationRef, p.At = op, c.Now()
	return l.Post(ctx, p)
}

// HoldCmd reserves money; a zero ExpiresAt takes the default hold lifetime.
type HoldCmd struct {
	Account     string
	AmountMinor int64
	Currency    string
	Description string
	ExpiresAt   time.Time
}

// CreateHold reserves money on a customer account.
func (c *Core) CreateHold(ctx context.Context, l Ledger, cmd HoldCmd, op string) (domain.Hold, error) {
	now := c.Now()
	h := domain.HoldRequest{Account: cmd.Account, AmountMinor: cmd.AmountMinor, Currency: cmd.Currency,
		Description: cmd.Description, ExpiresAt: cmd.ExpiresAt, OperationRef: op, At: now}
	if h.ExpiresAt.IsZero() {
		h.ExpiresAt = now.Add(c.holdTTL)
	}
	if err := h.Validate(); err != nil {
		return domain.Hold{}, err
	}
	return l.CreateHold(ctx, h)
}

// CaptureCmd posts a hold; AmountMinor 0 captures it in full.
type CaptureCmd struct {
	HoldID      int64
	AmountMinor int64
	Credit      string
	Description string
}

// CaptureHold posts a pending hold in full or in part.
func (c *Core) CaptureHold(ctx context.Context, l Ledger, cmd CaptureCmd, op string) (domain.Hold, domain.Transaction, error) {
	cp := domain.Capture{HoldID: cmd.HoldID, AmountMinor: cmd.AmountMinor, Credit: cmd.Credit,
		Description: cmd.Description, OperationRef: op, At: c.Now()}
	if err := cp.Validate(); err != nil {
		return domain.Hold{}, domain.Transaction{}, err
	}
	return l.CaptureHold(ctx, cp)
}

// VoidHold releases a pending hold.
func (c *Core) VoidHold(ctx context.Context, l Ledger, id int64) (domain.Hold, error) {
	return l.VoidHold(ctx, id, c.Now())
}

// CreateCustomer registers a person; the document must be new to the core.
func (c *Core) CreateCustomer(ctx context.Context, l Ledger, nc domain.NewCustomer) (domain.Customer, error) {
	nc.At = c.Now()
	if err := nc.Validate(); err != nil {
		return domain.Customer{}, err
	}
	return l.CreateCustomer(ctx, nc)
}

// OpenAccount opens an account for an existing customer.
func (c *Core) OpenAccount(ctx context.Context, l Ledger, na domain.NewAccount) (domain.Account, error) {
	na.At = c.Now()
	if err := na.Validate(); err != nil {
		return domain.Account{}, err
	}
	if !domain.ValidCustomerNumber(na.Customer) {
		return domain.Account{}, domain.Refuse(domain.ErrCustomerNotFound, "", "customer_number", na.Customer)
	}
	return l.OpenAccount(ctx, na)
}

// SetAccountStatus blocks or unblocks an account (an operator's action).
func (c *Core) SetAccountStatus(ctx context.Context, l Ledger, number, status string) (domain.Account, error) {
	if status != domain.StatusActive && status != domain.StatusBlocked {
		return domain.Account{}, domain.Invalid("status", "%q is not active or blocked", status)
	}
	if !domain.ValidAccountNumber(number) {
		return domain.Account{}, domain.Refuse(domain.ErrAccountNotFound, "", "account", number)
	}
	return l.SetAccountStatus(ctx, number, status)
}

// Statement is an account's movements over business dates with the balances
// around them.
type Statement struct {
	Account      domain.Account
	From, To     string // business dates, inclusive
	OpeningMinor int64
	ClosingMinor int64
	Postings     []domain.Posting
	NextAfterTx  int64 // cursor of the next page; 0 on the last
}

// StatementPage reads one page of a statement: postings oldest first from
// business date from to to inclusive, after transaction afterTx.
//
// Read it with r from Snapshots, so its balances and postings agree.
func (c *Core) StatementPage(ctx context.Context, r Reader, account, from, to string, afterTx int64, limit int) (Statement, error) {
	start, end, err := DateRange(from, to, c.Now())
	if err != nil {
		return Statement{}, err
	}
	acct, err := r.Account(ctx, account)
	if err != nil {
		return Statement{}, err
	}
	opening, err := r.BalanceBefore(ctx, account, start)
	if err != nil {
		return Statement{}, err
	}
	closing, err := r.BalanceBefore(ctx, account, end)
	if err != nil {
		return Statement{}, err
	}
	ps, err := r.Postings(ctx, account, domain.PostingFilter{From: start, To: end, AfterTx: afterTx, Limit: limit + 1, Oldest: true})
	if err != nil {
		return Statement{}, err
	}
	st := Statement{Account: acct, OpeningMinor: opening, ClosingMinor: closing,
		From: start.In(domain.BusinessZone).Format(time.DateOnly), To: end.In(domain.BusinessZone).AddDate(0, 0, -1).Format(time.DateOnly)}
	if len(ps) > limit {
		ps = ps[:limit]
		st.NextAfterTx = ps[len(ps)-1].TransactionID
	}
	st.Postings = ps
	return st, nil
}

// DateRange turns business dates (YYYY-MM-DD, inclusive) into [start, end) instants.
// An empty from means 30 days before to; an empty to means today.
func DateRange(from, to string, now time.Time) (time.Time, time.Time, error) {
	today := now.In(domain.BusinessZone)
	endDay := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, domain.BusinessZone)
	if to != "" {
		d, err := time.ParseInLocation(time.DateOnly, to, domain.BusinessZone)
		if err != nil {
			return time.Time{}, time.Time{}, domain.Invalid("to", "must be YYYY-MM-DD")
		}
		endDay = d
	}
	startDay := endDay.AddDate(0, 0, -30)
	if from != "" {
		d, err := time.ParseInLocation(time.DateOnly, from, domain.BusinessZone)
		if err != nil {
			return time.Time{}, time.Time{}, domain.Invalid("from", "must be YYYY-MM-DD")
		}
		startDay = d
	}
	if startDay.After(endDay) {
		return time.Time{}, time.Time{}, domain.Invalid("from", "must not be after to")
	}
	if endDay.Sub(startDay) > 366*24*time.Hour {
		return time.Time{}, time.Time{}, domain.Invalid("from", "a range spans at most 366 days")
	}
	return startDay.UTC(), endDay.AddDate(0, 0, 1).UTC(), nil
}
