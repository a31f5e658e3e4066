package pgledger

// PostSQL moves money between two accounts in ONE statement (one round trip, one
// commit in autocommit): it locks both accounts in id order (so two transfers in
// opposite directions cannot deadlock), decides on the locked rows, applies the
// debit only under that verdict (available + overdraft >= amount), applies the
// credit only if the debit happened, and inserts the transaction and its two
// balanced postings only if both did. A balance therefore never changes without
// its postings; the accounts_available CHECK is the last line of defence.
//
// Both the guard and the new balances are computed from the locked rows, never
// from the UPDATE's own scan. At READ COMMITTED that scan sees the statement's
// snapshot: a balance another transaction changed since would be the old one.
// PostgreSQL re-checks a WHERE clause against the newest version only for rows
// that passed it on the old one, and it checks CHECK constraints on the row
// computed from the old version before it notices the newer one — so a guard or
// a "SET ledger = ledger - x" on the scanned row would skip good transfers or
// fail them with a false constraint violation. The locked values are the newest
// and cannot change until commit, so every column the CHECK reads is set from
// them ("SET ledger = locked.ledger - x, held = locked.held"): exact, and the
// UPDATEs' conditions (row id, verdict) are the same in every version.
//
// bench/transfer.sql runs this exact statement under pgbench (TestBenchScriptIsPostSQL
// keeps them equal). Parameters:
//
//	$1 debit account number    $5 kind           $9  posted at
//	$2 credit account number   $6 description    $10 classes the debit account may be of
//	$3 amount (minor units)    $7 reference      $11 classes the credit account may be of
//	$4 currency                $8 operation ref (unique: one posting per operation)
//
// It answers one row: the verdict ("ok" or why not), the transaction id, both
// accounts' ledger and held amounts after, and the debit's spendable amount
// (available plus overdraft) as locked.
const PostSQL = `
WITH pair AS (
    SELECT id, number, class, currency, status, ledger_minor, held_minor, overdraft_minor, may_go_negative
      FROM accounts
     WHERE number IN ($1::text, $2::text)
     ORDER BY id
       FOR UPDATE
), d AS (
    SELECT * FROM pair WHERE number = $1::text
), c AS (
    SELECT * FROM pair WHERE number = $2::text
), verdict AS (
    SELECT CASE
        WHEN $1::text = $2::text                                      THEN 'same_account'
        WHEN NOT EXISTS (SELECT FROM d)                               THEN 'debit_not_found'
        WHEN NOT EXISTS (SELECT FROM c)                               THEN 'credit_not_found'
        WHEN (SELECT class FROM d) <> ALL ($10::text[])               THEN 'debit_not_allowed'
        WHEN (SELECT class FROM c) <> ALL ($11::text[])               THEN 'credit_not_allowed'
        WHEN (SELECT status FROM d) <> 'active'                       THEN 'debit_blocked'
        WHEN (SELECT status FROM c) <> 'active'                       THEN 'credit_blocked'
        WHEN (SELECT currency FROM d) <> (SELECT currency FROM c)     THEN 'currency_mismatch'
        WHEN (SELECT currency::text FROM d) <> $4::text               THEN 'amount_currency_mismatch'
        WHEN NOT (SELECT may_go_negative OR ledger_minor - held_minor + overdraft_minor >= $3::bigint FROM d)
                                                                      THEN 'insufficient_funds'
        ELSE 'ok'
    END AS outcome
), debit AS (
    UPDATE accounts a
       SET ledger_minor = (SELECT ledger_minor FROM d) - $3::bigint,
           held_minor = (SELECT held_minor FROM d)
     WHERE a.id = (SELECT id FROM d)
       AND (SELECT outcome FROM verdict) = 'ok'
    RETURNING a.id, a.ledger_minor, a.held_minor
), credit AS (
    UPDATE accounts a
       SET ledger_minor = (SELECT ledger_minor FROM c) + $3::bigint,
           held_minor = (SELECT held_minor FROM c)
     WHERE a.id = (SELECT id FROM c)
       AND EXISTS (SELECT FROM debit)
    RETURNING a.id, a.ledger_minor, a.held_minor
), txn AS (
    INSERT INTO transactions (kind, op_ref, description, reference, posted_at, legs)
    SELECT $5::text, $8::text, $6::text, $7::text, $9::timestamptz, 2
     WHERE EXISTS (SELECT FROM credit)
    RETURNING id
), legs AS (
    INSERT INTO postings (transaction_id, leg, account_id, amount_minor, currency, balance_after, posted_at)
    SELECT txn.id, 0, debit.id, -$3::bigint, $4::text, debit.ledger_minor, $9::timestamptz FROM txn, debit
    UNION ALL
    SELECT txn.id, 1, credit.id, $3::bigint, $4::text, credit.ledger_minor, $9::timestamptz FROM txn, credit
)
SELECT v.outcome, t.id, db.ledger_minor, db.held_minor, cr.ledger_minor, cr.held_minor,
       (SELECT ledger_minor - held_minor + overdraft_minor FROM d)
  FROM verdict v
  LEFT JOIN txn t ON true
  LEFT JOIN debit db ON true
  LEFT JOIN credit cr ON true`

