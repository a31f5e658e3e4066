package pgledger_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/simulators/corebank/adapters/pgledger"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

const schema = "corebank"

// newPool gives the test a fresh database with the ledger's schema migrated.
func newPool(tb testing.TB, maxConns int32) *pgxpool.Pool {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := postgres.Open(ctx, postgres.Config{URL: testenv.PostgresURL(tb), Schema: schema, MaxConns: maxConns})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	if err := pgledger.Migrate(ctx, pool, schema); err != nil {
		tb.Fatal(err)
	}
	return pool
}

func loadDemo(tb testing.TB, path string) *demo.Dataset {
	tb.Helper()
	d, err := demo.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// fixture is a small bank made through the ledger itself: a customer with
// accounts funded from equity.
type fixture struct {
	l   *pgledger.Ledger
	now time.Time
	ops atomic.Int64
}

func newFixture(tb testing.TB, pool *pgxpool.Pool) *fixture {
	tb.Helper()
	f := &fixture{l: pgledger.On(pool), now: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}
	if err := pgledger.EnsureChart(context.Background(), pool, f.now); err != nil {
		tb.Fatal(err)
	}
	return f
}

func (f *fixture) customer(tb testing.TB, doc string) domain.Customer {
	tb.Helper()
	c, err := f.l.CreateCustomer(context.Background(), domain.NewCustomer{DocumentType: "DNI", DocumentNumber: doc,
		GivenNames: "Test", FamilyNames: "Person " + doc, BirthDate: "1990-01-01", Email: "t" + doc + "@example.com",
		Phone: "+51999999999", At: f.now})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// account opens an account and funds it from equity with an opening entry.
func (f *fixture) account(tb testing.TB, customer, typ, currency string, overdraft, balance int64) string {
	tb.Helper()
	a, err := f.l.OpenAccount(context.Background(), domain.NewAccount{Customer: customer, Type: typ, Currency: currency,
		OverdraftMinor: overdraft, At: f.now})
	if err != nil {
		tb.Fatal(err)
	}
	if balance > 0 {
		if _, err := f.l.Post(context.Background(), f.post(domain.Post{Kind: domain.KindOpening,
			Debit: domain.GLNumber(domain.ClassEquity, currency), Credit: a.Number, AmountMinor: balance, Currency: currency,
			DebitClasses: []domain.Class{domain.ClassEquity}, CreditClasses: []domain.Class{domain.ClassCustomer}})); err != nil {
			tb.Fatal(err)
		}
	}
	return a.Number
}

// post fills in what every test posting needs: a fresh operation ref and the clock.
func (f *fixture) post(p domain.Post) domain.Post {
	if p.OperationRef == "" {
		p.OperationRef = fmt.Sprintf("op-%d", f.ops.Add(1))
	}
	if p.At.IsZero() {
		p.At = f.now
	}
	if p.Description == "" {
		p.Description = string(p.Kind)
	}
	return p
}

var customerToCustomer = []domain.Class{domain.ClassCustomer}

func transfer(from, to string, amount int64, currency string) domain.Post {
	return domain.Post{Kind: domain.KindTransfer, Debit: from, Credit: to, AmountMinor: amount, Currency: currency,
		DebitClasses: customerToCustomer, CreditClasses: customerToCustomer}
}

// audit fails the test on any broken invariant.
func audit(tb testing.TB, l *pgledger.Ledger) pgledger.Audit {
	tb.Helper()
	a, err := l.Audit(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range a.Problems {
		tb.Error("audit: " + p)
	}
	return a
}
