package pgledger

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

// EnsureChart creates the bank's general-ledger accounts (equity, payroll
// clearing, interest expense, fee income, merchant clearing) in every currency,
// keeping those that exist.
func EnsureChart(ctx context.Context, db DB, now time.Time) error {
	for _, class := range domain.GLClasses() {
		for _, cur := range domain.Currencies() {
			if _, err := db.Exec(ctx, `
INSERT INTO accounts (number, class, type, currency, name, status, may_go_negative, opened_at)
VALUES ($1, $2, 'gl', $3, $4, 'active', true, $5)
ON CONFLICT (number) DO NOTHING`,
				domain.GLNumber(class, cur), string(class), cur, domain.GLName(class, cur), now); err != nil {
				return dbErr("chart of accounts", err)
			}
		}
	}
	return nil
}

// SeedReport says what Seed did.
type SeedReport struct {
	Skipped      bool // the dataset was already there
	Customers    int
	Accounts     int
	Transactions int
	Postings     int
}

// seedLock serialises seeders of one database (two processes starting at once).
const seedLock = 0x636f726562616e6b // "corebank"

// Seed loads the demo bank — customers, their accounts and products, the card
// program's settlement account, the agents' accounts — with opening balances
// booked against the equity account and, when history is set, HistoryDays of
// deterministic movements per account that leave each balance at the demo's.
// It runs once per database: a later call finds the seeds row and skips.
//
// Dates are relative to now (history ends before now, business days in Lima);
// everything else derives from the dataset's seed.
func Seed(ctx context.Context, pool *pgxpool.Pool, d *demo.Dataset, now time.Time, history bool) (SeedReport, error) {
	var rep SeedReport
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(seedLock)); err != nil {
			return err
		}
		var seeded int64
		err := tx.QueryRow(ctx, `SELECT seed FROM seeds WHERE name = 'demo'`).Scan(&seeded)
		if err == nil {
			if seeded != int64(d.Seed) {
				return fmt.Errorf("pgledger: the database holds demo seed %d, the dataset is seed %d: use a fresh database", seeded, d.Seed)
			}
			rep.Skipped = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := EnsureChart(ctx, tx, now); err != nil {
			return err
		}
		p, err := plan(ctx, tx, d, now, history)
		if err != nil {
			return err
		}
		if err := p.load(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO seeds (name, seed, seeded_at) VALUES ('demo', $1, $2)`, int64(d.Seed), now); err != nil {
			return err
		}
		rep = SeedReport{Customers: len(p.customers), Accounts: len(p.accounts), Transactions: len(p.txs), Postings: 2 * len(p.txs)}
		return nil
	})
	if err != nil {
		return SeedReport{}, fmt.Errorf("pgledger: seed: %w", err)
	}
	return rep, nil
}

type seedCustomer struct {
	id int64
	c  *demo.Customer
}

type seedAccount struct {
	id            int64
	existing      bool // a chart account already in the table: only its balance changes
	number        string
	customerID    int64
	class         domain.Class
	typ, currency string
	name, status  string
	overdraft     int64
	ledger        int64
	openedAt      time.Time
}

type seedTx struct {
	id            int64
	at            time.Time
	kind          domain.MovementKind
	description   string
	debit, credit int // indexes into plan.accounts
	amount        int64
	debitAfter    int64
	creditAfter   int64
}

type seedProduct struct {
	number, kind, currency string
	customerID             int64
	principal, outstanding int64
	rate                   int
	opened, matures        time.Time
}

type seedPlan struct {
	customers []seedCustomer
	accounts  []seedAccount
	txs       []seedTx
	products  []seedProduct
	gl        map[string]int // "equity/PEN" → index into accounts
	day0      time.Time      // the first business day of the history
}

func plan(ctx context.Context, tx pgx.Tx, d *demo.Dataset, now time.Time, history bool) (*seedPlan, error) {
	p := &seedPlan{gl: map[string]int{}}
	var maxCustomer, maxAccount int64
	if err := tx.QueryRow(ctx, `SELECT (SELECT coalesce(max(id), 0) FROM customers), (SELECT coalesce(max(id), 0) FROM accounts)`).
		Scan(&maxCustomer, &maxAccount); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT id, number, class, currency, ledger_minor FROM accounts WHERE class <> 'customer' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	chart, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (seedAccount, error) {
		var a seedAccount
		var class string
		err := r.Scan(&a.id, &a.number, &class, &a.currency, &a.ledger)
		a.class, a.existing = domain.Class(class), true
		return a, err
	})
	if err != nil {
		return nil, err
	}
	for _, a := range chart {
		p.gl[string(a.class)+"/"+a.currency] = len(p.accounts)
		p.accounts = append(p.accounts, a)
	}

	day0 := businessDay(now).AddDate(0, 0, -d.HistoryDays)
	p.day0 = day0
	nextAccount := maxAccount
	addAccount := func(a seedAccount) int {
		nextAccount++
		a.id = nextAccount
		p.accounts = append(p.accounts, a)
		return len(p.accounts) - 1
	}
	glIndex := func(c domain.Class, cur string) (int, error) {
		i, ok := p.gl[string(c)+"/"+cur]
		if !ok {
			return 0, fmt.Errorf("no %s account in %s: the core keeps %v", c, cur, domain.Currencies())
		}
		return i, nil
	}
	var events []seedTx
	open := func(acct int, amount int64, at time.Time) error {
		if amount <= 0 {
			return nil
		}
		eq, err := glIndex(domain.ClassEquity, p.accounts[acct].currency)
		if err != nil {
			return err
		}
		events = append(events, seedTx{at: at, kind: domain.KindOpening, description: "Saldo de apertura",
			debit: eq, credit: acct, amount: amount})
		return nil
	}

	s := d.Bank.Settlement
	addAccount(seedAccount{number: s.Number, class: domain.ClassSettlement, typ: s.Type, currency: s.Currency,
		name: d.Bank.Name + " card program settlement", status: s.Status, openedAt: day0})
	for _, ag := range d.Agents {
		i := addAccount(seedAccount{number: ag.Account.Number, class: domain.ClassAgent, typ: ag.Account.Type,
			currency: ag.Account.Currency, name: ag.Name, status: ag.Account.Status, openedAt: day0})
		if err := open(i, ag.Account.BalanceMinor, day0.Add(8*time.Hour)); err != nil {
			return nil, err
		}
	}

	for ci := range d.Customers {
		c := &d.Customers[ci]
		id := maxCustomer + int64(ci) + 1
		p.customers = append(p.customers, seedCustomer{id: id, c: c})
		for _, a := range c.Accounts {
			i := addAccount(seedAccount{number: a.Number, customerID: id, class: domain.ClassCustomer, typ: a.Type,
				currency: a.Currency, status: a.Status, overdraft: a.OverdraftMinor, openedAt: day0})
			if err := open(i, a.BalanceMinor, day0.Add(9*time.Hour)); err != nil {
				return nil, err
			}
			if history {
				h, err := accountHistory(d.Seed, p, i, day0, now, glIndex)
				if err != nil {
					return nil, err
				}
				events = append(events, h...)
			}
		}
		p.products = append(p.products, productsOf(d.Seed, ci, c, id, now)...)
	}

	// Ids follow time, so every account's postings are in id order the order
	// they changed its balance, as for live postings.
	slices.SortStableFunc(events, func(a, b seedTx) int { return a.at.Compare(b.at) })
	var maxTx int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM transactions`).Scan(&maxTx); err != nil {
		return nil, err
	}
	for i := range events {
		e := &events[i]
		e.id = maxTx + int64(i) + 1
		p.accounts[e.debit].ledger -= e.amount
		p.accounts[e.credit].ledger += e.amount
		e.debitAfter, e.creditAfter = p.accounts[e.debit].ledger, p.accounts[e.credit].ledger
	}
	p.txs = events
	return p, nil
}

