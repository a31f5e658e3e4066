// Package authorizertest runs the real card authorizer in-process for other
// packages' tests and benchmarks: a fresh PostgreSQL database (platform/testenv),
// an HSM simulator the caller started (StartHSM runs one as a process) over real
// TCP, and the ISO 8583 edge on a loopback port, with cards issued for the test
// whose PAN, expiry, CVV2 and PIN the test knows.
//
// The clear PAN reaches the test through the service's own vault, in process:
// card administration over gRPC never returns one (PCI DSS 3.4: the issuing
// caller needs the card's reference and masked number, not its number; the
// plastic carries it to the cardholder).
package authorizertest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	platformpg "github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/services/authorizer"
	"github.com/andes-bank/andes/services/authorizer/adapters/hsm"
	"github.com/andes-bank/andes/services/authorizer/adapters/postgres"
	"github.com/andes-bank/andes/services/authorizer/app"
	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/services/authorizer/ports/network"
)

// DefaultPIN is the PIN IssueCard sets unless told otherwise.
const DefaultPIN = "4524"

// Stack is the authorizer running for a test.
type Stack struct {
	tb      testing.TB
	text    iso8583.TextEncoding
	isoAddr string
	dsn     string
	// Service is the assembled authorizer, for what this package does not wrap.
	Service *authorizer.Service
	// Pool is the authorizer's database pool (schema authorizer).
	Pool *pgxpool.Pool
	// HSM is the HSM simulator the authorizer talks to, for turning its fault
	// knobs during a test.
	HSM  HSM
	stop func()
	seq  atomic.Int64
}

type options struct {
	text     iso8583.TextEncoding
	now      func() time.Time
	conns    int32
	network  network.Options
	bin      string
	logger   *slog.Logger
	customer string
}

// Option changes how Start builds the stack.
type Option func(*options)

// WithText chooses the edge's text encoding (default ASCII).
func WithText(e iso8583.TextEncoding) Option { return func(o *options) { o.text = e } }

// WithClock gives the authorizer its clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithDBConns sizes the decision pool (default 16).
func WithDBConns(n int32) Option { return func(o *options) { o.conns = n } }

// WithNetwork sets the edge's options; Text is always the stack's encoding.
func WithNetwork(n network.Options) Option { return func(o *options) { o.network = n } }

// WithLogger sends the authorizer's logs to l (default discarded).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Start runs the authorizer, talking to the HSM simulator sim, until the test
// ends.
func Start(tb testing.TB, sim HSM, opts ...Option) *Stack {
	tb.Helper()
	o := options{text: iso8583.ASCII, now: time.Now, conns: 16, bin: "476134", customer: "6f1c2f8e-0000-4000-8000-000000000001"}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	dsn := testenv.PostgresURL(tb)
	pool, err := platformpg.Open(ctx, platformpg.Config{URL: postgres.DecisionURL(dsn, 0), Schema: authorizer.Schema, MaxConns: o.conns})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	if err := platformpg.Migrate(ctx, pool, authorizer.Schema, postgres.Migrations()...); err != nil {
		tb.Fatal(err)
	}

	h, err := hsm.Dial(ctx, sim.Addr)
	if err != nil {
		tb.Fatal(err)
	}

	o.network.Text = o.text
	if o.network.AuthorizationTimeout == 0 {
		// A loaded test machine must not turn slow decisions into silence.
		o.network.AuthorizationTimeout = 20 * time.Second
	}
	cfg := authorizer.Config{BIN: o.bin}
	svc, err := authorizer.Build(ctx, authorizer.Deps{
		Pool: pool, HSM: h, Program: cfg.Program(), Logger: o.logger, Now: o.now,
		Policy:  app.Policy{IssuerCountry: "604", HSMTimeout: 5 * time.Second},
		Network: o.network,
	})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- svc.Network.Serve(sctx, ln, 5*time.Second) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				tb.Errorf("authorizertest: serve: %v", err)
			}
			h.Close()
		})
	}
	tb.Cleanup(stop)
	return &Stack{tb: tb, text: o.text, isoAddr: ln.Addr().String(), dsn: dsn, Service: svc, Pool: pool,
		HSM: sim, stop: stop}
}

// Stop shuts the edge and the connection to the HSM down before the test ends
// (a restart test); the test's cleanup does it otherwise. Calling it twice is
// harmless.
func (s *Stack) Stop() { s.stop() }

// ISOAddr is the ISO 8583 edge's address.
func (s *Stack) ISOAddr() string { return s.isoAddr }

// Text is the edge's text encoding.
func (s *Stack) Text() iso8583.TextEncoding { return s.text }

// PostgresURL is the stack's database (pgbench runs against it).
func (s *Stack) PostgresURL() string { return s.dsn }

// Card is a card issued for a test, its secrets known to the test.
type Card struct {
	ID, AccountID string
	PAN           string
	Expiry        string // YYMM
	CVV2          string
	PIN           string
	Currency      string // the card account's, ISO 4217 numeric
}

