package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/outbox"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// querier is a pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type txKey struct{}

// db is the transaction Atomically put in ctx, or the pool: the use case does not
// know which, and the idempotent write commits with its stored response.
func (s *Store) db(ctx context.Context) querier {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx
	}
	return s.pool
}

// inTx runs fn in the transaction of ctx, or in a new one; the ctx fn gets
// carries it, so reads inside fn see fn's writes.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return fn(ctx, tx)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(context.WithValue(ctx, txKey{}, tx), tx) })
}

// Idempotent runs work at most once per (scope, key): the first run's response is
// stored in the same transaction as work's writes and replayed to later requests
// with the same key (replayed true). request fingerprints the request.
type Idempotent struct {
	store *Store
	keys  *idempotency.Store
}

// NewIdempotent wraps s with the idempotency key store in the same schema.
func NewIdempotent(s *Store, keys *idempotency.Store) *Idempotent {
	return &Idempotent{store: s, keys: keys}
}

// Do runs work once per key; see idempotency.Store.Do.
func (i *Idempotent) Do(ctx context.Context, caller, subject, key string, request []byte,
	work func(ctx context.Context) ([]byte, error),
) ([]byte, bool, error) {
	resp, err := i.keys.Do(ctx, idempotency.Scope{Caller: caller, Subject: subject}, key, request,
		func(ctx context.Context, tx pgx.Tx, _ *idempotency.Lease) (idempotency.Response, error) {
			body, err := work(context.WithValue(ctx, txKey{}, tx))
			if err != nil {
				return idempotency.Response{}, err
			}
			return idempotency.Response{Body: body}, nil
		})
	if err != nil {
		return nil, false, err
	}
	return resp.Body, resp.Replayed, nil
}

// OpenAccount inserts a card account with zero balances.
func (s *Store) OpenAccount(ctx context.Context, a domain.NewAccount) (domain.CardAccount, error) {
	_, err := s.db(ctx).Exec(ctx, `
INSERT INTO card_accounts (id, customer_id, currency, currency_numeric, opened_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5)`, uuidArg(a.ID), uuidArg(a.CustomerID), a.Currency.Alpha, a.Currency.Numeric, a.Now)
	if err != nil {
		return domain.CardAccount{}, fmt.Errorf("postgres: open card account: %w", err)
	}
	return s.Account(ctx, a.ID)
}

const accountColumns = `id::text, customer_id::text, currency, status, ledger, held, available, receivable, opened_at, updated_at`

func scanAccount(row pgx.Row) (domain.CardAccount, error) {
	var a domain.CardAccount
	var status string
	err := row.Scan(&a.ID, &a.CustomerID, &a.Currency, &status, &a.Ledger, &a.Held, &a.Available, &a.Receivable, &a.OpenedAt, &a.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, domain.ErrNotFound
	}
	a.Status = domain.AccountStatus(status)
	return a, err
}

// Account reads a card account.
func (s *Store) Account(ctx context.Context, id string) (domain.CardAccount, error) {
	a, err := scanAccount(s.db(ctx).QueryRow(ctx, `SELECT `+accountColumns+` FROM card_accounts WHERE id = $1`, uuidArg(id)))
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return a, fmt.Errorf("postgres: card account: %w", err)
	}
	return a, err
}

