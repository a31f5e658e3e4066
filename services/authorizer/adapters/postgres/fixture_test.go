package postgres_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	platformpg "github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/services/authorizer/adapters/postgres"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// The ledger tests talk to the statements directly with domain.Input values: the
// verdicts of the HSM are inputs here (the app tests run a real HSM).

var t0 = time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)

type ledger struct {
	t     testing.TB
	pool  *pgxpool.Pool
	store *postgres.Store
	keyID int
	stan  atomic.Int64
}

func newLedger(t testing.TB) *ledger {
	t.Helper()
	ctx := context.Background()
	pool, err := platformpg.Open(ctx, platformpg.Config{URL: testenv.PostgresURL(t), Schema: "authorizer", MaxConns: 24})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := platformpg.Migrate(ctx, pool, "authorizer", postgres.Migrations()...); err != nil {
		t.Fatal(err)
	}
	l := &ledger{t: t, pool: pool, store: postgres.New(pool)}
	if err := pool.QueryRow(ctx, `
INSERT INTO data_keys (label, kek_version, wrapped, created_at) VALUES ('test', 1, '\x00', now()) RETURNING id`).Scan(&l.keyID); err != nil {
		t.Fatal(err)
	}
	return l
}

// cardSpec describes a test card; zero values take usable defaults.
type cardSpec struct {
	balance  int64
	status   domain.CardStatus
	pvv      string
	limits   domain.Limits
	channels *domain.Channels
	expiry   string
}

type testCard struct {
	id, accountID, customerID string
	fp                        []byte
}

func (l *ledger) card(spec cardSpec) testCard {
	l.t.Helper()
	ctx := context.Background()
	pen, _ := domain.CurrencyByAlpha("PEN")
	c := testCard{id: postgres.NewID(), accountID: postgres.NewID(), customerID: postgres.NewID()}
	sum := sha256.Sum256([]byte(c.id))
	c.fp = sum[:]
	if _, err := l.store.OpenAccount(ctx, domain.NewAccount{ID: c.accountID, CustomerID: c.customerID, Currency: pen, Now: t0}); err != nil {
		l.t.Fatal(err)
	}
	if spec.balance > 0 {
		if _, err := l.store.Fund(ctx, domain.Funding{AccountID: c.accountID, Amount: spec.balance, Reference: "seed", PostingID: postgres.NewID(), Now: t0}); err != nil {
			l.t.Fatal(err)
		}
	}
	if spec.status == "" {
		spec.status = domain.CardActive
	}
	if spec.limits == (domain.Limits{}) {
		spec.limits = domain.Limits{PerTransaction: 500_000, Rolling30Days: 2_000_000, DailyATMCount: 3}
	}
	ch := domain.Channels{POS: true, ECommerce: true, ATM: true, International: true}
	if spec.channels != nil {
		ch = *spec.channels
	}
	if spec.expiry == "" {
		spec.expiry = "2912"
	}
	card := domain.Card{
		ID: c.id, CardAccountID: c.accountID, CustomerID: c.customerID, First6: "476134", Last4: "0019",
		Expiry: spec.expiry, CardholderName: "TEST", Status: spec.status, Limits: spec.limits, Channels: ch, IssuedAt: t0,
	}
	if _, err := l.store.IssueCard(ctx, domain.CardRecord{Card: card, Fingerprint: c.fp, PANCiphertext: []byte{1}, DataKeyID: l.keyID}, domain.EventMeta{}); err != nil {
		l.t.Fatal(err)
	}
	if spec.pvv != "" {
		if _, err := l.pool.Exec(ctx, `UPDATE cards SET pvv = $2 WHERE id = $1`, c.id, spec.pvv); err != nil {
			l.t.Fatal(err)
		}
	}
	return c
}

// purchase is a 0100 for amount PEN minor units at a terminal in Peru.
func (l *ledger) purchase(c testCard, amount int64) *domain.Input {
	stan := l.stan.Add(1)
	in := &domain.Input{
		ID: postgres.NewID(), EventID: postgres.NewID(), Now: t0,
		Family: domain.FamilyAuthorization, MTI: "0100", Fingerprint: c.fp, ProcessingCode: "000000",
		Kind: domain.KindDebit, Channel: domain.ChannelPOS,
		Amount: amount, Currency: "604",
		STAN: fmt.Sprintf("%06d", stan), Transmission: "0310143000", AcquirerID: "12345", RRN: fmt.Sprintf("%012d", stan),
		MCC: "5411", MerchantID: "MERCHANT1", MerchantName: "BODEGA LIMA", MerchantCountry: "604", TerminalID: "T1",
		PIN: domain.PINNone, CVV: domain.CVVNone,
		NetworkTransactionID: fmt.Sprintf("NT%010d", stan), ApprovalCode: "A00001",
		HoldExpiresAt: t0.Add(7 * 24 * time.Hour),
	}
	in.OrigKey = domain.OrigKey(in.STAN, in.Transmission, in.AcquirerID)
	in.LCKey = in.NetworkTransactionID
	return in
}

