// Package app holds the customer service's use cases. Every one takes the acting
// principal and answers domain.ErrNotFound for objects it may not see, exactly as
// for objects that do not exist.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/andes-bank/andes/services/customer/domain"
)

// Store is the repository the use cases need.
type Store interface {
	Customer(ctx context.Context, id string) (*domain.Customer, error)
	CustomerByDocument(ctx context.Context, docType, number string) (*domain.Customer, error)
	SetPreferences(ctx context.Context, customerID string, p domain.Preferences, now time.Time) error
	PartnerCustomers(ctx context.Context, partnerID string, limit int, pageToken string) ([]*domain.Customer, string, error)
	Partner(ctx context.Context, id string) (*domain.Partner, error)
	Account(ctx context.Context, id string) (*domain.Account, error)
	AccountByNumber(ctx context.Context, number string) (*domain.Account, error)
	Accounts(ctx context.Context, customerID string, includeClosed bool) ([]*domain.Account, error)
}

// CoreBanking is what the use cases need from the facade. Implementations answer
// domain.ErrUnavailable when the facade or the core cannot answer, and
// domain.ErrNotFound when the core does not know the object.
type CoreBanking interface {
	Snapshot(ctx context.Context, customerNumber string, requireFresh bool) (*domain.Snapshot, error)
	Movements(ctx context.Context, accountNumber string, pageSize int, pageToken string) ([]domain.Movement, string, error)
}

// App is the set of use cases.
type App struct {
	store Store
	core  CoreBanking
	now   func() time.Time
}

// New returns the use cases; now is the clock (time.Now in production).
func New(store Store, core CoreBanking, now func() time.Time) *App {
	return &App{store: store, core: core, now: now}
}

// visibleCustomer loads a customer the actor may see; anything else is not found.
func (a *App) visibleCustomer(ctx context.Context, actor domain.Actor, id string) (*domain.Customer, error) {
	c, err := a.store.Customer(ctx, id)
	if err != nil {
		return nil, err
	}
	if !actor.CanSeeCustomer(c) {
		return nil, domain.ErrNotFound
	}
	return c, nil
}