// holdSQL reserves money on a customer account: held_minor grows under the same
// guard as a debit, and the hold row is inserted in the same statement.
//
//	$1 account  $2 amount  $3 currency  $4 description  $5 operation ref  $6 now  $7 expires at
const holdSQL = `
WITH acct AS (
    SELECT id, class, currency, status, ledger_minor, held_minor, overdraft_minor
      FROM accounts
     WHERE number = $1::text
       FOR UPDATE
), verdict AS (
    SELECT CASE
        WHEN NOT EXISTS (SELECT FROM acct)                                      THEN 'not_found'
        WHEN (SELECT class FROM acct) <> 'customer'                             THEN 'not_allowed'
        WHEN (SELECT status FROM acct) <> 'active'                              THEN 'blocked'
        WHEN (SELECT currency::text FROM acct) <> $3::text                      THEN 'currency_mismatch'
        WHEN (SELECT ledger_minor - held_minor + overdraft_minor FROM acct) < $2::bigint THEN 'insufficient_funds'
        ELSE 'ok'
    END AS outcome
), upd AS (
    UPDATE accounts a
       SET held_minor = (SELECT held_minor FROM acct) + $2::bigint,
           ledger_minor = (SELECT ledger_minor FROM acct)
     WHERE a.id = (SELECT id FROM acct)
       AND (SELECT outcome FROM verdict) = 'ok'
    RETURNING a.id, a.ledger_minor, a.held_minor
), h AS (
    INSERT INTO holds (op_ref, account_id, amount_minor, currency, status, description, created_at, expires_at)
    SELECT $5::text, upd.id, $2::bigint, $3::text, 'pending', $4::text, $6::timestamptz, $7::timestamptz FROM upd
    RETURNING id
)
SELECT v.outcome, h.id, (SELECT ledger_minor - held_minor + overdraft_minor FROM acct)
  FROM verdict v
  LEFT JOIN h ON true`

// captureSQL posts a pending hold, in full ($2 = 0) or in part, to a credit
// account, releasing the whole hold from held_minor in the same update that
// debits the ledger; the hold row is locked first, then both accounts in id order.
//
//	$1 hold id  $2 amount or 0  $3 credit account  $4 description  $5 operation ref  $6 now
const captureSQL = `
WITH h AS (
    SELECT id, account_id, amount_minor, currency, status, expires_at
      FROM holds
     WHERE id = $1::bigint
       FOR UPDATE
), amt AS (
    SELECT CASE WHEN $2::bigint = 0 THEN (SELECT amount_minor FROM h) ELSE $2::bigint END AS v
), pair AS (
    SELECT id, number, class, currency, status, ledger_minor, held_minor
      FROM accounts
     WHERE id = (SELECT account_id FROM h) OR number = $3::text
     ORDER BY id
       FOR UPDATE
), d AS (
    SELECT * FROM pair WHERE id = (SELECT account_id FROM h)
), c AS (
    SELECT * FROM pair WHERE number = $3::text
), verdict AS (
    SELECT CASE
        WHEN NOT EXISTS (SELECT FROM h)                                 THEN 'hold_not_found'
        WHEN (SELECT status FROM h) <> 'pending'                        THEN 'hold_not_pending'
        WHEN (SELECT expires_at FROM h) <= $6::timestamptz              THEN 'hold_expired'
        WHEN (SELECT v FROM amt) > (SELECT amount_minor FROM h)         THEN 'exceeds_hold'
        WHEN NOT EXISTS (SELECT FROM c)                                 THEN 'credit_not_found'
        WHEN (SELECT id FROM c) = (SELECT account_id FROM h)            THEN 'same_account'
        WHEN (SELECT class FROM c) NOT IN ('customer', 'settlement', 'merchant') THEN 'credit_not_allowed'
        WHEN (SELECT status FROM c) <> 'active'                         THEN 'credit_blocked'
        WHEN (SELECT currency FROM c) <> (SELECT currency FROM h)       THEN 'currency_mismatch'
        ELSE 'ok'
    END AS outcome
), debit AS (
    UPDATE accounts a
       SET ledger_minor = (SELECT ledger_minor FROM d) - (SELECT v FROM amt),
           held_minor = (SELECT held_minor FROM d) - (SELECT amount_minor FROM h)
     WHERE a.id = (SELECT account_id FROM h)
       AND (SELECT outcome FROM verdict) = 'ok'
    RETURNING a.id, a.ledger_minor, a.held_minor
), credit AS (
    UPDATE accounts a
       SET ledger_minor = (SELECT ledger_minor FROM c) + (SELECT v FROM amt),
           held_minor = (SELECT held_minor FROM c)
     WHERE a.id = (SELECT id FROM c)
       AND EXISTS (SELECT FROM debit)
    RETURNING a.id, a.ledger_minor, a.held_minor
), txn AS (
    INSERT INTO transactions (kind, op_ref, description, reference, posted_at, legs)
    SELECT 'hold_capture', $5::text, $4::text, 'hold:' || $1::bigint, $6::timestamptz, 2
     WHERE EXISTS (SELECT FROM credit)
    RETURNING id
), legs AS (
    INSERT INTO postings (transaction_id, leg, account_id, amount_minor, currency, balance_after, posted_at)
    SELECT txn.id, 0, debit.id, -(SELECT v FROM amt), (SELECT currency FROM h), debit.ledger_minor, $6::timestamptz FROM txn, debit
    UNION ALL
    SELECT txn.id, 1, credit.id, (SELECT v FROM amt), (SELECT currency FROM h), credit.ledger_minor, $6::timestamptz FROM txn, credit
), closed AS (
    UPDATE holds
       SET status = 'captured', captured_minor = (SELECT v FROM amt), transaction_id = txn.id, closed_at = $6::timestamptz
      FROM txn
     WHERE holds.id = $1::bigint
)
SELECT v.outcome, t.id
  FROM verdict v
  LEFT JOIN txn t ON true`