func businessDay(t time.Time) time.Time {
	l := t.In(domain.BusinessZone)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, domain.BusinessZone)
}

var purchases = []string{
	"Compra POS Plaza Vea", "Compra POS Tottus", "Pago Luz del Sur", "Pago Sedapal", "Compra online Falabella",
	"Pago Movistar", "Compra POS Inkafarma", "Pago colegio", "Retiro cajero", "Compra POS Wong",
}

// accountHistory makes an account's weekly cycles: a salary credit, then two
// debits that spend exactly it within the week. Cycles that would reach past now
// are left out, so the balance ends where it started and never dips below it.
func accountHistory(seed uint64, p *seedPlan, acct int, day0, now time.Time,
	glIndex func(domain.Class, string) (int, error),
) ([]seedTx, error) {
	a := p.accounts[acct]
	h := fnv.New64a()
	h.Write([]byte(a.number))
	rng := rand.New(rand.NewPCG(seed, h.Sum64()))
	payroll, err := glIndex(domain.ClassPayroll, a.currency)
	if err != nil {
		return nil, err
	}
	merchant, err := glIndex(domain.ClassMerchant, a.currency)
	if err != nil {
		return nil, err
	}
	base, spread := int64(50_000), 450_000
	if a.currency != "PEN" {
		base, spread = 10_000, 90_000
	}
	var out []seedTx
	for week := 0; ; week++ {
		payday := day0.AddDate(0, 0, 7*week+1+rng.IntN(2)).Add(time.Duration(8*60+rng.IntN(120)) * time.Minute)
		first := payday.Add(time.Duration(24+rng.IntN(48)) * time.Hour).Add(time.Duration(rng.IntN(600)) * time.Minute)
		second := first.Add(time.Duration(48+rng.IntN(48)) * time.Hour).Add(time.Duration(rng.IntN(600)) * time.Minute)
		if !second.Before(now) {
			break
		}
		salary := base + int64(rng.IntN(spread))
		spent := salary * int64(20+rng.IntN(50)) / 100
		out = append(out,
			seedTx{at: payday, kind: domain.KindSalary, description: "Abono de haberes", debit: payroll, credit: acct, amount: salary},
			seedTx{at: first, kind: domain.KindPurchase, description: purchases[rng.IntN(len(purchases))], debit: acct, credit: merchant, amount: spent},
			seedTx{at: second, kind: domain.KindPurchase, description: purchases[rng.IntN(len(purchases))], debit: acct, credit: merchant, amount: salary - spent},
		)
	}
	return out, nil
}

