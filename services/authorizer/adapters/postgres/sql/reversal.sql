-- One reversal (0400/0401, 0420/0421), full or partial, in one statement. DE95 carries
-- the final amount, so a reversal sets what the life cycle takes to that amount (never
-- more than it takes now): repeating it changes nothing. The original is found by the
-- network transaction id or DE90; a reversal that finds none is remembered as an early
-- reversal, and the late original then takes no more than the final amount.
--
-- Locks and collisions work as in authorize.sql. Parameters: reversalParams in decide.go.
WITH
card AS MATERIALIZED (
    SELECT c.id, c.card_account_id, c.customer_id
      FROM cards c
     WHERE c.pan_fingerprint = $1
),
dup AS MATERIALIZED (
    SELECT au.id, au.response_code, au.approved_amount, au.approval_code, au.available_after,
           au.message_class, au.requested_amount
      FROM authorizations au
     WHERE au.dup_key = sha256(convert_to('rev|' || $7 || '|' || $8 || '|' || $9 || '|' || $10 || '|', 'UTF8') || $1)
),
acct AS MATERIALIZED (
    SELECT a.id, a.currency, a.currency_numeric, a.ledger, a.receivable
      FROM card_accounts a
     WHERE a.id = (SELECT card_account_id FROM card) AND NOT EXISTS (SELECT FROM dup)
       FOR UPDATE
),
lc AS MATERIALIZED (
    SELECT t.id, t.status, t.kind, t.hold_amount, t.posted_amount, t.reversal_final, t.spend_day
      FROM card_transactions t
     WHERE t.card_id = (SELECT id FROM card) AND (t.lc_key = $18 OR t.orig_key = $19)
       AND EXISTS (SELECT FROM acct)
     ORDER BY t.lc_key = $18 DESC, t.created_at
     LIMIT 1
       FOR UPDATE
),
d AS MATERIALIZED (
    SELECT c.id AS card_id, c.card_account_id, c.customer_id, a.currency, a.ledger, a.receivable,
           lc.id AS lc_id, lc.status AS lc_status, lc.kind, lc.hold_amount, lc.posted_amount, lc.spend_day,
           m.amt, m.final,
           CASE
               WHEN c.id IS NULL THEN 'unknown'
               WHEN m.final IS NULL THEN 'currency'
               WHEN lc.id IS NULL THEN 'remember'
               WHEN lc.status = 'pending' THEN 'release'
               WHEN lc.status = 'posted' THEN 'refund'
               WHEN lc.status = 'early_reversal' THEN 'again'
               ELSE 'none'
           END AS effect
      FROM (SELECT) one
      LEFT JOIN card c ON true
      LEFT JOIN acct a ON true
      LEFT JOIN lc ON true
     CROSS JOIN LATERAL (
           -- Amounts in the card account's currency, as in authorize.sql.
           SELECT CASE WHEN $14 <> '' THEN CASE WHEN $14 = a.currency_numeric THEN $13::bigint END
                       WHEN $12 = a.currency_numeric THEN $11::bigint END AS amt,
                  CASE WHEN $14 <> '' THEN CASE WHEN $14 = a.currency_numeric THEN $16::bigint END
                       WHEN $12 = a.currency_numeric THEN $15::bigint END AS final) m
     WHERE NOT EXISTS (SELECT FROM dup)
),
e AS MATERIALIZED (
    SELECT d.*, n.new_amount,
           CASE WHEN d.effect = 'release' THEN n.new_amount - d.hold_amount ELSE 0 END AS hold_delta,
           CASE WHEN d.effect = 'refund' AND d.kind = 'debit' THEN d.posted_amount - n.new_amount
                WHEN d.effect = 'refund' THEN n.new_amount - d.posted_amount
                ELSE 0 END AS ledger_delta,
           CASE WHEN d.effect = 'release' THEN n.new_amount - d.hold_amount
                WHEN d.effect = 'refund' AND d.kind = 'debit' THEN n.new_amount - d.posted_amount
                ELSE 0 END AS spend_delta,
           CASE d.effect WHEN 'unknown' THEN '14' WHEN 'currency' THEN '57' ELSE '00' END AS code,
           CASE WHEN d.effect IN ('unknown', 'currency') THEN 3 ELSE 1 END AS decision,
           CASE d.effect WHEN 'unknown' THEN 1 WHEN 'currency' THEN 6 ELSE 0 END AS decline_reason
      FROM d
     CROSS JOIN LATERAL (
           SELECT CASE d.effect WHEN 'release' THEN least(d.final, d.hold_amount)
                                WHEN 'refund' THEN least(d.final, d.posted_amount)
                                ELSE d.final END AS new_amount) n
),
upd_acct AS (
    UPDATE card_accounts a
       SET held       = a.held + e.hold_delta,
           ledger     = a.ledger + e.ledger_delta,
           available  = a.available - e.hold_delta + e.ledger_delta,
           receivable = greatest(0, -(a.ledger + e.ledger_delta)),
           spend_days = CASE WHEN e.spend_delta <> 0 THEN spend_add(a.spend_days, a.spend_day, $3, e.spend_day, e.spend_delta)
                             ELSE a.spend_days END,
           spend_day  = CASE WHEN e.spend_delta <> 0 THEN greatest(a.spend_day, $3) ELSE a.spend_day END,
           updated_at = $2
      FROM e
     WHERE a.id = e.card_account_id
 RETURNING a.available
),
upd_lc AS (
    UPDATE card_transactions t
       SET hold_amount    = CASE WHEN e.effect = 'release' THEN e.new_amount ELSE t.hold_amount END,
           posted_amount  = CASE WHEN e.effect = 'refund' THEN e.new_amount ELSE t.posted_amount END,
           reversal_final = CASE WHEN e.effect = 'again' THEN least(t.reversal_final, e.final) ELSE t.reversal_final END,
           status         = CASE WHEN e.effect IN ('release', 'refund') AND e.new_amount = 0 THEN 'voided'
                                 ELSE t.status END,
           updated_at     = $2
      FROM e
     WHERE t.id = e.lc_id AND e.effect IN ('release', 'refund', 'again')
 RETURNING t.id
),
ins_lc AS (
    INSERT INTO card_transactions
           (id, card_id, card_account_id, lc_key, orig_key, kind, status, reversal_final, spend_day, created_at, updated_at)
    SELECT $4, e.card_id, e.card_account_id, $18, $19, 'debit', 'early_reversal', e.final, $3, $2, $2
      FROM e
     WHERE e.effect = 'remember'
 RETURNING id
),
ins_auth AS (
    INSERT INTO authorizations
           (id, dup_key, card_id, card_account_id, transaction_id, mti, message_class, processing_code,
            network_transaction_id, stan, transmitted, acquirer_id, rrn, decision, decline_reason,
            response_code, approval_code, currency, requested_amount, approved_amount,
            transaction_amount, transaction_currency, mcc, merchant_id, merchant_name, merchant_country,
            terminal_id, available_after, decided_at)
    SELECT $4, sha256(convert_to('rev|' || $7 || '|' || $8 || '|' || $9 || '|' || $10 || '|', 'UTF8') || $1),
           e.card_id, e.card_account_id, coalesce(e.lc_id, (SELECT id FROM ins_lc)), $5, 6, $6,
           $17, $7, $8, $9, $10, e.decision, e.decline_reason,
           e.code, $28, coalesce(e.currency, ''), coalesce(e.amt, 0), coalesce(e.final, 0),
           $11, $12, $27, $20, $21, $22, $23, ua.available, $2
      FROM e
      LEFT JOIN upd_acct ua ON true
 RETURNING id, card_id, card_account_id, currency, message_class, response_code, decision, approved_amount, available_after
),
ins_post AS (
    INSERT INTO postings (id, card_account_id, authorization_id, debit, credit, amount, currency, reference, posted_at)
    SELECT gen_random_uuid(), e.card_account_id, $4, p.debit, p.credit, p.amount, e.currency, $17, $2
      FROM e
      JOIN ins_auth ON true
     CROSS JOIN LATERAL (VALUES
           ('card', 'merchant_settlement', -e.ledger_delta),
           ('merchant_settlement', 'card', e.ledger_delta),
           ('receivable', 'program_funding', greatest(0, -(e.ledger + e.ledger_delta)) - e.receivable),
           ('program_funding', 'receivable', e.receivable - greatest(0, -(e.ledger + e.ledger_delta)))
           ) AS p(debit, credit, amount)
     WHERE p.amount > 0
),
ins_outbox AS (
    INSERT INTO outbox (id, event_type, subject, payload, occurred_at)
    SELECT $24, 'andes.events.v1.AuthorizationDecided', 'andes.events.authorizer.authorization_decided',
           authorization_decided_event($25::bytea, $26::bytea, i.id, i.card_id, i.card_account_id, e.customer_id,
                                       i.message_class, i.response_code, i.decision, i.approved_amount, i.currency,
                                       i.available_after),
           $2
      FROM ins_auth i
      JOIN e ON true
)
SELECT false AS duplicate, e.code, coalesce(e.final, 0), $28::text AS approval_code, ua.available,
       6, coalesce(e.amt, 0) AS requested
  FROM e
  LEFT JOIN upd_acct ua ON true
UNION ALL
SELECT true, dup.response_code, dup.approved_amount, dup.approval_code, dup.available_after,
       dup.message_class::integer, dup.requested_amount
  FROM dup