// Fund credits a card account from program funding in one statement, settling any
// receivable the credit covers, and writes the event in the same transaction.
func (s *Store) Fund(ctx context.Context, f domain.Funding) (domain.CardAccount, error) {
	var after domain.CardAccount
	err := s.inTx(ctx, func(ctx context.Context, q querier) error {
		var err error
		after, err = scanAccount(q.QueryRow(ctx, `
WITH acct AS MATERIALIZED (
    SELECT id, currency, ledger, receivable FROM card_accounts WHERE id = $1 AND status = 'active' FOR UPDATE
),
upd AS (
    UPDATE card_accounts a
       SET ledger = a.ledger + $2, available = a.available + $2,
           receivable = greatest(0, -(a.ledger + $2)), updated_at = $5
      FROM acct
     WHERE a.id = acct.id
 RETURNING a.*
),
post AS (
    INSERT INTO postings (id, card_account_id, debit, credit, amount, currency, reference, posted_at)
    SELECT CASE WHEN p.n = 1 THEN $4::uuid ELSE gen_random_uuid() END, acct.id, p.debit, p.credit, p.amount, acct.currency, $3, $5
      FROM acct
     CROSS JOIN LATERAL (VALUES
           (1, 'program_funding', 'card', $2::bigint),
           (2, 'program_funding', 'receivable', acct.receivable - greatest(0, -(acct.ledger + $2)))) AS p(n, debit, credit, amount)
     WHERE p.amount > 0 AND EXISTS (SELECT FROM upd)
)
SELECT id::text, customer_id::text, currency, status, ledger, held, available, receivable, opened_at, updated_at FROM upd`,
			uuidArg(f.AccountID), f.Amount, f.Reference, uuidArg(f.PostingID), f.Now))
		if errors.Is(err, domain.ErrNotFound) {
			if _, err := s.Account(ctx, f.AccountID); err != nil {
				return err
			}
			return domain.ErrAccountNotActive
		}
		if err != nil {
			return fmt.Errorf("postgres: fund card account: %w", err)
		}
		if f.Event.ID == "" {
			return nil
		}
		ev, err := fundedEvent(f.Event, after, f.Amount, f.Reference, f.PostingID)
		if err != nil {
			return err
		}
		return outbox.Write(ctx, q, ev)
	})
	return after, err
}

// IssueCard inserts a card, with its CardIssued event when meta has an id.
func (s *Store) IssueCard(ctx context.Context, r domain.CardRecord, meta domain.EventMeta) (domain.Card, error) {
	c := r.Card
	err := s.inTx(ctx, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `
INSERT INTO cards (id, card_account_id, customer_id, pan_fingerprint, pan_ciphertext, data_key_id, first6, last4,
                   expiry, cardholder_name, status, limit_per_txn, limit_30d, limit_atm_daily,
                   pos_enabled, ecommerce_enabled, atm_enabled, international_enabled, blocked_mccs,
                   issued_at, status_changed_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $20)`,
			uuidArg(c.ID), uuidArg(c.CardAccountID), uuidArg(c.CustomerID), r.Fingerprint, r.PANCiphertext, r.DataKeyID,
			c.First6, c.Last4, c.Expiry, c.CardholderName, string(c.Status),
			c.Limits.PerTransaction, c.Limits.Rolling30Days, c.Limits.DailyATMCount,
			c.Channels.POS, c.Channels.ECommerce, c.Channels.ATM, c.Channels.International, nonNil(c.Channels.BlockedMCCs),
			c.IssuedAt)
		if err != nil {
			return fmt.Errorf("postgres: issue card: %w", err)
		}
		if meta.ID == "" {
			return nil
		}
		event, err := cardIssuedEvent(meta, c)
		if err != nil {
			return err
		}
		return outbox.Write(ctx, q, event)
	})
	if err != nil {
		return domain.Card{}, err
	}
	return s.Card(ctx, c.ID)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const cardColumns = `id::text, card_account_id::text, customer_id::text, first6, last4, expiry, cardholder_name, status,
       pvv IS NOT NULL, limit_per_txn, limit_30d, limit_atm_daily,
       pos_enabled, ecommerce_enabled, atm_enabled, international_enabled, blocked_mccs, issued_at, status_changed_at`

func scanCard(row pgx.Row) (domain.Card, error) {
	var (
		c      domain.Card
		status string
	)
	err := row.Scan(&c.ID, &c.CardAccountID, &c.CustomerID, &c.First6, &c.Last4, &c.Expiry, &c.CardholderName, &status,
		&c.PINSet, &c.Limits.PerTransaction, &c.Limits.Rolling30Days, &c.Limits.DailyATMCount,
		&c.Channels.POS, &c.Channels.ECommerce, &c.Channels.ATM, &c.Channels.International, &c.Channels.BlockedMCCs,
		&c.IssuedAt, &c.StatusChangedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, domain.ErrNotFound
	}
	c.Status = domain.CardStatus(status)
	return c, err
}

// Card reads a card.
func (s *Store) Card(ctx context.Context, id string) (domain.Card, error) {
	c, err := scanCard(s.db(ctx).QueryRow(ctx, `SELECT `+cardColumns+` FROM cards WHERE id = $1`, uuidArg(id)))
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return c, fmt.Errorf("postgres: card: %w", err)
	}
	return c, err
}

