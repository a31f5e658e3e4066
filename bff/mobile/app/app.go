// Package app holds bff-mobile's use cases: the home screen gathered from its
// sources in parallel, movements, and transfers handed to the controller. The end
// user's token travels in the context (the ports put it there), so every call the
// adapters make acts for the customer and the services check ownership.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/andes-bank/andes/bff/mobile/domain"
)

// Customers is what the use cases need from the customer service. Errors are
// *domain.Refusal for answers the customer must see, domain.ErrNotImplemented,
// or anything else for a failure of the service itself.
type Customers interface {
	// Profile reads the customer's profile alone: no core banking call behind it.
	Profile(ctx context.Context, customerID string) (domain.Profile, error)
	// View reads the consolidated view: accounts with balances and the latest
	// movements, from the facade's snapshot of the core.
	View(ctx context.Context, customerID string) (domain.View, error)
	// Movements pages through an account's movements, newest first.
	Movements(ctx context.Context, accountID string, pageSize int, pageToken string) ([]domain.Movement, string, error)
}

// Payments is what the use cases need from the controller.
type Payments interface {
	Transfer(ctx context.Context, customerID string, req domain.TransferRequest) (domain.Transfer, error)
	GetTransfer(ctx context.Context, transferID string) (domain.Transfer, error)
}

// Options tune the use cases.
type Options struct {
	// PartTimeout bounds each source of the home screen: a source slower than
	// this is left out and named in missing_sections.
	PartTimeout time.Duration
	Logger      *slog.Logger
}

// App is the set of use cases.
type App struct {
	customers Customers
	payments  Payments
	opts      Options
}

// New returns the use cases.
func New(customers Customers, payments Payments, opts Options) *App {
	if opts.PartTimeout <= 0 {
		opts.PartTimeout = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &App{customers: customers, payments: payments, opts: opts}
}

// Movement pages hold 20 movements unless the app asks otherwise, and never more
// than 100.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// ListMovements pages through one of the customer's accounts; another customer's
// account is NOT_FOUND (the customer service checks ownership with the token).
func (a *App) ListMovements(ctx context.Context, accountID string, pageSize int, pageToken string) ([]domain.Movement, string, error) {
	switch {
	case pageSize <= 0:
		pageSize = defaultPageSize
	case pageSize > maxPageSize:
		pageSize = maxPageSize
	}
	return a.customers.Movements(ctx, accountID, pageSize, pageToken)
}

// Transfer hands a confirmed transfer to the controller, which validates it,
// executes it once per idempotency key, and asks for step-up on a new beneficiary.
func (a *App) Transfer(ctx context.Context, c domain.Customer, req domain.TransferRequest) (domain.Transfer, error) {
	return a.payments.Transfer(ctx, c.ID, req)
}

// GetTransfer reads a transfer; another customer's is NOT_FOUND.
func (a *App) GetTransfer(ctx context.Context, transferID string) (domain.Transfer, error) {
	return a.payments.GetTransfer(ctx, transferID)
}
