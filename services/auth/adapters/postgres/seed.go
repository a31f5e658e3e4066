package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/services/auth/domain"
)

// Client ids of the bank's own apps.
const (
	WebClientID    = "bff-web"
	MobileClientID = "andes-mobile"
)

// Mobile redirect URIs: the app's custom scheme (RFC 8252 section 7.1) and a
// loopback URI (section 7.3, any port) for tests and desktop tools.
var MobileRedirectURIs = []string{"pe.andes.mobile:/oauth2redirect", "http://127.0.0.1/oauth2redirect"}

// CustomerScopes are what the bank's apps may ask for on a customer's behalf: all
// but cash, which is for agents.
var CustomerScopes = domain.MustScopes(domain.ScopeAccountsRead, domain.ScopeAccountsWrite, domain.ScopeTransfersWrite,
	domain.ScopeCustomersRead, domain.ScopeCustomersWrite, domain.ScopeCardsRead, domain.ScopeCardsWrite, domain.ScopeOfflineAccess)

// DemoWebSecret is the web BFF's client secret in the demo bank, derived from the
// demo seed the way platform/demo derives partners' and agents' secrets, so the
// BFF knows it without asking.
func DemoWebSecret(ds *demo.Dataset) string { return ds.ClientSecret(WebClientID) }

// DemoClients are the clients of the demo bank.
func DemoClients(ds *demo.Dataset, hasher *domain.SecretHasher, webRedirect string) ([]*domain.Client, error) {
	clients := []*domain.Client{
		{ID: WebClientID, Name: "Banca por internet Andes", Kind: domain.KindWeb, SecretHash: hasher.Hash(DemoWebSecret(ds)),
			RedirectURIs: []string{webRedirect}, Scopes: CustomerScopes},
		{ID: MobileClientID, Name: "App Andes", Kind: domain.KindMobile, RedirectURIs: MobileRedirectURIs, Scopes: CustomerScopes},
	}
	for _, p := range ds.Partners {
		var scopes []domain.Scope
		for _, s := range p.Scopes {
			if _, err := domain.ParseScopes(s); err != nil {
				return nil, fmt.Errorf("demo partner %s: unknown scope %q", p.Key, s)
			}
			scopes = append(scopes, domain.Scope(s))
		}
		clients = append(clients, &domain.Client{ID: p.ClientID, Name: p.Name, Kind: domain.KindPartner,
			SecretHash: hasher.Hash(p.ClientSecret), Scopes: domain.MustScopes(scopes...), PartnerID: p.Key})
	}
	for _, a := range ds.Agents {
		clients = append(clients, &domain.Client{ID: a.ClientID, Name: a.Name, Kind: domain.KindAgent,
			SecretHash: hasher.Hash(a.ClientSecret), Scopes: domain.MustScopes(domain.ScopeCash), PartnerID: a.Partner})
	}
	return clients, nil
}

// DemoSeed is what seeding the demo bank needs besides the dataset.
type DemoSeed struct {
	Hasher         *domain.SecretHasher
	WebRedirect    string // the web BFF's redirect URI
	PasswordParams domain.PasswordParams
	Now            time.Time
}

// SeedDemo registers the demo clients (updating them, so a new pepper or edge
// address takes effect) and creates the personas' credentials once; generated
// customers have no password and cannot log in.
func (s *Store) SeedDemo(ctx context.Context, ds *demo.Dataset, o DemoSeed) error {
	clients, err := DemoClients(ds, o.Hasher, o.WebRedirect)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if err := s.UpsertClient(ctx, c, o.Now); err != nil {
			return err
		}
	}
	for _, c := range ds.Customers {
		if c.Password == "" {
			continue
		}
		if _, err := s.UserByLogin(ctx, domain.Login{DocumentType: c.DocumentType, Identifier: c.DocumentNumber}); err == nil {
			continue
		} else if !errors.Is(err, domain.ErrUserNotFound) {
			return err
		}
		u, err := domain.NewUser(c.ID, c.DocumentType, c.DocumentNumber, "", c.Password, o.PasswordParams, o.Now)
		if err != nil {
			return fmt.Errorf("demo persona %s: %w", c.Key, err)
		}
		if err := s.CreateUser(ctx, u); err != nil && !errors.Is(err, domain.ErrUserExists) {
			return err
		}
	}
	return nil
}