// CardPAN returns a card's encrypted PAN and the data key it is under.
func (s *Store) CardPAN(ctx context.Context, id string) (ciphertext []byte, dataKeyID int, err error) {
	err = s.db(ctx).QueryRow(ctx, `SELECT pan_ciphertext, data_key_id FROM cards WHERE id = $1`, uuidArg(id)).Scan(&ciphertext, &dataKeyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, domain.ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: card PAN: %w", err)
	}
	return ciphertext, dataKeyID, nil
}

// CardIDByFingerprint finds a card by its PAN's fingerprint.
func (s *Store) CardIDByFingerprint(ctx context.Context, fingerprint []byte) (string, error) {
	var id string
	err := s.db(ctx).QueryRow(ctx, `SELECT id::text FROM cards WHERE pan_fingerprint = $1`, fingerprint).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", domain.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("postgres: card by fingerprint: %w", err)
	}
	return id, nil
}

// ListCards pages through the cards of a customer or of a card account, newest
// first. after is the last card id of the previous page.
func (s *Store) ListCards(ctx context.Context, customerID, accountID, after string, limit int) ([]domain.Card, error) {
	rows, err := s.db(ctx).Query(ctx, `
SELECT `+cardColumns+` FROM cards
 WHERE ($1 = '' OR customer_id = $1::uuid) AND ($2 = '' OR card_account_id = $2::uuid)
   AND ($3 = '' OR (issued_at, id) < (SELECT issued_at, id FROM cards WHERE id = $3::uuid))
 ORDER BY issued_at DESC, id DESC
 LIMIT $4`, customerID, accountID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list cards: %w", err)
	}
	cards, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Card, error) { return scanCard(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list cards: %w", err)
	}
	return cards, nil
}

// SetPVV stores a new PIN verification value: the card becomes ACTIVE if it was
// INACTIVE, and the account's PIN tries start again.
func (s *Store) SetPVV(ctx context.Context, cardID, pvv string, now time.Time) (domain.Card, error) {
	err := s.inTx(ctx, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `
WITH c AS (
    UPDATE cards
       SET pvv = $2, updated_at = $3,
           status = CASE WHEN status = 'inactive' THEN 'active' ELSE status END,
           status_changed_at = CASE WHEN status = 'inactive' THEN $3 ELSE status_changed_at END
     WHERE id = $1 AND status IN ('inactive', 'active', 'blocked')
 RETURNING card_account_id
)
UPDATE card_accounts a SET pin_tries = 0, updated_at = $3 FROM c WHERE a.id = c.card_account_id`,
			uuidArg(cardID), pvv, now)
		if err != nil {
			return fmt.Errorf("postgres: set PIN: %w", err)
		}
		if tag.RowsAffected() == 0 {
			if _, err := s.Card(ctx, cardID); err != nil {
				return err
			}
			return domain.ErrCardState
		}
		return nil
	})
	if err != nil {
		return domain.Card{}, err
	}
	return s.Card(ctx, cardID)
}

// ChangeStatus applies a status change. A card already in the target status is
// answered unchanged; one in a status outside From is ErrCardState.
func (s *Store) ChangeStatus(ctx context.Context, ch domain.StatusChange) (domain.Card, error) {
	from := make([]string, len(ch.From))
	for i, f := range ch.From {
		from[i] = string(f)
	}
	var card domain.Card
	err := s.inTx(ctx, func(ctx context.Context, q querier) error {
		var before string
		err := q.QueryRow(ctx, `
WITH old AS (SELECT id, status FROM cards WHERE id = $1 FOR UPDATE)
UPDATE cards c
   SET status = $2, status_reason = $4, status_changed_at = $5, updated_at = $5
  FROM old
 WHERE c.id = old.id AND old.status = ANY ($3::text[]) AND old.status <> $2
RETURNING old.status`, uuidArg(ch.CardID), string(ch.To), from, ch.Reason, ch.Event.Now).Scan(&before)
		if errors.Is(err, pgx.ErrNoRows) {
			cur, err := s.Card(ctx, ch.CardID)
			if err != nil {
				return err
			}
			if cur.Status == ch.To {
				card = cur
				return nil
			}
			return domain.ErrCardState
		}
		if err != nil {
			return fmt.Errorf("postgres: change card status: %w", err)
		}
		if card, err = s.Card(ctx, ch.CardID); err != nil {
			return err
		}
		if ch.Event.ID == "" {
			return nil
		}
		ev, err := cardStatusEvent(ch.Event, domain.CardStatus(before), card)
		if err != nil {
			return err
		}
		return outbox.Write(ctx, q, ev)
	})
	return card, err
}

