package authorizertest

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/services/authorizer"
	"github.com/andes-bank/andes/services/authorizer/adapters/postgres"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// benchDir is services/authorizer/bench, where the committed pgbench script and
// the benchmark cards' seed live.
func benchDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "bench")
}

// PgbenchPath finds pgbench on PATH or in PostgreSQL 15's folder; ok is false
// when there is none (benchmarks skip).
func PgbenchPath() (path string, ok bool) {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, true
	}
	p := "/usr/lib/postgresql/15/bin/pgbench"
	if _, err := os.Stat(p); err == nil {
		return p, true
	}
	return "", false
}

// SeedBenchCards writes bench/seed.sql's n card accounts and cards (fingerprint
// = the card's number as text, ample funds and limits), the cards pgbench's
// authorize.sql draws from, and refreshes the planner's statistics.
func SeedBenchCards(tb testing.TB, pool *pgxpool.Pool, n int) {
	tb.Helper()
	seed, err := os.ReadFile(filepath.Join(benchDir(), "seed.sql"))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if _, err := pool.Exec(ctx, strings.ReplaceAll(string(seed), ":ncards", strconv.Itoa(n))); err != nil {
		tb.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		tb.Fatal(err)
	}
}

// BenchInput is a purchase of PEN 1.00 on the seeded card n with STAN stan, at now.
func BenchInput(n int, stan int64, now time.Time) *domain.Input {
	s := strconv.FormatInt(stan, 10)
	return &domain.Input{
		ID: postgres.NewID(), EventID: postgres.NewID(), Now: now,
		Family: domain.FamilyAuthorization, MTI: "0100", Fingerprint: []byte(strconv.Itoa(n)), ProcessingCode: "000000",
		// No field empty: pgbench cannot define an empty variable, and both runs
		// take the same values.
		Kind: domain.KindDebit, Channel: domain.ChannelPOS, Amount: 100, Currency: "604",
		BillingAmount: 100, BillingCurrency: "604", Expiry: "2912", PVVUsed: "0000",
		STAN: s, Transmission: "0310143000", AcquirerID: "12345", RRN: s,
		MCC: "5411", MerchantID: "M1", MerchantName: "BODEGA", MerchantCountry: "604", TerminalID: "T1",
		PIN: domain.PINNone, CVV: domain.CVVNone, NetworkTransactionID: s, LCKey: s, OrigKey: s,
		HoldExpiresAt: now.Add(7 * 24 * time.Hour), ApprovalCode: "123456",
	}
}

// Pgbench runs the authorizer's decision statement (bench/authorize.sql),
// prepared, from clients clients for d against the database at dsn, over the
// ncards seeded cards, with the decision pool's session settings.
type Pgbench struct {
	Path    string
	DSN     string
	Clients int
	Cards   int
	// Now is the decisions' clock (default time.Now at the run).
	Now time.Time
}

// Run runs pgbench for d and returns its transactions per second.
func (p Pgbench) Run(ctx context.Context, d time.Duration) (float64, error) {
	args, err := p.args(d)
	if err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, p.Path, args...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	return parseTPS(string(out))
}

// RunAtRate runs pgbench at rate transactions per second for d (open loop:
// pgbench schedules each transaction and counts its latency from the
// scheduled start, as the load generator does) and returns every
// transaction's latency, in the order they were logged.
func (p Pgbench) RunAtRate(ctx context.Context, d time.Duration, rate int) ([]time.Duration, error) {
	dir, err := os.MkdirTemp("", "andes-pgbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	args, err := p.args(d, "-R", strconv.Itoa(rate), "-l", "--log-prefix="+filepath.Join(dir, "tx"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, p.Path, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	logs, err := filepath.Glob(filepath.Join(dir, "tx.*"))
	if err != nil || len(logs) == 0 {
		return nil, fmt.Errorf("pgbench wrote no transaction log (%v)", err)
	}
	var lat []time.Duration
	for _, name := range logs {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		// client_id transaction_no time_us script_no epoch epoch_us [schedule_lag]
		for line := range strings.Lines(string(data)) {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			us, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				continue // "skipped" or "failed"
			}
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
	}
	return lat, nil
}

// args are pgbench's arguments for a run of d, then extra, then the
// connection string.
func (p Pgbench) args(d time.Duration, extra ...string) ([]string, error) {
	u, err := url.Parse(p.DSN)
	if err != nil {
		return nil, err
	}
	// The adapter pool's session settings (libpq reads %20, not +).
	u.RawQuery = "sslmode=disable&options=" + strings.ReplaceAll(url.QueryEscape(
		"-c search_path="+authorizer.Schema+" -c plan_cache_mode=force_generic_plan"), "+", "%20")
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	threads := min(p.Clients, 2)
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(p.Clients), "-j", strconv.Itoa(threads),
		"-T", strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second))),
		"-f", filepath.Join(benchDir(), "authorize.sql"), "-D", "ncards=" + strconv.Itoa(p.Cards)}
	args = append(args, postgres.PgbenchDefines(BenchInput(1, 1, now))...)
	args = append(args, extra...)
	return append(args, u.String()), nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+)`)

func parseTPS(out string) (float64, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m := tpsLine.FindStringSubmatch(sc.Text()); m != nil {
			if v, err := strconv.ParseFloat(m[1], 64); err == nil {
				return v, nil
			}
		}
	}
	return 0, fmt.Errorf("no tps in pgbench output:\n%s", out)
}
