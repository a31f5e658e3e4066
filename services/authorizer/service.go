// Package authorizer is the card authorizer's composition root: it wires the card
// ledger (adapters/postgres), the HSM client (adapters/hsm), the PAN vault
// (adapters/vault) and the use cases (app) into the ISO 8583 edge (ports/network)
// and card administration over gRPC (ports/grpcapi).
package authorizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	authorizerv1 "github.com/andes-bank/andes/gen/andes/authorizer/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/natsjs"
	"github.com/andes-bank/andes/platform/outbox"
	platformpg "github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/retention"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/authorizer/adapters/hsm"
	"github.com/andes-bank/andes/services/authorizer/adapters/postgres"
	"github.com/andes-bank/andes/services/authorizer/adapters/vault"
	"github.com/andes-bank/andes/services/authorizer/app"
	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/services/authorizer/ports/demoadmin"
	"github.com/andes-bank/andes/services/authorizer/ports/grpcapi"
	"github.com/andes-bank/andes/services/authorizer/ports/network"
)

// Schema is the authorizer's PostgreSQL schema.
const Schema = "authorizer"

// Config is the authorizer's environment.
type Config struct {
	config.Base
	EdgeAddr     string        `env:"ANDES_EDGE_ADDR,required,addr"`
	TextEncoding string        `env:"ANDES_AUTHORIZER_TEXT_ENCODING" default:"ascii"`
	HSMAddr      string        `env:"ANDES_HSM_EDGE_ADDR,required,addr"`
	DatabaseURL  config.Secret `env:"DATABASE_URL,required"`
	NATSURL      config.Secret `env:"NATS_URL"`
	// BIN is the card program's bank identification number (6 or 8 digits).
	BIN string `env:"ANDES_AUTHORIZER_BIN" default:"476134"`
	// IssuerCountry is ISO 3166 numeric: acquirers elsewhere are international.
	IssuerCountry string        `env:"ANDES_AUTHORIZER_ISSUER_COUNTRY" default:"604"`
	PreauthHold   time.Duration `env:"ANDES_AUTHORIZER_PREAUTH_HOLD" default:"720h"`
	Hold          time.Duration `env:"ANDES_AUTHORIZER_HOLD" default:"168h"`
	MaxInFlight   int           `env:"ANDES_AUTHORIZER_MAX_IN_FLIGHT" default:"256"`
	DBConns       int           `env:"ANDES_AUTHORIZER_DB_CONNS" default:"16"`
	// DemoFile is the demo bank to seed the personas' cards from; the
	// checkout's deploy/demo/demo.yaml when unset (platform/demo.Open).
	DemoFile string `env:"ANDES_DEMO_FILE"`
	// ScenarioCardsFile is where the demo bank writes the card network
	// simulator's scenario cards when an operator asks for them on the admin
	// listener (only with the demo bank; see package demoapi). Relative paths are
	// from the working folder: the repository's root under make up.
	ScenarioCardsFile string `env:"ANDES_AUTHORIZER_SCENARIO_CARDS_FILE" default:".run/cardnet/scenario-cards.json"`
	// Retention is how long idempotency keys and published events are kept.
	Retention retention.Config
}

// Validate checks what tags cannot.
func (c *Config) Validate() error {
	if _, err := iso8583.ParseTextEncoding(c.TextEncoding); err != nil {
		return &config.VarError{Var: "ANDES_AUTHORIZER_TEXT_ENCODING", Msg: "must be ascii or ebcdic"}
	}
	if (len(c.BIN) != 6 && len(c.BIN) != 8) || strings.Trim(c.BIN, "0123456789") != "" {
		return &config.VarError{Var: "ANDES_AUTHORIZER_BIN", Msg: "must be 6 or 8 digits"}
	}
	if c.MaxInFlight <= 0 || c.DBConns <= 0 {
		return &config.VarError{Var: "ANDES_AUTHORIZER_MAX_IN_FLIGHT", Msg: "limits must be positive"}
	}
	return nil
}