// releaseSQL ends a pending hold without posting (void, or expiry when $4 asks
// for the hold to be due), giving its amount back to the available balance.
//
//	$1 hold id  $2 now  $3 new status  $4 only if due
const releaseSQL = `
WITH h AS (
    SELECT id, account_id, amount_minor, status, expires_at
      FROM holds
     WHERE id = $1::bigint
       FOR UPDATE
), locked AS (
    SELECT id, ledger_minor, held_minor FROM accounts WHERE id = (SELECT account_id FROM h) FOR UPDATE
), verdict AS (
    SELECT CASE
        WHEN NOT EXISTS (SELECT FROM h)                                  THEN 'hold_not_found'
        WHEN (SELECT status FROM h) <> 'pending'                         THEN 'hold_not_pending'
        WHEN $4::boolean AND (SELECT expires_at FROM h) > $2::timestamptz THEN 'not_due'
        WHEN NOT EXISTS (SELECT FROM locked)                             THEN 'hold_not_found'
        ELSE 'ok'
    END AS outcome
), acct AS (
    UPDATE accounts a
       SET held_minor = (SELECT held_minor FROM locked) - (SELECT amount_minor FROM h),
           ledger_minor = (SELECT ledger_minor FROM locked)
     WHERE a.id = (SELECT id FROM locked)
       AND (SELECT outcome FROM verdict) = 'ok'
    RETURNING a.id
), closed AS (
    UPDATE holds
       SET status = $3::text, closed_at = $2::timestamptz
     WHERE id = $1::bigint
       AND EXISTS (SELECT FROM acct)
)
SELECT outcome FROM verdict`

// sequenceSQL numbers committed, unnumbered transactions for the change feed, in
// id order, up to $1 of them. The feed_head row lock serialises sequencers, so
// feed numbers become visible in increasing order: a reader that has seen n
// never later finds a new posting below n. It answers the last number given.
const sequenceSQL = `
WITH batch AS (
    SELECT id, legs
      FROM transactions
     WHERE feed_first IS NULL
     ORDER BY id
     LIMIT $1
       FOR UPDATE SKIP LOCKED
), numbered AS (
    SELECT id, sum(legs) OVER (ORDER BY id) - legs AS off FROM batch
), head AS (
    UPDATE feed_head
       SET last_seq = last_seq + (SELECT sum(legs) FROM batch)
     WHERE EXISTS (SELECT FROM batch)
    RETURNING last_seq - (SELECT sum(legs) FROM batch) AS base, last_seq
)
UPDATE transactions t
   SET feed_first = head.base + 1 + numbered.off
  FROM numbered, head
 WHERE t.id = numbered.id
RETURNING head.last_seq`

const postingColumns = `
       t.feed_first + p.leg, p.transaction_id, p.leg, a.number, coalesce(cu.number, ''),
       p.amount_minor, p.currency, p.balance_after, t.kind, t.description, t.reference, p.posted_at`

const postingJoins = `
  JOIN transactions t ON t.id = p.transaction_id
  JOIN accounts a ON a.id = p.account_id
  LEFT JOIN customers cu ON cu.id = a.customer_id`

const accountColumns = `
       a.number, coalesce(cu.number, ''), a.class, a.type, a.currency, a.name, a.status,
       a.overdraft_minor, a.ledger_minor, a.held_minor, a.opened_at`

const customerColumns = `
       number, document_type, document_number, given_names, family_names,
       to_char(birth_date, 'YYYY-MM-DD'), email, phone, created_at`

const holdColumns = `
       h.id, a.number, h.amount_minor, h.captured_minor, h.currency, h.status, h.description,
       h.created_at, h.expires_at, h.closed_at, coalesce(h.transaction_id, 0)`