// reversalOf builds a reversal of orig leaving final (0: full).
func (l *ledger) reversalOf(orig *domain.Input, mti string, final int64) *domain.Input {
	stan := l.stan.Add(1)
	in := *orig
	in.ID, in.EventID = postgres.NewID(), postgres.NewID()
	in.Family, in.MTI = domain.FamilyReversal, mti
	in.STAN, in.RRN = fmt.Sprintf("%06d", stan), fmt.Sprintf("%012d", stan)
	in.FinalAmount = final
	in.OrigKey = orig.OrigKey
	in.LCKey = orig.LCKey
	return &in
}

// adviceOf builds an advice (0120 or 0220) about orig's life cycle for amount.
func (l *ledger) adviceOf(orig *domain.Input, mti string, amount int64, standIn string) *domain.Input {
	stan := l.stan.Add(1)
	in := *orig
	in.ID, in.EventID = postgres.NewID(), postgres.NewID()
	in.MTI = mti
	in.Family = domain.FamilyAdvice
	if mti[1] == '2' {
		in.Family = domain.FamilyFinancial
	}
	in.STAN, in.RRN = fmt.Sprintf("%06d", stan), fmt.Sprintf("%012d", stan)
	in.Amount = amount
	in.StandInCode = standIn
	return &in
}

func (l *ledger) decide(in *domain.Input) domain.Outcome {
	l.t.Helper()
	out, err := l.store.Decide(context.Background(), in)
	if err != nil {
		l.t.Fatalf("decide %s: %v", in.MTI, err)
	}
	return out
}

type balances struct {
	ledger, held, available, receivable int64
	atmCount, pinTries                  int
	spend                               int64
}

func (l *ledger) balances(c testCard, today time.Time) balances {
	l.t.Helper()
	var b balances
	err := l.pool.QueryRow(context.Background(), `
SELECT ledger, held, available, receivable,
       CASE WHEN atm_day = $2 THEN atm_count ELSE 0 END, pin_tries, spend_total(spend_days, spend_day, $2)
  FROM card_accounts WHERE id = $1`, c.accountID, int32(today.Unix()/86400)).
		Scan(&b.ledger, &b.held, &b.available, &b.receivable, &b.atmCount, &b.pinTries, &b.spend)
	if err != nil {
		l.t.Fatal(err)
	}
	return b
}

// checkBooks verifies the invariants of the whole ledger: every account's ledger
// balance is the sum of its postings, its held amount the sum of its pending holds,
// receivables those of the receivable account, and one event per decision.
func (l *ledger) checkBooks() {
	l.t.Helper()
	ctx := context.Background()
	var bad int
	if err := l.pool.QueryRow(ctx, `
SELECT count(*) FROM card_accounts a
 WHERE a.ledger <> coalesce((SELECT sum(CASE WHEN p.credit = 'card' THEN p.amount WHEN p.debit = 'card' THEN -p.amount ELSE 0 END)
                               FROM postings p WHERE p.card_account_id = a.id), 0)
    OR a.held <> coalesce((SELECT sum(t.hold_amount) FROM card_transactions t WHERE t.card_account_id = a.id AND t.status = 'pending'), 0)
    OR a.receivable <> coalesce((SELECT sum(CASE WHEN p.debit = 'receivable' THEN p.amount WHEN p.credit = 'receivable' THEN -p.amount ELSE 0 END)
                                   FROM postings p WHERE p.card_account_id = a.id), 0)`).Scan(&bad); err != nil {
		l.t.Fatal(err)
	}
	if bad != 0 {
		l.t.Errorf("%d card accounts whose balances disagree with their postings or holds", bad)
	}
	var decisions, events int
	if err := l.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM authorizations), (SELECT count(*) FROM outbox WHERE event_type = 'andes.events.v1.AuthorizationDecided')`).
		Scan(&decisions, &events); err != nil {
		l.t.Fatal(err)
	}
	if decisions != events {
		l.t.Errorf("%d decisions but %d AuthorizationDecided events", decisions, events)
	}
}

func fundOf(c testCard, amount int64) domain.Funding {
	return domain.Funding{AccountID: c.accountID, Amount: amount, Reference: "test", PostingID: postgres.NewID(), Now: t0}
}
