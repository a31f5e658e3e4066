// Package postgres is the authorizer's card ledger in PostgreSQL: its migrations,
// the one-statement decisions (sql/*.sql), card administration and the data keys.
//
// # One statement per decision
//
// Each network message costs one round trip: authorize.sql (0100/0101),
// advice.sql (0120/0121, 0220/0221) or reversal.sql (04x0/04x1), each a single
// statement of CTEs that reads, decides and writes — the decision, the hold, the
// counters, the postings and the outbox event — at READ COMMITTED, with no
// application lock. Why it is right under any concurrency on one account:
//
//   - The card account row is read FOR UPDATE. In READ COMMITTED that waits for
//     any writer of the row and returns its latest committed version, not the
//     snapshot's, so the balance, the rolling 30-day slots, the ATM count and the
//     PIN tries the decision reads are current, and stay so until commit. Every
//     statement that changes an account (decisions, funding, hold expiry) locks
//     this row first, so decisions on one account are serialized by it, and the
//     counters are columns on it: nothing is summed at decision time.
//   - The life cycle (card_transactions) is locked after the account, always in
//     that order, so no two statements wait for each other in opposite orders.
//   - What the snapshot cannot show — a row inserted by a statement that
//     committed while this one waited — is caught by unique indexes: the
//     duplicate key of authorizations and the (card, life cycle key) of
//     card_transactions. The losing statement fails as a whole (nothing it wrote
//     survives) and Decide runs it again; its new snapshot sees the winner, and it
//     answers as a duplicate, as an incremental, or as the late original of an
//     early reversal. This costs a second round trip only in those races.
//   - PIN and CVV are verified by the HSM before the statement, which receives the
//     verdicts; the PVV a PIN was checked against travels with them, and a
//     statement that finds another one on the card answers RV (verify again).
//
// Balances change only together with their postings (each posting one debit and
// one credit of the same amount) or their holds, in the same statement; the tests
// check every balance against the sum of its postings and pending holds.
package postgres

import (
	"embed"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/outbox"
	"github.com/andes-bank/andes/platform/postgres"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed sql/authorize.sql
var authorizeSQL string

//go:embed sql/advice.sql
var adviceSQL string

//go:embed sql/reversal.sql
var reversalSQL string

//go:embed sql/expire.sql
var expireSQL string

// AuthorizeSQL is the authorization decision statement, for the pgbench script
// that measures it (bench/authorize.sql).
func AuthorizeSQL() string { return authorizeSQL }

// Migrations are every set the authorizer's schema needs, in order: the outbox
// first, since the decision statements write to it.
func Migrations() []postgres.Migrations {
	return []postgres.Migrations{
		outbox.Migrations(),
		idempotency.Migrations(),
		{Name: "authorizer", FS: migrationFiles, Dir: "migrations"},
	}
}

// DecisionURL adds to a connection string the pool size and the session setting
// that makes PostgreSQL plan each prepared decision statement once: planning one
// costs about as much as running it, and its best plan does not depend on the
// values. maxConns <= 0 keeps the pool's default size.
func DecisionURL(url string, maxConns int) string {
	settings := []string{"plan_cache_mode=force_generic_plan"}
	if maxConns > 0 {
		settings = append(settings, "pool_max_conns="+strconv.Itoa(maxConns))
	}
	switch {
	case url == "":
		return url
	case strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://"):
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		return url + sep + strings.Join(settings, "&")
	}
	return url + " " + strings.Join(settings, " ")
}

// Store is the card ledger.
type Store struct {
	pool *pgxpool.Pool
}

// New returns the store on a pool opened on the authorizer's schema and migrated.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool is the pool, for the idempotency store that shares it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
