// Package bench is the core's transfer benchmark kit, shared by the ledger's
// benchmark (the posting statement alone, pgledger) and the API's (HTTPS with
// mutual TLS and idempotency keys, package corebank): the benchmark bank, the key
// spread, a fixed-length load driver, and pgbench running transfer.sql — exactly
// pgledger.PostSQL — against the same database as the reference measured in the
// same run (design handbook, section 14).
package bench

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/simulators/corebank/adapters/pgledger"
	"github.com/andes-bank/andes/simulators/corebank/domain"
)

// Script is transfer.sql: PostSQL with its parameters as pgbench variables
// (pgledger's TestBenchScriptIsPostSQL keeps the two equal).
//
//go:embed transfer.sql
var Script string

// The benchmark bank: Accounts customer accounts numbered (Base + i) plus check
// digits, each funded from equity so that transfers of Amount never run dry.
const (
	Accounts      = 1000
	Base          = 191009000000
	Amount        = 100
	PgbenchBinary = "/usr/lib/postgresql/15/bin/pgbench"
)

// Posted is the posting time of benchmark transfers made below the API.
var Posted = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// Number is benchmark account i (1 to Accounts).
func Number(i int) string { return domain.WithCheckDigits(strconv.Itoa(Base + i)) }

// Pick draws two distinct accounts uniformly: the key spread of transfer.sql.
func Pick(rng *rand.Rand) (debit, credit string) {
	i := 1 + rng.IntN(Accounts)
	j := 1 + (i+rng.IntN(Accounts-1))%Accounts
	return Number(i), Number(j)
}

var customerToCustomer = []domain.Class{domain.ClassCustomer}

// Transfer is a benchmark transfer below the API, with operation ref op.
func Transfer(debit, credit, op string) domain.Post {
	return domain.Post{Kind: domain.KindTransfer, Debit: debit, Credit: credit, AmountMinor: Amount, Currency: "PEN",
		Description: "bench", Reference: "bench", OperationRef: op, At: Posted,
		DebitClasses: customerToCustomer, CreditClasses: customerToCustomer}
}

// Seed adds the benchmark bank to a migrated ledger (another bank may already be
// there: the accounts are in branch 009, which nothing else uses) and analyses it.
func Seed(ctx context.Context, pool *pgxpool.Pool) error {
	l := pgledger.On(pool)
	if err := pgledger.EnsureChart(ctx, pool, Posted); err != nil {
		return err
	}
	c, err := l.CreateCustomer(ctx, domain.NewCustomer{DocumentType: "CE", DocumentNumber: "999000000001",
		GivenNames: "Bench", FamilyNames: "Customer", BirthDate: "1990-01-01", Email: "bench@example.com",
		Phone: "+51999999999", At: Posted})
	if err != nil {
		return fmt.Errorf("bench: customer: %w", err)
	}
	var customerID int64
	if err := pool.QueryRow(ctx, `SELECT id FROM customers WHERE number = $1`, c.Number).Scan(&customerID); err != nil {
		return fmt.Errorf("bench: customer: %w", err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"accounts"},
		[]string{"number", "customer_id", "class", "type", "currency", "status", "may_go_negative", "opened_at"},
		pgx.CopyFromSlice(Accounts, func(i int) ([]any, error) {
			return []any{Number(i + 1), customerID, "customer", "savings", "PEN", "active", false, Posted}, nil
		})); err != nil {
		return fmt.Errorf("bench: accounts: %w", err)
	}
	for i := 1; i <= Accounts; i++ {
		if _, err := l.Post(ctx, domain.Post{Kind: domain.KindOpening, Debit: domain.GLNumber(domain.ClassEquity, "PEN"),
			Credit: Number(i), AmountMinor: 1_000_000_000_000, Currency: "PEN", Description: "opening",
			OperationRef: "bench-opening-" + strconv.Itoa(i), At: Posted,
			DebitClasses: []domain.Class{domain.ClassEquity}, CreditClasses: customerToCustomer}); err != nil {
			return fmt.Errorf("bench: opening balance: %w", err)
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

var (
	tpsLine    = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	failedLine = regexp.MustCompile(`number of failed transactions: ([1-9][0-9]*)`)
)

// Pgbench runs Script with clients connections for d against the database at url
// (the ledger in schema, seeded with Seed) and returns its transactions per second.
func Pgbench(ctx context.Context, url, schema string, clients int, d time.Duration) (float64, error) {
	script, err := os.CreateTemp("", "corebank-transfer-*.sql")
	if err != nil {
		return 0, err
	}
	defer os.Remove(script.Name())
	if _, err := script.WriteString(Script); err != nil {
		return 0, err
	}
	if err := script.Close(); err != nil {
		return 0, err
	}
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, runtime.GOMAXPROCS(0))),
		"-T", strconv.Itoa(int(d.Seconds())), "-f", script.Name(),
		"-D", "accounts=" + strconv.Itoa(Accounts), "-D", "base=" + strconv.Itoa(Base),
		"-D", "amount=" + strconv.Itoa(Amount), "-D", "currency=PEN", "-D", "kind=transfer",
		"-D", "description=bench", "-D", "reference=bench", "-D", "posted_at=" + Posted.Format(time.RFC3339),
		"-D", "debit_classes={customer}", "-D", "credit_classes={customer}", url}
	cmd := exec.CommandContext(ctx, PgbenchBinary, args...)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, errors.New("pgbench: no tps in its output:\n" + string(out))
	}
	if failed := failedLine.FindSubmatch(out); failed != nil {
		return 0, fmt.Errorf("pgbench: %s transactions failed:\n%s", failed[1], out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// Drive runs transfer from clients goroutines, each with its own random source,
// for d, and returns the transfers per second; the first error stops it. Calls
// in flight at the end finish rather than being cancelled, which would cost their
// database connections.
func Drive(ctx context.Context, clients int, d time.Duration, transfer func(ctx context.Context, rng *rand.Rand) error) (float64, error) {
	var (
		done     atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
		firstErr atomic.Value
	)
	start := time.Now()
	deadline := start.Add(d)
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 11))
			for !stop.Load() && ctx.Err() == nil && time.Now().Before(deadline) {
				if err := transfer(ctx, rng); err != nil {
					firstErr.CompareAndSwap(nil, err)
					stop.Store(true)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}
