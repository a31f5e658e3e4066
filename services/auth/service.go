package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"google.golang.org/grpc"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/natsjs"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/redisconn"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/tokens"
	customerclient "github.com/andes-bank/andes/services/auth/adapters/customer"
	authpg "github.com/andes-bank/andes/services/auth/adapters/postgres"
	"github.com/andes-bank/andes/services/auth/adapters/redisstore"
	"github.com/andes-bank/andes/services/auth/adapters/signing"
	"github.com/andes-bank/andes/services/auth/adapters/smsgateway"
	"github.com/andes-bank/andes/services/auth/app"
	"github.com/andes-bank/andes/services/auth/domain"
	"github.com/andes-bank/andes/services/auth/ports"
)

// Deps are the connections auth runs on; Open makes them from the configuration,
// tests pass their own.
type Deps struct {
	DB    *pgxpool.Pool
	Redis *redisconn.Client
	NATS  *natsjs.Conn
	// Customer is the customer service, which answers customers' phones; nil
	// (tests that send no codes) finds none.
	Customer grpc.ClientConnInterface
	// Demo is the demo bank to seed; nil seeds nothing.
	Demo *demo.Dataset
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// PasswordParams override argon2id's cost (tests use a cheap one).
	PasswordParams domain.PasswordParams
}

// Open connects to PostgreSQL (auth's schema), Redis (keys under "auth:"), NATS
// and the customer service through the chassis, and loads the demo file.
func Open(ctx context.Context, cfg *Config, p *server.Process) (Deps, error) {
	var d Deps
	var err error
	if d.DB, err = p.OpenPostgres(ctx, cfg.DatabaseURL); err != nil {
		return d, err
	}
	if d.Redis, err = p.OpenRedis(ctx, cfg.RedisURL); err != nil {
		return d, err
	}
	if d.NATS, err = p.OpenNATS(ctx, cfg.NATSURL); err != nil {
		return d, err
	}
	if d.Customer, err = p.Dial("customer", cfg.CustomerAddr, grpcclient.Options{Retry: customerclient.RetryMethods}); err != nil {
		return d, fmt.Errorf("ANDES_CUSTOMER_ADDR: %w", err)
	}
	d.Demo, err = demo.Open(cfg.DemoFile)
	if errors.Is(err, demo.ErrNoDemoBank) {
		p.Logger.Warn("no demo bank to seed: set ANDES_DEMO_FILE", "err", err)
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("ANDES_DEMO_FILE: %w", err)
	}
	return d, nil
}

// Setup is the whole process: server.Main(&cfg, cfg.Setup).
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	deps, err := Open(ctx, c, p)
	if err != nil {
		return err
	}
	svc, err := New(ctx, c, deps, p.Logger)
	if err != nil {
		return err
	}
	svc.Register(p)
	return nil
}

// Service is auth assembled.
type Service struct {
	cfg     *Config
	deps    Deps
	log     *slog.Logger
	store   *authpg.Store
	audit   *authpg.AuditLog
	tokens  *redisstore.TokenStore
	keyring *signing.Keyring
	app     *app.App
	oauth   *ports.OAuth
	grpc    *ports.GRPC
	issuer  string
	feed    tokens.Feed
}