// String never shows the PAN.
func (c Card) String() string { return "card " + c.ID + " " + iso8583.MaskPAN(c.PAN) }

// CardOptions shape IssueCard.
type CardOptions struct {
	Balance  int64            // funded from program funding; 0 leaves it empty
	PIN      string           // default DefaultPIN; "-" sets none
	Limits   *domain.Limits   // nil: the program's
	Channels *domain.Channels // nil: the program's
	Name     string           // cardholder name (default "MARIA QUISPE")
}

// IssueCard opens a PEN card account, funds it and issues an active card on it
// with its PIN set from an encrypted PIN block.
func (s *Stack) IssueCard(ctx context.Context, o CardOptions) Card {
	s.tb.Helper()
	acct, err := s.Service.Cards.OpenAccount(ctx, fmt.Sprintf("6f1c2f8e-0000-4000-8000-%012d", s.seq.Add(1)), "PEN")
	if err != nil {
		s.tb.Fatal(err)
	}
	if o.Balance > 0 {
		s.Fund(ctx, acct.ID, o.Balance)
	}
	if o.Name == "" {
		o.Name = "MARIA QUISPE"
	}
	c, cvv2, err := s.Service.Cards.IssueCard(ctx, app.IssueRequest{AccountID: acct.ID, CardholderName: o.Name, Limits: o.Limits, Channels: o.Channels})
	if err != nil {
		s.tb.Fatal(err)
	}
	pan, err := s.PAN(ctx, c.ID)
	if err != nil {
		s.tb.Fatal(err)
	}
	card := Card{ID: c.ID, AccountID: acct.ID, PAN: pan, Expiry: c.Expiry, CVV2: cvv2, Currency: acct.Currency}
	if cur, ok := domain.CurrencyByAlpha(acct.Currency); ok {
		card.Currency = cur.Numeric
	}
	switch o.PIN {
	case "-":
	case "":
		card.PIN = DefaultPIN
	default:
		card.PIN = o.PIN
	}
	if card.PIN != "" {
		s.SetPIN(ctx, card, card.PIN)
	}
	return card
}

// PAN reads a card's number out of the vault, in process.
func (s *Stack) PAN(ctx context.Context, cardID string) (string, error) {
	ct, _, err := s.Service.Store.CardPAN(ctx, cardID)
	if err != nil {
		return "", err
	}
	return s.Service.Vault.Decrypt(cardID, ct)
}

// PINBlock is pin for pan as the network sends it: ISO 9564 format 0 under the
// HSM's zone PIN key.
func (s *Stack) PINBlock(pan, pin string) []byte {
	s.tb.Helper()
	return s.HSM.PINBlock(s.tb, pan, pin)
}

// SetPIN sets the card's PIN through the use case, from a PIN block.
func (s *Stack) SetPIN(ctx context.Context, c Card, pin string) {
	s.tb.Helper()
	if _, err := s.Service.Cards.SetPIN(ctx, c.ID, s.PINBlock(c.PAN, pin)); err != nil {
		s.tb.Fatal(err)
	}
}

// Fund credits the card account from program funding.
func (s *Stack) Fund(ctx context.Context, accountID string, amount int64) {
	s.tb.Helper()
	acct, err := s.Service.Store.Account(ctx, accountID)
	if err != nil {
		s.tb.Fatal(err)
	}
	if _, _, err := s.Service.Cards.Fund(ctx, accountID, amount, acct.Currency, "authorizertest", ""); err != nil {
		s.tb.Fatal(err)
	}
}

// Balances is a card account as the card ledger has it, in minor units.
type Balances struct {
	Available, Held, Ledger, Receivable int64
}

// Balances reads the card's account.
func (s *Stack) Balances(ctx context.Context, c Card) (Balances, error) {
	a, err := s.Service.Store.Account(ctx, c.AccountID)
	if err != nil {
		return Balances{}, err
	}
	return Balances{Available: a.Available, Held: a.Held, Ledger: a.Ledger, Receivable: a.Receivable}, nil
}

// Counters are the card account's decision counters as last written.
type Counters struct {
	ATMCount int   // withdrawals on the account's latest ATM day
	PINTries int   // wrong PINs in a row
	Spent30  int64 // rolling 30-day spend up to the latest spend day
}

// Counters reads the counters the decision statement keeps on the card account.
func (s *Stack) Counters(ctx context.Context, c Card) (Counters, error) {
	var out Counters
	err := s.Pool.QueryRow(ctx, `SELECT atm_count, pin_tries, spend_total(spend_days, spend_day, spend_day)
  FROM card_accounts WHERE id = $1`, c.AccountID).Scan(&out.ATMCount, &out.PINTries, &out.Spent30)
	if err != nil {
		return out, fmt.Errorf("authorizertest: counters: %w", err)
	}
	return out, nil
}