// SetLimits replaces a card's limits.
func (s *Store) SetLimits(ctx context.Context, cardID string, l domain.Limits, now time.Time) (domain.Card, error) {
	tag, err := s.db(ctx).Exec(ctx, `
UPDATE cards SET limit_per_txn = $2, limit_30d = $3, limit_atm_daily = $4, updated_at = $5 WHERE id = $1`,
		uuidArg(cardID), l.PerTransaction, l.Rolling30Days, l.DailyATMCount, now)
	if err != nil {
		return domain.Card{}, fmt.Errorf("postgres: set limits: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Card{}, domain.ErrNotFound
	}
	return s.Card(ctx, cardID)
}

// SetChannels replaces a card's channels.
func (s *Store) SetChannels(ctx context.Context, cardID string, ch domain.Channels, now time.Time) (domain.Card, error) {
	tag, err := s.db(ctx).Exec(ctx, `
UPDATE cards SET pos_enabled = $2, ecommerce_enabled = $3, atm_enabled = $4, international_enabled = $5,
                 blocked_mccs = $6, updated_at = $7
 WHERE id = $1`,
		uuidArg(cardID), ch.POS, ch.ECommerce, ch.ATM, ch.International, nonNil(ch.BlockedMCCs), now)
	if err != nil {
		return domain.Card{}, fmt.Errorf("postgres: set channels: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.Card{}, domain.ErrNotFound
	}
	return s.Card(ctx, cardID)
}

// ListAuthorizations pages through the decisions of a card or a card account,
// newest first, with the hold of each one's life cycle. after is the last id of the
// previous page.
func (s *Store) ListAuthorizations(ctx context.Context, cardID, accountID string, since time.Time, after string, limit int) ([]domain.Authorization, error) {
	var sinceArg pgtype.Timestamptz
	if !since.IsZero() {
		sinceArg = pgtype.Timestamptz{Time: since, Valid: true}
	}
	rows, err := s.db(ctx).Query(ctx, `
SELECT au.id::text, coalesce(au.card_id::text, ''), coalesce(au.card_account_id::text, ''), au.message_class,
       au.network_transaction_id, au.rrn, au.decision, au.decline_reason, au.response_code, au.currency,
       au.requested_amount, au.approved_amount, au.transaction_amount, au.transaction_currency,
       au.mcc, au.merchant_id, au.merchant_name, au.merchant_country, au.transmitted, au.decided_at,
       coalesce(t.status, ''), coalesce(t.hold_amount, 0)
  FROM authorizations au
  LEFT JOIN card_transactions t ON t.id = au.transaction_id
 WHERE ($1 = '' OR au.card_id = $1::uuid) AND ($2 = '' OR au.card_account_id = $2::uuid)
   AND ($3::timestamptz IS NULL OR au.decided_at >= $3)
   AND ($4 = '' OR (au.decided_at, au.id) < (SELECT decided_at, id FROM authorizations WHERE id = $4::uuid))
 ORDER BY au.decided_at DESC, au.id DESC
 LIMIT $5`, cardID, accountID, sinceArg, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list authorizations: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Authorization, error) {
		var (
			a                       domain.Authorization
			class, decision, reason int16
			holdStatus              string
			holdAmount              int64
		)
		err := r.Scan(&a.ID, &a.CardID, &a.CardAccountID, &class, &a.NetworkTransactionID, &a.RRN, &decision, &reason,
			&a.ResponseCode, &a.Currency, &a.RequestedAmount, &a.ApprovedAmount, &a.TransactionAmount, &a.TransactionCurrency,
			&a.MCC, &a.MerchantID, &a.MerchantName, &a.MerchantCountry, &a.Transmitted, &a.DecidedAt,
			&holdStatus, &holdAmount)
		a.Class, a.Decision, a.DeclineReason = domain.MessageClass(class), domain.Decision(decision), domain.DeclineReason(reason)
		a.HoldStatus = domain.HoldNone
		switch holdStatus {
		case "pending":
			a.HoldStatus, a.HeldAmount = domain.HoldPending, holdAmount
		case "posted":
			a.HoldStatus = domain.HoldPosted
		case "voided":
			a.HoldStatus = domain.HoldVoided
		case "expired":
			a.HoldStatus = domain.HoldExpired
		}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list authorizations: %w", err)
	}
	return list, nil
}
