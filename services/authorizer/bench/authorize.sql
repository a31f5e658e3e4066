-- Generated from adapters/postgres/sql/authorize.sql by TestPgbenchScript; do not edit.
-- Run with -M prepared and -D for every variable not drawn below (see BenchmarkDecisionVsPgbench).
\set fp random(1, :ncards)
\set stan random(1, 999999999)
\set rrn :stan
\set ntid :stan
\set lckey :stan
\set origkey :stan
-- One authorization (0100/0101), decided and written in one statement.
--
-- Reads the card, the duplicate if any, the card account (locked: its counters are
-- read at their latest committed values, not the snapshot's) and the life cycle of
-- the network transaction id (incremental authorization, or a reversal that came
-- first); decides the DE39 code; writes the decision, moves the hold, updates the
-- counters it read, books postings and writes the outbox event.
--
-- Two messages that would create the same row (a duplicate racing its original, an
-- original racing its early reversal) collide on a unique index: the loser's whole
-- statement rolls back and is run again, and its new snapshot sees the winner.
--
-- Parameters: authorizeParams in decide.go, in order. The two ids may be '-',
-- and are then made here: pgbench runs this very statement (bench/authorize.sql)
-- and cannot make UUIDs.
WITH
ids AS MATERIALIZED (
    SELECT coalesce(nullif(:id::text, '-')::uuid, gen_random_uuid()) AS auth_id,
           coalesce(nullif(:eventid::text, '-'), gen_random_uuid()::text) AS event_id
),
card AS MATERIALIZED (
    SELECT c.id, c.card_account_id, c.customer_id, c.status, c.expiry, c.pvv,
           c.limit_per_txn, c.limit_30d, c.limit_atm_daily,
           c.pos_enabled, c.ecommerce_enabled, c.atm_enabled, c.international_enabled, c.blocked_mccs
      FROM cards c
     WHERE c.pan_fingerprint = :fp
),
dup AS MATERIALIZED (
    SELECT au.id, au.response_code, au.approved_amount, au.approval_code, au.available_after,
           au.message_class, au.requested_amount
      FROM authorizations au
     WHERE au.dup_key = sha256(convert_to('auth|' || :stan || '|' || :de7 || '|' || :acq || '|' || :rrn || '|', 'UTF8') || :fp)
),
acct AS MATERIALIZED (
    SELECT a.id, a.status, a.currency, a.currency_numeric, a.ledger, a.held, a.available, a.receivable,
           a.spend_day, a.spend_days, a.atm_day, a.atm_count, a.pin_tries
      FROM card_accounts a
     WHERE a.id = (SELECT card_account_id FROM card) AND NOT EXISTS (SELECT FROM dup)
       FOR UPDATE
),
lc AS MATERIALIZED (
    -- After the account lock, so that every writer of a life cycle holds its
    -- account's lock first and none waits for the other in the opposite order.
    SELECT t.id, t.status, t.reversal_final
      FROM card_transactions t
     WHERE t.card_id = (SELECT id FROM card) AND t.lc_key = :lckey AND EXISTS (SELECT FROM acct)
       FOR UPDATE
),
d AS MATERIALIZED (
    SELECT c.id AS card_id, c.card_account_id, c.customer_id, a.currency, a.currency_numeric,
           a.ledger, a.available, a.receivable, a.pin_tries, a.atm_day, a.atm_count, a.spend_day, a.spend_days,
           lc.id AS lc_id, lc.status AS lc_status, lc.reversal_final, m.amt,
           CASE
               WHEN c.id IS NULL THEN '14'
               -- The PIN was verified against a PVV that is no longer the card's.
               WHEN :pin IN ('ok', 'wrong', 'unset') AND coalesce(c.pvv, '') <> :pvv THEN 'RV'
               WHEN c.status = 'lost' THEN '41'
               WHEN c.status IN ('blocked', 'closed') OR a.status <> 'active' THEN '62'
               WHEN c.status = 'expired' OR c.expiry < :yymm OR (:expiry <> '' AND :expiry <> c.expiry) THEN '54'
               WHEN :pin = 'error' OR :cvv = 'error' THEN '96'
               WHEN :cvv = 'bad' THEN '82'
               WHEN :pin <> 'none' AND a.pin_tries >= 3 THEN '75'
               WHEN :pin = 'wrong' AND a.pin_tries >= 2 THEN '75'
               WHEN :pin IN ('wrong', 'unset') THEN '55'
               WHEN :kind = 'unsupported' OR m.amt IS NULL THEN '57'
               WHEN (:channel = 'pos' AND NOT c.pos_enabled) OR (:channel = 'ecom' AND NOT c.ecommerce_enabled)
                 OR (:channel = 'atm' AND NOT c.atm_enabled) OR (:intl AND NOT c.international_enabled)
                 OR :mcc = ANY (c.blocked_mccs) OR (c.status = 'inactive' AND :channel <> 'ecom') THEN '57'
               WHEN :kind = 'debit' AND m.amt > c.limit_per_txn THEN '61'
               WHEN :kind = 'debit' AND spend_total(a.spend_days, a.spend_day, :today) + m.amt > c.limit_30d THEN '61'
               WHEN :kind = 'debit' AND :channel = 'atm'
                AND (CASE WHEN a.atm_day = :today THEN a.atm_count ELSE 0 END) >= c.limit_atm_daily THEN '65'
               WHEN :kind <> 'debit' THEN '00'
               WHEN a.available >= m.amt THEN '00'
               WHEN :partial AND a.available > 0 THEN '10'
               ELSE '51'
           END AS code
      FROM (SELECT) one
      LEFT JOIN card c ON true
      LEFT JOIN acct a ON true
      LEFT JOIN lc ON true
     CROSS JOIN LATERAL (
           -- The amount in the card account's currency: DE6/DE51 when the network
           -- converted, else DE4/DE49, which must then be the account's currency.
           SELECT CASE WHEN :bcurrency <> '' THEN CASE WHEN :bcurrency = a.currency_numeric THEN :bamount::bigint END
                       WHEN :currency = a.currency_numeric THEN :amount::bigint END AS amt) m
     WHERE NOT EXISTS (SELECT FROM dup)
),
e AS MATERIALIZED (
    SELECT d.*, x.approved, y.effective,
           CASE WHEN :kind = 'debit' THEN y.effective ELSE 0 END AS hold_delta,
           CASE WHEN :kind = 'credit' THEN y.effective ELSE 0 END AS ledger_delta,
           CASE d.code WHEN '00' THEN 1 WHEN '10' THEN 2 ELSE 3 END AS decision,
           CASE d.code WHEN '14' THEN 1 WHEN '41' THEN 2 WHEN '51' THEN 3 WHEN '54' THEN 4 WHEN '55' THEN 5
                       WHEN '57' THEN 6 WHEN '61' THEN 7 WHEN '62' THEN 8 WHEN '65' THEN 9 WHEN '75' THEN 10
                       WHEN '82' THEN 11 WHEN '96' THEN 12 ELSE 0 END AS decline_reason,
           CASE WHEN :kind = 'credit' THEN 7
                WHEN d.lc_status IN ('pending', 'posted', 'voided', 'expired') THEN 2
                ELSE 1 END AS message_class
      FROM d
     CROSS JOIN LATERAL (
           SELECT CASE WHEN d.code = '00' AND :kind IN ('debit', 'credit') THEN d.amt
                       WHEN d.code = '10' THEN d.available
                       ELSE 0 END AS approved) x
     CROSS JOIN LATERAL (
           -- A late original takes no more than its early reversal left.
           SELECT CASE WHEN d.lc_status = 'early_reversal' THEN least(x.approved, coalesce(d.reversal_final, 0))
                       ELSE x.approved END AS effective) y
),
upd_acct AS (
    UPDATE card_accounts a
       SET held       = a.held + e.hold_delta,
           ledger     = a.ledger + e.ledger_delta,
           available  = a.available - e.hold_delta + e.ledger_delta,
           receivable = greatest(0, -(a.ledger + e.ledger_delta)),
           spend_days = CASE WHEN e.hold_delta > 0 THEN spend_add(a.spend_days, a.spend_day, :today, :today, e.hold_delta)
                             ELSE a.spend_days END,
           spend_day  = CASE WHEN e.hold_delta > 0 THEN greatest(a.spend_day, :today) ELSE a.spend_day END,
           atm_count  = CASE WHEN e.decision IN (1, 2) AND :kind = 'debit' AND :channel = 'atm'
                             THEN (CASE WHEN a.atm_day = :today THEN a.atm_count ELSE 0 END) + 1 ELSE a.atm_count END,
           atm_day    = CASE WHEN e.decision IN (1, 2) AND :kind = 'debit' AND :channel = 'atm' THEN :today ELSE a.atm_day END,
           pin_tries  = CASE WHEN :pin = 'wrong' AND e.code IN ('55', '75') THEN least(a.pin_tries + 1, 3)
                             WHEN :pin = 'ok' AND a.pin_tries < 3 THEN 0
                             ELSE a.pin_tries END,
           updated_at = :now
      FROM e
     WHERE a.id = e.card_account_id AND e.code <> 'RV'
 RETURNING a.available, a.ledger, a.held
),
upd_lc AS (
    UPDATE card_transactions t
       SET hold_amount     = t.hold_amount + e.hold_delta,
           posted_amount   = t.posted_amount + CASE WHEN :kind = 'credit' THEN e.effective ELSE 0 END,
           approved_amount = t.approved_amount + e.approved,
           kind            = CASE WHEN t.status = 'early_reversal' THEN :kind ELSE t.kind END,
           status          = CASE WHEN e.hold_delta > 0 THEN 'pending'
                                  WHEN :kind = 'credit' AND e.effective > 0 THEN 'posted'
                                  WHEN t.status = 'early_reversal' THEN 'voided'
                                  ELSE t.status END,
           expires_at      = CASE WHEN e.hold_delta > 0 THEN greatest(t.expires_at, :expires) ELSE t.expires_at END,
           updated_at      = :now
      FROM e
     WHERE t.id = e.lc_id AND e.decision IN (1, 2) AND :kind IN ('debit', 'credit')
 RETURNING t.id
),
ins_lc AS (
    INSERT INTO card_transactions
           (id, card_id, card_account_id, lc_key, orig_key, kind, status, preauth, atm,
            approved_amount, hold_amount, posted_amount, spend_day, expires_at, created_at, updated_at)
    SELECT (SELECT auth_id FROM ids), e.card_id, e.card_account_id, :lckey, :origkey, :kind,
           CASE WHEN :kind = 'debit' THEN 'pending' ELSE 'posted' END, :preauth, :channel = 'atm',
           e.approved, e.hold_delta, CASE WHEN :kind = 'credit' THEN e.effective ELSE 0 END,
           :today, CASE WHEN :kind = 'debit' THEN :expires::timestamptz END, :now, :now
      FROM e
     WHERE e.lc_id IS NULL AND e.decision IN (1, 2) AND :kind IN ('debit', 'credit')
 RETURNING id
),
ins_auth AS (
    INSERT INTO authorizations
           (id, dup_key, card_id, card_account_id, transaction_id, mti, message_class, processing_code,
            network_transaction_id, stan, transmitted, acquirer_id, rrn, decision, decline_reason,
            response_code, approval_code, currency, requested_amount, approved_amount,
            transaction_amount, transaction_currency, mcc, merchant_id, merchant_name, merchant_country,
            terminal_id, available_after, decided_at)
    SELECT (SELECT auth_id FROM ids), sha256(convert_to('auth|' || :stan || '|' || :de7 || '|' || :acq || '|' || :rrn || '|', 'UTF8') || :fp),
           e.card_id, e.card_account_id, coalesce(e.lc_id, (SELECT id FROM ins_lc)), :mti, e.message_class, :pc,
           :ntid, :stan, :de7, :acq, :rrn, e.decision, e.decline_reason,
           e.code, CASE WHEN e.decision IN (1, 2) THEN :approval ELSE '' END, coalesce(e.currency, ''),
           coalesce(e.amt, 0), e.approved,
           :amount, :currency, :mcc, :merchant, :mname, :mcountry, :terminal, ua.available, :now
      FROM e
      LEFT JOIN upd_acct ua ON true
     WHERE e.code <> 'RV'
 RETURNING id, card_id, card_account_id, currency, message_class, response_code, decision, approved_amount, available_after
),
ins_post AS (
    INSERT INTO postings (id, card_account_id, authorization_id, debit, credit, amount, currency, reference, posted_at)
    SELECT gen_random_uuid(), e.card_account_id, (SELECT auth_id FROM ids), p.debit, p.credit, p.amount, e.currency, :ntid, :now
      FROM e
      JOIN ins_auth ON true
     CROSS JOIN LATERAL (VALUES
           ('merchant_settlement', 'card', e.ledger_delta),
           -- A credit that pays back what a forced post overdrew settles the receivable.
           ('program_funding', 'receivable', e.receivable - greatest(0, -(e.ledger + e.ledger_delta)))
           ) AS p(debit, credit, amount)
     WHERE p.amount > 0
),
ins_outbox AS (
    INSERT INTO outbox (id, event_type, subject, payload, occurred_at)
    SELECT (SELECT event_id FROM ids), 'andes.events.v1.AuthorizationDecided', 'andes.events.authorizer.authorization_decided',
           authorization_decided_event(:head::bytea, :static::bytea, i.id, i.card_id, i.card_account_id, e.customer_id,
                                       i.message_class, i.response_code, i.decision, i.approved_amount, i.currency,
                                       i.available_after),
           :now
      FROM ins_auth i
      JOIN e ON true
)
SELECT false AS duplicate, e.code, e.approved, CASE WHEN e.decision IN (1, 2) THEN :approval ELSE '' END AS approval_code,
       ua.available, e.message_class::integer, coalesce(e.amt, 0) AS requested
  FROM e
  LEFT JOIN upd_acct ua ON true
UNION ALL
SELECT true, dup.response_code, dup.approved_amount, dup.approval_code, dup.available_after,
       dup.message_class::integer, dup.requested_amount
  FROM dup;