// productsOf gives personas fixed products and a share of generated customers
// drawn ones: a term deposit for about one in five, a loan for one in six.
func productsOf(seed uint64, index int, c *demo.Customer, customerID int64, now time.Time) []seedProduct {
	rng := rand.New(rand.NewPCG(seed^0x70726f64, uint64(index)))
	today := businessDay(now)
	var out []seedProduct
	deposit := c.Key == "maria" || (c.Key == "" && rng.IntN(5) == 0)
	loan := c.Key == "jose" || (c.Key == "" && rng.IntN(6) == 0)
	if deposit {
		opened := today.AddDate(0, 0, -30-rng.IntN(300))
		out = append(out, seedProduct{number: fmt.Sprintf("TD%010d", index+1), kind: "term_deposit", currency: "PEN",
			customerID: customerID, principal: int64(100_000 + rng.IntN(50)*100_000), rate: 350 + rng.IntN(300),
			opened: opened, matures: opened.AddDate(1, 0, 0)})
	}
	if loan {
		opened := today.AddDate(0, 0, -60-rng.IntN(600))
		principal := int64(500_000 + rng.IntN(25)*100_000)
		out = append(out, seedProduct{number: fmt.Sprintf("LN%010d", index+1), kind: "loan", currency: "PEN",
			customerID: customerID, principal: principal, outstanding: principal * int64(30+rng.IntN(60)) / 100,
			rate: 1200 + rng.IntN(2400), opened: opened, matures: opened.AddDate(3, 0, 0)})
	}
	return out
}

