package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	authpg "github.com/andes-bank/andes/services/auth/adapters/postgres"
	"github.com/andes-bank/andes/services/auth/domain"
)

func newStore(t *testing.T) *authpg.Store {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, postgres.Config{URL: testenv.PostgresURL(t), Schema: "auth"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.Migrate(ctx, pool, "auth", authpg.Migrations()); err != nil {
		t.Fatal(err)
	}
	return authpg.New(pool)
}

func TestClients(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	c := &domain.Client{ID: "partner-kallpa", Name: "Kallpa", Kind: domain.KindPartner, SecretHash: make([]byte, 32),
		Scopes: domain.MustScopes(domain.ScopeCash, domain.ScopeAccountsRead), PartnerID: "kallpa"}
	if err := s.UpsertClient(ctx, c, now); err != nil {
		t.Fatal(err)
	}
	c.Name = "Kallpa Pagos"
	if err := s.UpsertClient(ctx, c, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Client(ctx, "partner-kallpa")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Kallpa Pagos" || got.Kind != domain.KindPartner || got.PartnerID != "kallpa" || got.Scopes.String() != "accounts:read cash" || len(got.SecretHash) != 32 {
		t.Fatalf("client %+v", got)
	}
	if _, err := s.Client(ctx, "nobody"); !errors.Is(err, domain.ErrUnknownClient) {
		t.Fatalf("unknown client: %v", err)
	}
	bad := &domain.Client{ID: "x", Kind: domain.KindWeb}
	if err := s.UpsertClient(ctx, bad, now); err == nil {
		t.Fatal("an invalid client was stored")
	}
	all, err := s.Clients(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("clients %v, %v", all, err)
	}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	p := domain.PasswordParams{Time: 1, Memory: 1024, Threads: 1}
	u, err := domain.NewUser("0b3e1a52-3c4d-5e6f-8a9b-0c1d2e3f4a5b", "DNI", "45678912", "maria.q", "Andes-Demo-2026!", p, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, u); !errors.Is(err, domain.ErrUserExists) {
		t.Fatalf("second create: %v", err)
	}
	other, _ := domain.NewUser("1b3e1a52-3c4d-5e6f-8a9b-0c1d2e3f4a5b", "DNI", "45678912", "", "Andes-Demo-2026!", p, now)
	if err := s.CreateUser(ctx, other); !errors.Is(err, domain.ErrUserExists) {
		t.Fatalf("same document: %v", err)
	}
	for _, l := range []domain.Login{{DocumentType: "DNI", Identifier: "45678912"}, {Identifier: "maria.q"}} {
		got, err := s.UserByLogin(ctx, l)
		if err != nil || got.CustomerID != u.CustomerID || got.Status != domain.UserActive || !got.CreatedAt.Equal(now) {
			t.Fatalf("by %+v: %+v, %v", l, got, err)
		}
	}
	if _, err := s.UserByLogin(ctx, domain.Login{DocumentType: "CE", Identifier: "45678912"}); !errors.Is(err, domain.ErrUserNotFound) {
		t.Fatalf("other type: %v", err)
	}
	if _, err := s.User(ctx, "not-a-uuid"); !errors.Is(err, domain.ErrUserNotFound) {
		t.Fatalf("bad id: %v", err)
	}
	d, changed, err := s.SetUserStatus(ctx, u.CustomerID, domain.UserDisabled, "fraud suspicion", now.Add(time.Minute))
	if err != nil || !changed || d.Status != domain.UserDisabled || d.DisabledReason != "fraud suspicion" {
		t.Fatalf("disable: %+v %v %v", d, changed, err)
	}
	d, changed, err = s.SetUserStatus(ctx, u.CustomerID, domain.UserDisabled, "again", now.Add(2*time.Minute))
	if err != nil || changed || d.DisabledReason != "fraud suspicion" || !d.UpdatedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("disable twice: %+v %v %v", d, changed, err)
	}
	d, changed, err = s.SetUserStatus(ctx, u.CustomerID, domain.UserActive, "cleared", now.Add(3*time.Minute))
	if err != nil || !changed || d.Status != domain.UserActive || d.DisabledReason != "" {
		t.Fatalf("enable: %+v %v %v", d, changed, err)
	}
}

func TestSigningKeysAndAudit(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	k := func(kid string, at time.Time) domain.SigningKeyRecord {
		return domain.SigningKeyRecord{KID: kid, Alg: "EdDSA", SealedKey: []byte("sealed"), PublicKey: []byte("pub"), CreatedAt: at}
	}
	if added, err := s.AddSigningKey(ctx, k("a", t0), t0.Add(-time.Hour)); err != nil || !added {
		t.Fatalf("first key: %v %v", added, err)
	}
	// Another instance rotating within the same period adds nothing.
	if added, err := s.AddSigningKey(ctx, k("b", t0.Add(time.Minute)), t0.Add(-time.Hour)); err != nil || added {
		t.Fatalf("concurrent rotation: %v %v", added, err)
	}
	if added, err := s.AddSigningKey(ctx, k("c", t0.Add(2*time.Hour)), t0.Add(time.Hour)); err != nil || !added {
		t.Fatalf("rotation: %v %v", added, err)
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].KID != "c" || keys[1].KID != "a" {
		t.Fatalf("keys %+v %v", keys, err)
	}
	if n, err := s.DeleteSigningKeysBefore(ctx, t0.Add(time.Hour), "c"); err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}

	events := []domain.AuditEvent{
		{At: t0, Action: domain.ActionLogin, Success: false, Failure: "invalid_password", CustomerID: "c1", ClientID: "bff-web", OriginIP: "127.0.0.1", UserAgent: strings.Repeat("x", 10)},
		{At: t0.Add(time.Second), Action: domain.ActionTokenIssued, Success: true, ClientID: "partner-kallpa", Detail: "jti=1"},
	}
	if err := s.InsertAudit(ctx, events); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuditEvents(ctx, "", 10)
	if err != nil || len(got) != 2 || got[0].Action != domain.ActionTokenIssued || got[1].Failure != "invalid_password" {
		t.Fatalf("audit %+v %v", got, err)
	}
	got, err = s.AuditEvents(ctx, "c1", 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("audit of c1 %+v %v", got, err)
	}
}
