package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/andes-bank/andes/services/authorizer/domain"
)

// maxAttempts bounds how often a decision is run again after it lost a race on a
// unique index (a duplicate or an early reversal committed under it). A second run
// always sees the winner, so more than two means something else is wrong.
const maxAttempts = 4

// ErrContention means a decision kept colliding and was given up.
var ErrContention = errors.New("postgres: decision kept colliding with concurrent writers")

// Decide runs the decision statement of the input's family: one round trip, plus
// one more in the rare case it lost a race (see authorize.sql).
func (s *Store) Decide(ctx context.Context, in *domain.Input) (domain.Outcome, error) {
	var (
		sql  string
		args []any
	)
	switch in.Family {
	case domain.FamilyAuthorization:
		sql, args = authorizeSQL, authorizeParams(in)
	case domain.FamilyAdvice, domain.FamilyFinancial:
		sql, args = adviceSQL, adviceParams(in)
	case domain.FamilyReversal:
		sql, args = reversalSQL, reversalParams(in)
	default:
		return domain.Outcome{}, fmt.Errorf("postgres: no decision for message family %d", in.Family)
	}
	for attempt := 1; ; attempt++ {
		out, err := scanOutcome(s.pool.QueryRow(ctx, sql, args...))
		if err == nil {
			out.AuthorizationID = in.ID
			return out, nil
		}
		if !retryable(err) {
			return domain.Outcome{}, fmt.Errorf("postgres: decide %s: %w", in.MTI, err)
		}
		if attempt == maxAttempts {
			return domain.Outcome{}, fmt.Errorf("%w: %w", ErrContention, err)
		}
	}
}

// retryable: a unique violation means a concurrent writer created the row this
// decision was about to create, and the statement rolled back whole; deadlocks and
// serialization failures are not expected with the lock order the statements keep,
// but are safe to run again for the same reason.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "23505", "40P01", "40001":
		return true
	}
	return false
}

func scanOutcome(row pgx.Row) (domain.Outcome, error) {
	var (
		out       domain.Outcome
		available pgtype.Int8
		class     int32
	)
	if err := row.Scan(&out.Duplicate, &out.Code, &out.Approved, &out.ApprovalCode, &available, &class, &out.Requested); err != nil {
		return out, err
	}
	out.Class = domain.MessageClass(class)
	out.Available, out.HasAvailable = available.Int64, available.Valid
	if out.Code == "RV" {
		out.ReverifyPIN = true
	}
	return out, nil
}

// epochDay is the day the rolling counters use: days since 1970-01-01 in UTC.
func epochDay(t time.Time) int32 { return int32(t.Unix() / 86400) }

// authorizeParams are authorize.sql's parameters, in order.
func authorizeParams(in *domain.Input) []any {
	head, static := eventParts(in)
	return []any{
		in.Fingerprint, in.Now, epochDay(in.Now), in.Now.UTC().Format("0601"), in.ID, in.MTI,
		string(in.Kind), in.ProcessingCode, in.STAN, in.Transmission, in.AcquirerID, in.RRN,
		in.Amount, in.Currency, in.BillingAmount, in.BillingCurrency,
		string(in.Channel), in.International, in.MCC, in.Expiry,
		string(in.PIN), in.PVVUsed, string(in.CVV), in.PartialOK,
		in.NetworkTransactionID, in.LCKey, in.OrigKey, in.Preauth, in.HoldExpiresAt, in.ApprovalCode,
		in.MerchantID, in.MerchantName, in.MerchantCountry, in.TerminalID,
		in.EventID, head, static,
	}
}

// adviceParams are advice.sql's parameters, in order.
func adviceParams(in *domain.Input) []any {
	head, static := eventParts(in)
	family := "advice"
	if in.Family == domain.FamilyFinancial {
		family = "fin"
	}
	return []any{
		in.Fingerprint, in.Now, epochDay(in.Now), uuidArg(in.ID), in.MTI, family,
		string(in.Kind), in.ProcessingCode, in.STAN, in.Transmission, in.AcquirerID, in.RRN,
		in.Amount, in.Currency, in.BillingAmount, in.BillingCurrency,
		string(in.Channel), in.MCC, in.StandInCode,
		in.NetworkTransactionID, in.LCKey, in.OrigKey, in.ApprovalCode,
		in.MerchantID, in.MerchantName, in.MerchantCountry, in.TerminalID,
		in.EventID, head, static,
	}
}

// reversalParams are reversal.sql's parameters, in order.
func reversalParams(in *domain.Input) []any {
	head, static := eventParts(in)
	return []any{
		in.Fingerprint, in.Now, epochDay(in.Now), uuidArg(in.ID), in.MTI, in.ProcessingCode,
		in.STAN, in.Transmission, in.AcquirerID, in.RRN,
		in.Amount, in.Currency, in.BillingAmount, in.BillingCurrency, in.FinalAmount, in.FinalBillingAmount,
		in.NetworkTransactionID, in.LCKey, in.OrigKey,
		in.MerchantID, in.MerchantName, in.MerchantCountry, in.TerminalID,
		in.EventID, head, static, in.MCC, in.ApprovalCode,
	}
}