// load writes the plan with COPY, then moves the sequences past it.
func (p *seedPlan) load(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"customers"},
		[]string{"id", "number", "document_type", "document_number", "given_names", "family_names", "birth_date", "email", "phone", "created_at"},
		pgx.CopyFromSlice(len(p.customers), func(i int) ([]any, error) {
			c := p.customers[i].c
			born, err := time.Parse(time.DateOnly, c.BirthDate)
			if err != nil {
				return nil, fmt.Errorf("customer %s: birth date: %w", c.CoreNumber, err)
			}
			return []any{p.customers[i].id, c.CoreNumber, c.DocumentType, c.DocumentNumber, c.GivenNames, c.FamilyNames,
				born, c.Email, c.Phone, p.day0}, nil
		})); err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	var fresh []seedAccount
	for _, a := range p.accounts {
		if !a.existing {
			fresh = append(fresh, a)
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"accounts"},
		[]string{"id", "number", "customer_id", "class", "type", "currency", "name", "status", "overdraft_minor", "ledger_minor", "may_go_negative", "opened_at"},
		pgx.CopyFromSlice(len(fresh), func(i int) ([]any, error) {
			a := fresh[i]
			var customer *int64
			if a.customerID != 0 {
				customer = &a.customerID
			}
			return []any{a.id, a.number, customer, string(a.class), a.typ, a.currency, a.name, a.status,
				a.overdraft, a.ledger, a.class.MayGoNegative(), a.openedAt}, nil
		})); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	for _, a := range p.accounts {
		if a.existing {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET ledger_minor = $2 WHERE id = $1`, a.id, a.ledger); err != nil {
				return err
			}
		}
	}
	var lastSeq int64
	if err := tx.QueryRow(ctx, `SELECT last_seq FROM feed_head FOR UPDATE`).Scan(&lastSeq); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"transactions"},
		[]string{"id", "kind", "description", "posted_at", "legs", "feed_first"},
		pgx.CopyFromSlice(len(p.txs), func(i int) ([]any, error) {
			t := p.txs[i]
			return []any{t.id, string(t.kind), t.description, t.at, int16(2), lastSeq + int64(2*i) + 1}, nil
		})); err != nil {
		return fmt.Errorf("transactions: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"postings"},
		[]string{"transaction_id", "leg", "account_id", "amount_minor", "currency", "balance_after", "posted_at"},
		pgx.CopyFromSlice(2*len(p.txs), func(i int) ([]any, error) {
			t := p.txs[i/2]
			if i%2 == 0 {
				d := p.accounts[t.debit]
				return []any{t.id, int16(0), d.id, -t.amount, d.currency, t.debitAfter, t.at}, nil
			}
			c := p.accounts[t.credit]
			return []any{t.id, int16(1), c.id, t.amount, c.currency, t.creditAfter, t.at}, nil
		})); err != nil {
		return fmt.Errorf("postings: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"products"},
		[]string{"number", "customer_id", "kind", "currency", "principal_minor", "outstanding_minor", "rate_bps", "opened_on", "matures_on", "status"},
		pgx.CopyFromSlice(len(p.products), func(i int) ([]any, error) {
			pr := p.products[i]
			return []any{pr.number, pr.customerID, pr.kind, pr.currency, pr.principal, pr.outstanding, int32(pr.rate),
				pr.opened, pr.matures, "active"}, nil
		})); err != nil {
		return fmt.Errorf("products: %w", err)
	}
	_, err := tx.Exec(ctx, `
SELECT setval(pg_get_serial_sequence('customers', 'id'), greatest((SELECT max(id) FROM customers), 1)),
       setval(pg_get_serial_sequence('accounts', 'id'), greatest((SELECT max(id) FROM accounts), 1)),
       setval(pg_get_serial_sequence('transactions', 'id'), greatest((SELECT max(id) FROM transactions), 1))`)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE feed_head SET last_seq = last_seq + $1`, int64(2*len(p.txs)))
	return err
}