// Program returns the card program the configuration describes.
func (c *Config) Program() app.Program {
	return app.Program{
		BIN: c.BIN, ValidYears: 5, PVKI: 1,
		DefaultLimits:  domain.Limits{PerTransaction: 500_000, Rolling30Days: 2_000_000, DailyATMCount: 3},
		DefaultChannel: domain.Channels{POS: true, ECommerce: true, ATM: true},
	}
}

// Deps are what the service is built on; tests build them themselves.
type Deps struct {
	Pool    *pgxpool.Pool // opened on Schema and migrated
	HSM     *hsm.Client
	Program app.Program
	Policy  app.Policy
	Network network.Options
	Logger  *slog.Logger
	Now     func() time.Time
}

// Service is the assembled authorizer.
type Service struct {
	Store      *postgres.Store
	Vault      *vault.Vault
	Authorizer *app.Authorizer
	Cards      *app.Cards
	Holds      *app.HoldExpiry
	Network    *network.Server
	API        *grpcapi.Server
	log        *slog.Logger
}

// Build assembles the service on its dependencies: it loads the vault's keys
// through the HSM (creating them on a first start).
func Build(ctx context.Context, d Deps) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	store := postgres.New(d.Pool)
	v, err := vault.Open(ctx, store, d.HSM, d.Now())
	if err != nil {
		return nil, err
	}
	auth := app.NewAuthorizer(store, d.HSM, v, d.Policy, d.Now, postgres.NewID)
	cards := app.NewCards(store, v, d.HSM, d.Program, d.Now, postgres.NewID, auth.ForgetCard)
	keys := idempotency.New(d.Pool, idempotency.Options{Now: d.Now})
	api, err := grpcapi.New(cards, postgres.NewIdempotent(store, keys))
	if err != nil {
		return nil, err
	}
	if d.Network.Logger == nil {
		d.Network.Logger = d.Logger
	}
	return &Service{
		Store: store, Vault: v, Authorizer: auth, Cards: cards, API: api,
		Holds: app.NewHoldExpiry(store, d.Now), Network: network.NewServer(auth, d.Network), log: d.Logger,
	}, nil
}