// visibleAccount loads an account whose owner the actor may see.
func (a *App) visibleAccount(ctx context.Context, actor domain.Actor, id string) (*domain.Account, *domain.Customer, error) {
	acc, err := a.store.Account(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.visibleCustomer(ctx, actor, acc.CustomerID)
	if err != nil {
		return nil, nil, err
	}
	return acc, c, nil
}

// GetCustomer returns a customer.
func (a *App) GetCustomer(ctx context.Context, actor domain.Actor, id string) (*domain.Customer, error) {
	return a.visibleCustomer(ctx, actor, id)
}

// LookupCustomer finds a customer by document.
func (a *App) LookupCustomer(ctx context.Context, actor domain.Actor, docType, number string) (*domain.Customer, error) {
	c, err := a.store.CustomerByDocument(ctx, docType, number)
	if err != nil {
		return nil, err
	}
	if !actor.CanSeeCustomer(c) {
		return nil, domain.ErrNotFound
	}
	return c, nil
}

// ErrDefaultAccount is a default account the customer does not own or that is
// closed.
var ErrDefaultAccount = fmt.Errorf("%w: default_account_id is not one of the customer's open accounts", domain.ErrInvalid)

// UpdatePreferences replaces a customer's preferences.
func (a *App) UpdatePreferences(ctx context.Context, actor domain.Actor, id string, p domain.Preferences) (*domain.Customer, error) {
	c, err := a.visibleCustomer(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if p.Language == "" {
		p.Language = domain.DefaultPreferences().Language
	}
	if p.DefaultAccountID != "" {
		acc, err := a.store.Account(ctx, p.DefaultAccountID)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			return nil, ErrDefaultAccount
		case err != nil:
			return nil, err
		case acc.CustomerID != c.ID || acc.Status == domain.AccountClosed:
			return nil, ErrDefaultAccount
		}
	}
	if err := a.store.SetPreferences(ctx, c.ID, p, a.now()); err != nil {
		return nil, err
	}
	return a.store.Customer(ctx, c.ID)
}

// Page sizes of lists: 0 means the default, above the maximum means the maximum.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

func pageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// ListPartnerCustomers pages through a partner's customers, newest first.
func (a *App) ListPartnerCustomers(ctx context.Context, actor domain.Actor, partnerID string, size int, token string) ([]*domain.Customer, string, error) {
	if !actor.CanSeePartner(partnerID) {
		return nil, "", domain.ErrNotFound
	}
	if _, err := a.store.Partner(ctx, partnerID); err != nil {
		return nil, "", err
	}
	return a.store.PartnerCustomers(ctx, partnerID, pageSize(size), token)
}

// GetPartner returns a partner.
func (a *App) GetPartner(ctx context.Context, actor domain.Actor, id string) (*domain.Partner, error) {
	if !actor.CanSeePartner(id) {
		return nil, domain.ErrNotFound
	}
	return a.store.Partner(ctx, id)
}

// GetAccount returns an account whose owner the actor may see.
func (a *App) GetAccount(ctx context.Context, actor domain.Actor, id string) (*domain.Account, error) {
	acc, _, err := a.visibleAccount(ctx, actor, id)
	return acc, err
}

// AccountLookup is an account resolved from its number for a payer.
type AccountLookup struct {
	Account    *domain.Account
	MaskedName string
}

// LookupAccountNumber resolves an account number for a payment. Any caller may
// ask; an end user who does not own the account sees no owner id, only the masked
// name.
func (a *App) LookupAccountNumber(ctx context.Context, actor domain.Actor, number string) (*AccountLookup, error) {
	acc, err := a.store.AccountByNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	c, err := a.store.Customer(ctx, acc.CustomerID)
	if err != nil {
		return nil, err
	}
	shown := *acc
	if !actor.SeesOwners() && !actor.CanSeeCustomer(c) {
		shown.CustomerID = ""
	}
	return &AccountLookup{Account: &shown, MaskedName: domain.MaskName(c.GivenNames, c.FamilyNames)}, nil
}

// ListAccounts lists a customer's accounts.
func (a *App) ListAccounts(ctx context.Context, actor domain.Actor, customerID string, includeClosed bool) ([]*domain.Account, error) {
	c, err := a.visibleCustomer(ctx, actor, customerID)
	if err != nil {
		return nil, err
	}
	return a.store.Accounts(ctx, c.ID, includeClosed)
}

// GetCustomerView builds the consolidated view from the facade's snapshot.
func (a *App) GetCustomerView(ctx context.Context, actor domain.Actor, customerID string, requireFresh bool) (*domain.View, error) {
	c, err := a.visibleCustomer(ctx, actor, customerID)
	if err != nil {
		return nil, err
	}
	owned, err := a.store.Accounts(ctx, c.ID, false)
	if err != nil {
		return nil, err
	}
	snap, err := a.core.Snapshot(ctx, c.CoreCustomerNumber, requireFresh)
	if err != nil {
		return nil, err
	}
	return domain.BuildView(c, owned, snap, a.now()), nil
}

// ListMovements pages through an owned account's movements.
func (a *App) ListMovements(ctx context.Context, actor domain.Actor, accountID string, size int, token string) ([]domain.Movement, string, error) {
	acc, _, err := a.visibleAccount(ctx, actor, accountID)
	if err != nil {
		return nil, "", err
	}
	ms, next, err := a.core.Movements(ctx, acc.AccountNumber, pageSize(size), token)
	if err != nil {
		return nil, "", err
	}
	for i := range ms {
		ms[i].AccountID = acc.ID
		ms[i].CounterpartyAccountNumber = domain.MaskAccountNumber(ms[i].CounterpartyAccountNumber)
	}
	return ms, next, nil
}
