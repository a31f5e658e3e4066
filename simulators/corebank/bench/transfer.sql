-- The core's transfer statement for pgbench: exactly pgledger.PostSQL (the test
-- TestBenchScriptIsPostSQL keeps the two equal), with its parameters as pgbench
-- variables, so pgbench and the core run the same SQL with the same key spread.
--
-- Run it with -M prepared and these -D variables (BenchmarkPgbenchTransfer does):
--   accounts        how many accounts transfers pick from, uniformly (key spread)
--   base            the 12-digit base of account 1 minus one: account i is
--                   (base + i) followed by its MOD 97-10 check digits
--   amount currency kind description reference posted_at debit_classes credit_classes
-- and the schema on the search path (PGOPTIONS="-c search_path=corebank").
\set i random(1, :accounts)
\set j 1 + (:i + random(0, :accounts - 2)) % :accounts
\set dbase :base + :i
\set cbase :base + :j
\set debit :dbase * 100 + 98 - (:dbase * 100) % 97
\set credit :cbase * 100 + 98 - (:cbase * 100) % 97
\set opref random(1, 9000000000000000000)
WITH pair AS (
    SELECT id, number, class, currency, status, ledger_minor, held_minor, overdraft_minor, may_go_negative
      FROM accounts
     WHERE number IN (:debit::text, :credit::text)
     ORDER BY id
       FOR UPDATE
), d AS (
    SELECT * FROM pair WHERE number = :debit::text
), c AS (
    SELECT * FROM pair WHERE number = :credit::text
), verdict AS (
    SELECT CASE
        WHEN :debit::text = :credit::text                                      THEN 'same_account'
        WHEN NOT EXISTS (SELECT FROM d)                               THEN 'debit_not_found'
        WHEN NOT EXISTS (SELECT FROM c)                               THEN 'credit_not_found'
        WHEN (SELECT class FROM d) <> ALL (:debit_classes::text[])               THEN 'debit_not_allowed'
        WHEN (SELECT class FROM c) <> ALL (:credit_classes::text[])               THEN 'credit_not_allowed'
        WHEN (SELECT status FROM d) <> 'active'                       THEN 'debit_blocked'
        WHEN (SELECT status FROM c) <> 'active'                       THEN 'credit_blocked'
        WHEN (SELECT currency FROM d) <> (SELECT currency FROM c)     THEN 'currency_mismatch'
        WHEN (SELECT currency::text FROM d) <> :currency::text               THEN 'amount_currency_mismatch'
        WHEN NOT (SELECT may_go_negative OR ledger_minor - held_minor + overdraft_minor >= :amount::bigint FROM d)
                                                                      THEN 'insufficient_funds'
        ELSE 'ok'
    END AS outcome
), debit AS (
    UPDATE accounts a
       SET ledger_minor = (SELECT ledger_minor FROM d) - :amount::bigint,
           held_minor = (SELECT held_minor FROM d)
     WHERE a.id = (SELECT id FROM d)
       AND (SELECT outcome FROM verdict) = 'ok'
    RETURNING a.id, a.ledger_minor, a.held_minor
), credit AS (
    UPDATE accounts a
       SET ledger_minor = (SELECT ledger_minor FROM c) + :amount::bigint,
           held_minor = (SELECT held_minor FROM c)
     WHERE a.id = (SELECT id FROM c)
       AND EXISTS (SELECT FROM debit)
    RETURNING a.id, a.ledger_minor, a.held_minor
), txn AS (
    INSERT INTO transactions (kind, op_ref, description, reference, posted_at, legs)
    SELECT :kind::text, :opref::text, :description::text, :reference::text, :posted_at::timestamptz, 2
     WHERE EXISTS (SELECT FROM credit)
    RETURNING id
), legs AS (
    INSERT INTO postings (transaction_id, leg, account_id, amount_minor, currency, balance_after, posted_at)
    SELECT txn.id, 0, debit.id, -:amount::bigint, :currency::text, debit.ledger_minor, :posted_at::timestamptz FROM txn, debit
    UNION ALL
    SELECT txn.id, 1, credit.id, :amount::bigint, :currency::text, credit.ledger_minor, :posted_at::timestamptz FROM txn, credit
)
SELECT v.outcome, t.id, db.ledger_minor, db.held_minor, cr.ledger_minor, cr.held_minor,
       (SELECT ledger_minor - held_minor + overdraft_minor FROM d)
  FROM verdict v
  LEFT JOIN txn t ON true
  LEFT JOIN debit db ON true
  LEFT JOIN credit cr ON true;