// The outbox event is an andes.events.v1.Envelope around an AuthorizationDecided.
// The statement appends what only the decision knows; eventParts encodes the rest
// here, with protowire rather than generated types (field numbers from
// proto/andes/events/v1/envelope.proto and card_events.proto; a test decodes the
// result with the generated types).
const (
	eventType     = "andes.events.v1.AuthorizationDecided"
	eventSource   = "authorizer"
	schemaVersion = 1
)

func eventParts(in *domain.Input) (head, static []byte) {
	head = make([]byte, 0, 160)
	head = protowire.AppendTag(head, 1, protowire.BytesType) // event_id
	head = protowire.AppendString(head, in.EventID)
	head = protowire.AppendTag(head, 2, protowire.BytesType) // type
	head = protowire.AppendString(head, eventType)
	head = protowire.AppendTag(head, 3, protowire.VarintType) // schema_version
	head = protowire.AppendVarint(head, schemaVersion)
	head = appendTimestamp(head, 4, in.Now) // occurred_at
	head = protowire.AppendTag(head, 5, protowire.BytesType)
	head = protowire.AppendString(head, eventSource)
	head = protowire.AppendTag(head, 7, protowire.BytesType) // idempotency_key: the network's message key
	head = protowire.AppendString(head, "iso8583:"+in.MTI+":"+in.STAN+":"+in.Transmission+":"+in.AcquirerID+":"+in.RRN)

	static = make([]byte, 0, 96)
	currency := in.Currency
	if c, ok := domain.CurrencyByNumeric(in.Currency); ok {
		currency = c.Alpha
	}
	var money []byte
	if in.Amount != 0 {
		money = protowire.AppendTag(money, 1, protowire.VarintType)
		money = protowire.AppendVarint(money, uint64(in.Amount))
	}
	if currency != "" {
		money = protowire.AppendTag(money, 2, protowire.BytesType)
		money = protowire.AppendString(money, currency)
	}
	static = protowire.AppendTag(static, 9, protowire.BytesType) // transaction_amount
	static = protowire.AppendBytes(static, money)
	if in.MerchantName != "" {
		static = protowire.AppendTag(static, 10, protowire.BytesType)
		static = protowire.AppendString(static, in.MerchantName)
	}
	if in.MCC != "" {
		static = protowire.AppendTag(static, 11, protowire.BytesType)
		static = protowire.AppendString(static, in.MCC)
	}
	static = appendTimestamp(static, 13, in.Now) // decided_at
	return head, static
}

func appendTimestamp(b []byte, field protowire.Number, t time.Time) []byte {
	var ts []byte
	if s := t.Unix(); s != 0 {
		ts = protowire.AppendTag(ts, 1, protowire.VarintType)
		ts = protowire.AppendVarint(ts, uint64(s))
	}
	if n := t.Nanosecond(); n != 0 {
		ts = protowire.AppendTag(ts, 2, protowire.VarintType)
		ts = protowire.AppendVarint(ts, uint64(n))
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, ts)
}

// CardSecrets reads what PIN and CVV2 verification need; ok is false for an
// unknown card.
func (s *Store) CardSecrets(ctx context.Context, fingerprint []byte) (domain.CardSecrets, bool, error) {
	var (
		sec domain.CardSecrets
		pvv pgtype.Text
		idx int16
	)
	err := s.pool.QueryRow(ctx, `SELECT pvv, pvki, expiry FROM cards WHERE pan_fingerprint = $1`, fingerprint).
		Scan(&pvv, &idx, &sec.Expiry)
	if errors.Is(err, pgx.ErrNoRows) {
		return sec, false, nil
	}
	if err != nil {
		return sec, false, fmt.Errorf("postgres: card secrets: %w", err)
	}
	sec.PVV, sec.PVKI = pvv.String, int(idx)
	return sec, true, nil
}

// DueHolds lists up to limit pending life cycles whose hold lapsed at now.
func (s *Store) DueHolds(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
SELECT id::text FROM card_transactions
 WHERE status = 'pending' AND expires_at <= $1
 ORDER BY expires_at
 LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: due holds: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: due holds: %w", err)
	}
	return ids, nil
}

// ExpireHold releases one lapsed hold and reports the amount released (zero when
// the life cycle moved on meanwhile).
func (s *Store) ExpireHold(ctx context.Context, id string, now time.Time) (int64, error) {
	var released int64
	err := s.pool.QueryRow(ctx, expireSQL, uuidArg(id), now).Scan(&released)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: expire hold: %w", err)
	}
	return released, nil
}
