-- One advice (0120/0121 authorization advice, 0220/0221 financial advice), recorded
-- and booked in one statement. An advice tells of a decision already made, so it is
-- never declined:
--
--   - a stand-in decline (DE39 other than 00) is recorded and moves no money;
--   - a stand-in approval with no earlier life cycle is a forced post: the card
--     account is debited even below zero, and what it overdraws is booked as a
--     receivable;
--   - an 0120 completing a pending pre-authorization replaces the hold with the final
--     amount; an 0220 posts the final amount and releases the hold;
--   - a credit (DE3 20) is posted to the card.
--
-- Locks and collisions work as in authorize.sql. Parameters: adviceParams in decide.go.
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
     WHERE au.dup_key = sha256(convert_to($6 || '|' || $9 || '|' || $10 || '|' || $11 || '|' || $12 || '|', 'UTF8') || $1)
),
acct AS MATERIALIZED (
    SELECT a.id, a.currency, a.currency_numeric, a.ledger, a.receivable, a.spend_day, a.atm_day
      FROM card_accounts a
     WHERE a.id = (SELECT card_account_id FROM card) AND NOT EXISTS (SELECT FROM dup)
       FOR UPDATE
),
lc AS MATERIALIZED (
    SELECT t.id, t.status, t.kind, t.hold_amount, t.posted_amount, t.reversal_final, t.spend_day
      FROM card_transactions t
     WHERE t.card_id = (SELECT id FROM card) AND (t.lc_key = $21 OR t.orig_key = $22)
       AND EXISTS (SELECT FROM acct)
     ORDER BY t.lc_key = $21 DESC, t.created_at
     LIMIT 1
       FOR UPDATE
),
d AS MATERIALIZED (
    SELECT c.id AS card_id, c.card_account_id, c.customer_id, a.currency, a.ledger, a.receivable,
           a.spend_day AS acct_spend_day, a.atm_day,
           lc.id AS lc_id, lc.status AS lc_status, lc.hold_amount, lc.posted_amount, lc.spend_day, m.amt,
           CASE
               WHEN c.id IS NULL THEN 'unknown'
               WHEN m.amt IS NULL THEN 'currency'
               WHEN $19 NOT IN ('', '00') THEN 'declined'
               WHEN $7 = 'credit' THEN CASE WHEN lc.status = 'posted' THEN 'none' ELSE 'credit' END
               WHEN $7 <> 'debit' THEN 'none'
               WHEN lc.status = 'pending' AND $6 = 'advice' THEN 'rehold'
               WHEN lc.status = 'pending' THEN 'post_hold'
               WHEN lc.status = 'posted' THEN 'none'
               -- No life cycle, an early reversal, or a hold voided or expired: a
               -- forced post.
               ELSE 'force'
           END AS effect,
           CASE WHEN lc.status = 'early_reversal' THEN least(m.amt, coalesce(lc.reversal_final, 0))
                ELSE m.amt END AS effective
      FROM (SELECT) one
      LEFT JOIN card c ON true
      LEFT JOIN acct a ON true
      LEFT JOIN lc ON true
     CROSS JOIN LATERAL (
           SELECT CASE WHEN $16 <> '' THEN CASE WHEN $16 = a.currency_numeric THEN $15::bigint END
                       WHEN $14 = a.currency_numeric THEN $13::bigint END AS amt) m
     WHERE NOT EXISTS (SELECT FROM dup)
),
e AS MATERIALIZED (
    SELECT d.*,
           CASE d.effect WHEN 'rehold' THEN d.amt - d.hold_amount
                         WHEN 'post_hold' THEN -d.hold_amount
                         ELSE 0 END AS hold_delta,
           CASE d.effect WHEN 'post_hold' THEN -d.amt
                         WHEN 'force' THEN -d.effective
                         WHEN 'credit' THEN d.effective
                         ELSE 0 END AS ledger_delta,
           -- Spend follows what the life cycle finally takes.
           CASE d.effect WHEN 'rehold' THEN d.amt - d.hold_amount
                         WHEN 'post_hold' THEN d.amt - d.hold_amount
                         WHEN 'force' THEN d.effective
                         ELSE 0 END AS spend_delta,
           CASE WHEN d.effect IN ('rehold', 'post_hold') THEN d.spend_day ELSE $3 END AS spend_on,
           CASE d.effect WHEN 'unknown' THEN '14' WHEN 'currency' THEN '57' WHEN 'declined' THEN $19 ELSE '00' END AS code,
           CASE WHEN d.effect IN ('unknown', 'currency', 'declined') THEN 3 ELSE 1 END AS decision,
           CASE d.effect WHEN 'unknown' THEN 1 WHEN 'currency' THEN 6 WHEN 'declined' THEN 13 ELSE 0 END AS decline_reason,
           CASE WHEN $7 = 'credit' THEN 7
                WHEN $6 = 'fin' THEN 5
                WHEN d.effect = 'rehold' THEN 4
                ELSE 3 END AS message_class,
           CASE WHEN d.effect IN ('unknown', 'currency', 'declined', 'none') THEN 0
                WHEN d.effect IN ('force', 'credit') THEN d.effective
                ELSE d.amt END AS approved
      FROM d
),
upd_acct AS (
    UPDATE card_accounts a
       SET held       = a.held + e.hold_delta,
           ledger     = a.ledger + e.ledger_delta,
           available  = a.available - e.hold_delta + e.ledger_delta,
           receivable = greatest(0, -(a.ledger + e.ledger_delta)),
           spend_days = CASE WHEN e.spend_delta <> 0 THEN spend_add(a.spend_days, a.spend_day, $3, e.spend_on, e.spend_delta)
                             ELSE a.spend_days END,
           spend_day  = CASE WHEN e.spend_delta <> 0 THEN greatest(a.spend_day, $3) ELSE a.spend_day END,
           atm_count  = CASE WHEN e.effect = 'force' AND $17 = 'atm'
                             THEN (CASE WHEN a.atm_day = $3 THEN a.atm_count ELSE 0 END) + 1 ELSE a.atm_count END,
           atm_day    = CASE WHEN e.effect = 'force' AND $17 = 'atm' THEN $3 ELSE a.atm_day END,
           updated_at = $2
      FROM e
     WHERE a.id = e.card_account_id
 RETURNING a.available
),
upd_lc AS (
    UPDATE card_transactions t
       SET hold_amount     = CASE e.effect WHEN 'rehold' THEN e.amt ELSE 0 END,
           posted_amount   = CASE e.effect WHEN 'post_hold' THEN e.amt
                                           WHEN 'force' THEN e.effective
                                           WHEN 'credit' THEN e.effective
                                           ELSE t.posted_amount END,
           approved_amount = e.amt,
           kind            = $7,
           status          = CASE WHEN e.effect = 'rehold' THEN 'pending'
                                  WHEN e.effect = 'post_hold' OR e.effective > 0 THEN 'posted'
                                  ELSE 'voided' END,
           updated_at      = $2
      FROM e
     WHERE t.id = e.lc_id AND e.effect IN ('rehold', 'post_hold', 'force', 'credit')
 RETURNING t.id
),
ins_lc AS (
    INSERT INTO card_transactions
           (id, card_id, card_account_id, lc_key, orig_key, kind, status, atm,
            approved_amount, hold_amount, posted_amount, spend_day, created_at, updated_at)
    SELECT $4, e.card_id, e.card_account_id, $21, $22, $7, 'posted', $17 = 'atm',
           e.amt, 0, e.effective, $3, $2, $2
      FROM e
     WHERE e.lc_id IS NULL AND e.effect IN ('force', 'credit')
 RETURNING id
),
ins_auth AS (
    INSERT INTO authorizations
           (id, dup_key, card_id, card_account_id, transaction_id, mti, message_class, processing_code,
            network_transaction_id, stan, transmitted, acquirer_id, rrn, decision, decline_reason,
            response_code, approval_code, currency, requested_amount, approved_amount,
            transaction_amount, transaction_currency, mcc, merchant_id, merchant_name, merchant_country,
            terminal_id, available_after, decided_at)
    SELECT $4, sha256(convert_to($6 || '|' || $9 || '|' || $10 || '|' || $11 || '|' || $12 || '|', 'UTF8') || $1),
           e.card_id, e.card_account_id, coalesce(e.lc_id, (SELECT id FROM ins_lc)), $5, e.message_class, $8,
           $20, $9, $10, $11, $12, e.decision, e.decline_reason,
           e.code, $23, coalesce(e.currency, ''), coalesce(e.amt, 0), e.approved,
           $13, $14, $18, $24, $25, $26, $27, ua.available, $2
      FROM e
      LEFT JOIN upd_acct ua ON true
 RETURNING id, card_id, card_account_id, currency, message_class, response_code, decision, approved_amount, available_after
),
ins_post AS (
    INSERT INTO postings (id, card_account_id, authorization_id, debit, credit, amount, currency, reference, posted_at)
    SELECT gen_random_uuid(), e.card_account_id, $4, p.debit, p.credit, p.amount, e.currency, $20, $2
      FROM e
      JOIN ins_auth ON true
     CROSS JOIN LATERAL (VALUES
           ('card', 'merchant_settlement', -e.ledger_delta),
           ('merchant_settlement', 'card', e.ledger_delta),
           -- What a forced post overdraws, the program fronts and books as owed by the
           -- cardholder; a later credit pays it back.
           ('receivable', 'program_funding', greatest(0, -(e.ledger + e.ledger_delta)) - e.receivable),
           ('program_funding', 'receivable', e.receivable - greatest(0, -(e.ledger + e.ledger_delta)))
           ) AS p(debit, credit, amount)
     WHERE p.amount > 0
),
ins_outbox AS (
    INSERT INTO outbox (id, event_type, subject, payload, occurred_at)
    SELECT $28, 'andes.events.v1.AuthorizationDecided', 'andes.events.authorizer.authorization_decided',
           authorization_decided_event($29::bytea, $30::bytea, i.id, i.card_id, i.card_account_id, e.customer_id,
                                       i.message_class, i.response_code, i.decision, i.approved_amount, i.currency,
                                       i.available_after),
           $2
      FROM ins_auth i
      JOIN e ON true
)
SELECT false AS duplicate, e.code, e.approved, $23::text AS approval_code, ua.available,
       e.message_class::integer, coalesce(e.amt, 0) AS requested
  FROM e
  LEFT JOIN upd_acct ua ON true
UNION ALL
SELECT true, dup.response_code, dup.approved_amount, dup.approval_code, dup.available_after,
       dup.message_class::integer, dup.requested_amount
  FROM dup