// Setup is the whole process: server.Main(&cfg, cfg.Setup).
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	text, _ := iso8583.ParseTextEncoding(c.TextEncoding)
	pool, err := p.OpenPostgres(ctx, config.Secret(postgres.DecisionURL(c.DatabaseURL.Reveal(), c.DBConns)))
	if err != nil {
		return err
	}
	if err := platformpg.Migrate(ctx, pool, platformpg.SchemaName(p.Config.Name), postgres.Migrations()...); err != nil {
		return err
	}
	h, err := dialHSM(ctx, c.HSMAddr)
	if err != nil {
		return fmt.Errorf("ANDES_HSM_EDGE_ADDR: %w", err)
	}
	p.OnStop(func(context.Context) error { return h.Close() })
	svc, err := Build(ctx, Deps{
		Pool: pool, HSM: h, Program: c.Program(), Logger: p.Logger,
		Policy:  app.Policy{IssuerCountry: c.IssuerCountry, PreauthHold: c.PreauthHold, DefaultHold: c.Hold},
		Network: network.Options{Text: text, MaxInFlight: c.MaxInFlight},
	})
	if err != nil {
		return err
	}
	authorizerv1.RegisterAuthorizerServiceServer(p.GRPC, svc.API)
	if err := registerMetrics(p.Metrics, svc.Network.Stats()); err != nil {
		return err
	}

	seeded, err := svc.seedDemo(ctx, c.DemoFile)
	if err != nil {
		return err
	}
	if seeded {
		p.HandleAdmin("/demo/", demoadmin.Handler(svc.Cards, c.ScenarioCardsFile, p.Logger))
	}

	ln, err := net.Listen("tcp", c.EdgeAddr)
	if err != nil {
		return fmt.Errorf("ANDES_EDGE_ADDR: %w", err)
	}
	p.Logger.Info("ISO 8583 edge listening", "addr", ln.Addr().String(), "text", text.String())
	p.Go("iso8583", func(ctx context.Context) error { return svc.Network.Serve(ctx, ln, 5*time.Second) })
	p.Go("hold-expiry", func(ctx context.Context) error {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			if n, err := svc.Holds.Run(ctx); err != nil && ctx.Err() == nil {
				p.Logger.Warn("hold expiry", "err", err)
			} else if n > 0 {
				p.Logger.Info("holds expired", "count", n)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	if err := retention.Schedule(p, pool, c.Retention, retention.IdempotencyKeys, retention.Outbox); err != nil {
		return err
	}
	if c.NATSURL != "" {
		return startRelay(ctx, p, pool, c)
	}
	return nil
}

// dialHSM connects to the HSM, waiting for it a while: processes start together,
// and the HSM may not be listening yet.
func dialHSM(ctx context.Context, addr string) (*hsm.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		h, err := hsm.Dial(ctx, addr)
		if err == nil {
			return h, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// startRelay publishes the outbox to JetStream.
func startRelay(ctx context.Context, p *server.Process, pool *pgxpool.Pool, cfg *Config) error {
	nc, err := p.OpenNATS(ctx, cfg.NATSURL)
	if err != nil {
		return err
	}
	if _, err := natsjs.EnsureStream(ctx, nc.JS, jetstream.StreamConfig{
		Name: "ANDES_AUTHORIZER", Subjects: []string{"andes.events.authorizer.>"},
	}); err != nil {
		return err
	}
	relay := outbox.NewRelay(pool, outbox.JetStreamPublisher(nc.JS), outbox.RelayOptions{})
	p.Go("outbox", func(ctx context.Context) error {
		return relay.Run(ctx, func(err error) { p.Logger.Warn("outbox relay", "err", err) })
	})
	return nil
}

// seedDemo gives the personas their cards, once, when a demo bank is found
// (platform/demo.Open); it reports whether one was.
func (s *Service) seedDemo(ctx context.Context, file string) (bool, error) {
	ds, err := demo.Open(file)
	if errors.Is(err, demo.ErrNoDemoBank) {
		s.log.Warn("no demo bank to seed: set ANDES_DEMO_FILE", "err", err)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ANDES_DEMO_FILE: %w", err)
	}
	issued, err := s.Cards.SeedDemo(ctx, ds)
	for _, card := range issued {
		s.log.Info("demo card issued", "card_id", card.ID, "card", card.MaskedPAN(), "expiry", card.Expiry)
	}
	if err != nil {
		return false, fmt.Errorf("ANDES_DEMO_FILE: %w", err)
	}
	return true, nil
}

// registerMetrics exposes the edge's counters.
func registerMetrics(reg prometheus.Registerer, st *network.Stats) error {
	for name, c := range map[string]struct {
		help string
		v    *atomic.Int64
	}{
		"authorizer_iso8583_frames_total":          {"ISO 8583 frames read.", &st.Frames},
		"authorizer_iso8583_answered_total":        {"ISO 8583 responses written.", &st.Answered},
		"authorizer_iso8583_shed_total":            {"Authorizations left unanswered under overload, for the network to stand in.", &st.Shed},
		"authorizer_iso8583_format_errors_total":   {"Frames answered with DE39 30.", &st.FormatErrors},
		"authorizer_iso8583_closed_on_error_total": {"Connections closed for garbage or oversized frames.", &st.ClosedOnError},
		"authorizer_decisions_failed_total":        {"Decisions that could not be made (96 or no acknowledgement).", &st.Failed},
		"authorizer_iso8583_panics_total":          {"Panics recovered on the edge.", &st.Panics},
	} {
		v := c.v
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: c.help},
			func() float64 { return float64(v.Load()) })); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}
