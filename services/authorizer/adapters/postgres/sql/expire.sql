-- Releases one pending hold whose time is up. The account is locked before the life
-- cycle, in the order the decision statements take them, and the life cycle's state
-- is checked again once locked: a completion or reversal may have come meanwhile.
WITH
t0 AS (
    SELECT card_account_id FROM card_transactions WHERE id = $1
),
acct AS MATERIALIZED (
    SELECT id FROM card_accounts WHERE id = (SELECT card_account_id FROM t0) FOR UPDATE
),
lc AS MATERIALIZED (
    SELECT id, card_account_id, hold_amount
      FROM card_transactions
     WHERE id = $1 AND status = 'pending' AND expires_at <= $2 AND EXISTS (SELECT FROM acct)
       FOR UPDATE
),
upd_lc AS (
    UPDATE card_transactions t
       SET status = 'expired', hold_amount = 0, updated_at = $2
      FROM lc
     WHERE t.id = lc.id
 RETURNING lc.card_account_id, lc.hold_amount AS released
)
UPDATE card_accounts a
   SET held = a.held - u.released, available = a.available + u.released, updated_at = $2
  FROM upd_lc u
 WHERE a.id = u.card_account_id
RETURNING u.released
