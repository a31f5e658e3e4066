package pgledger

import (
	"context"
	"fmt"
)

// Audit is what an audit of the ledger found; a sound ledger has no Problems.
type Audit struct {
	Accounts     int
	Transactions int
	Postings     int
	// TotalsMinor is the sum of every account's balance per currency: zero in a
	// double-entry book where money enters only against equity.
	TotalsMinor map[string]int64
	Problems    []string
}

// auditChecks are the ledger's invariants, each a query that lists violations.
var auditChecks = []struct{ name, sql string }{
	{"transaction not balanced per currency", `
SELECT 'TX' || transaction_id || ' ' || currency || ' sums to ' || sum(amount_minor)
  FROM postings GROUP BY transaction_id, currency HAVING sum(amount_minor) <> 0 LIMIT 20`},
	{"transaction legs differ from its postings", `
SELECT 'TX' || t.id || ' has ' || count(p.*) || ' postings for ' || t.legs || ' legs'
  FROM transactions t LEFT JOIN postings p ON p.transaction_id = t.id
 GROUP BY t.id, t.legs HAVING count(p.*) <> t.legs LIMIT 20`},
	{"posting in a currency other than its account's", `
SELECT 'TX' || p.transaction_id || ' leg ' || p.leg || ' is ' || p.currency || ' on a ' || a.currency || ' account'
  FROM postings p JOIN accounts a ON a.id = p.account_id WHERE p.currency <> a.currency LIMIT 20`},
	{"stored balance differs from the sum of its postings", `
SELECT a.number || ' stores ' || a.ledger_minor || ', postings sum to ' || coalesce(s.total, 0)
  FROM accounts a LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM postings GROUP BY account_id) s ON s.account_id = a.id
 WHERE a.ledger_minor <> coalesce(s.total, 0) LIMIT 20`},
	{"running balance broken", `
SELECT number || ' TX' || transaction_id || ' balance_after ' || balance_after || ' but running sum ' || running
  FROM (SELECT a.number, p.transaction_id, p.balance_after,
               sum(p.amount_minor) OVER (PARTITION BY p.account_id ORDER BY p.transaction_id) AS running
          FROM postings p JOIN accounts a ON a.id = p.account_id) r
 WHERE balance_after <> running LIMIT 20`},
	{"held amount differs from the pending holds", `
SELECT a.number || ' holds ' || a.held_minor || ', pending holds sum to ' || coalesce(h.total, 0)
  FROM accounts a LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM holds WHERE status = 'pending' GROUP BY account_id) h
       ON h.account_id = a.id
 WHERE a.held_minor <> coalesce(h.total, 0) LIMIT 20`},
	{"spent beyond the overdraft", `
SELECT number || ' available ' || (ledger_minor - held_minor) || ' with overdraft ' || overdraft_minor
  FROM accounts WHERE NOT may_go_negative AND ledger_minor - held_minor + overdraft_minor < 0 LIMIT 20`},
	{"captured hold without its posting", `
SELECT 'HD' || h.id || ' captured ' || h.captured_minor || ' but TX' || coalesce(h.transaction_id::text, '-') || ' differs'
  FROM holds h LEFT JOIN postings p ON p.transaction_id = h.transaction_id AND p.account_id = h.account_id
 WHERE h.status = 'captured' AND (p.amount_minor IS NULL OR -p.amount_minor <> h.captured_minor) LIMIT 20`},
}

// Audit checks every invariant of the book. It reads at one snapshot
// (REPEATABLE READ) when db is a transaction opened so; on the pool, run it
// when nothing is writing.
func (l *Ledger) Audit(ctx context.Context) (Audit, error) {
	a := Audit{TotalsMinor: map[string]int64{}}
	if err := l.db.QueryRow(ctx, `SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM transactions), (SELECT count(*) FROM postings)`).
		Scan(&a.Accounts, &a.Transactions, &a.Postings); err != nil {
		return Audit{}, dbErr("audit", err)
	}
	rows, err := l.db.Query(ctx, `SELECT currency, sum(ledger_minor) FROM accounts GROUP BY currency`)
	if err != nil {
		return Audit{}, dbErr("audit", err)
	}
	var (
		cur   string
		total int64
	)
	if _, err := pgxForEach(rows, &cur, &total, func() { a.TotalsMinor[cur] = total }); err != nil {
		return Audit{}, dbErr("audit", err)
	}
	for c, t := range a.TotalsMinor {
		if t != 0 {
			a.Problems = append(a.Problems, fmt.Sprintf("book not balanced: %s accounts sum to %d", c, t))
		}
	}
	for _, check := range auditChecks {
		rows, err := l.db.Query(ctx, check.sql)
		if err != nil {
			return Audit{}, dbErr("audit: "+check.name, err)
		}
		var msg string
		if _, err := pgxForEach(rows, &msg, nil, func() { a.Problems = append(a.Problems, check.name+": "+msg) }); err != nil {
			return Audit{}, dbErr("audit: "+check.name, err)
		}
	}
	return a, nil
}