// New migrates the schema, seeds the demo bank, loads the signing keys and wires
// the application.
func New(ctx context.Context, cfg *Config, d Deps, log *slog.Logger) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	issuer, err := cfg.IssuerURL()
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, deps: d, log: log, issuer: issuer, feed: cfg.Feed()}
	pepper := cfg.Pepper.Reveal()
	if pepper == "" {
		pepper = DevPepper
		log.Warn("ANDES_AUTH_PEPPER_FILE is not set: using the development pepper; never for real customers")
	}
	hasher, err := domain.NewSecretHasher([]byte(pepper))
	if err != nil {
		return nil, fmt.Errorf("ANDES_AUTH_PEPPER: %w", err)
	}

	schema := postgres.SchemaName(cfg.Name)
	if err := postgres.Migrate(ctx, d.DB, schema, authpg.Migrations()); err != nil {
		return nil, err
	}
	s.store = authpg.New(d.DB)
	if d.Demo != nil {
		if err := s.store.SeedDemo(ctx, d.Demo, authpg.DemoSeed{Hasher: hasher, WebRedirect: cfg.WebRedirect(),
			PasswordParams: passwordParams(d.PasswordParams), Now: d.Now()}); err != nil {
			return nil, fmt.Errorf("seed demo: %w", err)
		}
	}

	s.keyring, err = signing.NewKeyring(s.store, signing.Options{
		Rotation: cfg.KeyRotation,
		Retain:   cfg.AccessTokenTTL + time.Minute,
		SealKey:  hasher.Derive("signing-key-seal"),
		Now:      d.Now,
	})
	if err != nil {
		return nil, err
	}
	if err := s.keyring.Load(ctx); err != nil {
		return nil, err
	}

	s.audit = authpg.NewAuditLog(s.store, 10000, log)
	s.tokens = redisstore.NewTokenStore(d.Redis, redisstore.Options{
		FamilyLifetime:    cfg.RefreshTokenTTL,
		MaxAccessLifetime: cfg.AccessTokenTTL,
		Now:               d.Now,
		OnReuse: func(ctx context.Context, r redisstore.Reuse) {
			s.app.Audit(ctx, domain.AuditEvent{Action: domain.ActionTokenRevoked, Success: true, Failure: r.Kind + "_reused",
				CustomerID: r.Subject, ClientID: r.ClientID, Detail: fmt.Sprintf("family=%s revoked=%d", r.FamilyID, r.Revoked)})
			log.WarnContext(ctx, "token reuse detected; grant revoked", "kind", r.Kind, "client_id", r.ClientID, "family", r.FamilyID)
		},
	})
	userLock := domain.DefaultUserLockout
	userLock.MaxFailures = cfg.LoginMaxFailures
	var phones app.Phones = noPhones{}
	if d.Customer != nil {
		phones = customerclient.New(d.Customer)
	}
	var sms app.SMS = noSMS{}
	if cfg.SMSEdgeAddr != "" {
		sms = smsgateway.New("http://"+cfg.SMSEdgeAddr, "Andes")
	}
	s.app = app.New(app.Deps{
		Clients:        s.store,
		Users:          s.store,
		Credentials:    s.store,
		StepUps:        redisstore.NewStepUps(d.Redis),
		SMS:            sms,
		Phones:         phones,
		Devices:        s.store,
		DeviceNonces:   redisstore.NewDeviceChallenges(d.Redis, 2*time.Minute),
		Throttle:       redisstore.NewThrottle(d.Redis, userLock, domain.DefaultIPLockout, d.Now),
		Audit:          s.audit,
		Tokens:         s.tokens,
		Secrets:        hasher,
		PasswordParams: passwordParams(d.PasswordParams),
		Now:            d.Now,
		Logger:         log,
	})
	s.oauth, err = ports.NewOAuth(ports.OAuthConfig{
		Issuer:          issuer,
		AccessTokenTTL:  cfg.AccessTokenTTL,
		RefreshTokenTTL: cfg.RefreshTokenTTL,
		CodeTTL:         cfg.CodeTTL,
		CSRFKey:         hasher.Derive("login-csrf"),
		Logger:          log,
	}, s.app, s.tokens, s.keyring)
	if err != nil {
		return nil, err
	}
	if s.grpc, err = ports.NewGRPC(s.app); err != nil {
		return nil, err
	}
	if _, err := natsjs.EnsureStream(ctx, d.NATS.JS, s.feed.StreamConfig(cfg.AccessTokenTTL+5*time.Minute)); err != nil {
		return nil, err
	}
	return s, nil
}

// noSMS is the SMS gateway of a process configured without one.
type noSMS struct{}

func (noSMS) Send(context.Context, string, string, string) error { return domain.ErrSMSUnavailable }

// noPhones is the phone book of a process built without the customer service.
type noPhones struct{}

func (noPhones) Phone(context.Context, string) (string, error) { return "", domain.ErrNoPhone }

func passwordParams(p domain.PasswordParams) domain.PasswordParams {
	if p.Time == 0 {
		return domain.DefaultPasswordParams
	}
	return p
}

// Register adds auth's listeners and tasks to the process: the OAuth2 edge, the
// audit writer, the revocation publisher and the key rotation.
func (s *Service) Register(p *server.Process) {
	p.ServeHTTP("edge", s.cfg.EdgeAddr, s.oauth.Handler())
	authv1.RegisterAuthServiceServer(p.GRPC, s.grpc)
	p.Go("audit", s.audit.Run)
	p.Go("revocations", func(ctx context.Context) error {
		return s.tokens.DrainRevocations(ctx, s.publishRevocations, 100*time.Millisecond, func(err error) {
			s.log.WarnContext(ctx, "revocations not yet published", "err", err)
		})
	})
	p.Go("signing-keys", func(ctx context.Context) error {
		return s.keyring.Run(ctx, time.Minute, func(err error) {
			s.log.ErrorContext(ctx, "signing keys not reloaded", "err", err)
		})
	})
}

// publishRevocations announces revocations on the feed verifiers follow; JetStream
// acknowledges each, and the message id makes a repeat harmless.
func (s *Service) publishRevocations(ctx context.Context, revs []redisstore.Revocation) error {
	now := s.deps.Now()
	for _, r := range revs {
		var msg *nats.Msg
		var err error
		if r.JTI != "" {
			msg, err = s.feed.TokenRevokedMsg(tokens.RevokedToken{JTI: r.JTI, Expires: r.Expires}, s.cfg.Name, now)
		} else {
			msg, err = s.feed.SubjectRevokedMsg(tokens.RevokedSubject{Subject: r.Subject, Before: r.Before, Expires: r.Expires}, s.cfg.Name, now)
		}
		if err != nil {
			return err
		}
		if _, err := s.deps.NATS.JS.PublishMsg(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

// Issuer is the issuer URL.
func (s *Service) Issuer() string { return s.issuer }

// Keyring gives tests and tools the signing keys (to rotate them).
func (s *Service) Keyring() *signing.Keyring { return s.keyring }

// FlushAudit waits until the audit events recorded so far are written.
func (s *Service) FlushAudit(ctx context.Context) { s.audit.Flush(ctx) }

// Store is auth's repository, for tests and tools.
func (s *Service) Store() *authpg.Store { return s.store }

// Tokens is the token store, for tests.
func (s *Service) Tokens() *redisstore.TokenStore { return s.tokens }
