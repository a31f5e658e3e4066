package app

import (
	"context"
	"errors"

	"github.com/andes-bank/andes/services/controller/domain"
)

// Page sizes of lists: 0 means the default, above the maximum means the maximum.
func pageSize(n, def, maxSize int) int {
	switch {
	case n <= 0:
		return def
	case n > maxSize:
		return maxSize
	}
	return n
}

// visibleCustomer loads a customer the actor may act for.
func (a *App) visibleCustomer(ctx context.Context, actor domain.Actor, id string) (Customer, error) {
	c, err := a.customers.Customer(ctx, &actor, id)
	if err != nil {
		return Customer{}, err
	}
	if !actor.CanActFor(c.ID, c.PartnerID) {
		return Customer{}, domain.ErrNotFound
	}
	return c, nil
}

// GetOperation returns an operation the actor may see.
func (a *App) GetOperation(ctx context.Context, actor domain.Actor, id string) (*domain.Operation, error) {
	op, err := a.repo.Operation(ctx, id)
	if err != nil {
		return nil, err
	}
	if !actor.CanSee(op) {
		return nil, domain.ErrNotFound
	}
	return op, nil
}

// ListOperations pages through a customer's operations, newest first.
func (a *App) ListOperations(ctx context.Context, actor domain.Actor, customerID string, size int, token string) ([]*domain.Operation, string, error) {
	c, err := a.visibleCustomer(ctx, actor, customerID)
	if err != nil {
		return nil, "", err
	}
	return a.repo.Operations(ctx, c.ID, pageSize(size, 50, 100), token)
}

// ListBeneficiaries pages through a customer's beneficiaries, most recent first.
func (a *App) ListBeneficiaries(ctx context.Context, actor domain.Actor, customerID string, size int, token string) ([]domain.Beneficiary, string, error) {
	c, err := a.visibleCustomer(ctx, actor, customerID)
	if err != nil {
		return nil, "", err
	}
	return a.repo.Beneficiaries(ctx, c.ID, pageSize(size, 50, 100), token)
}

// GetDailyLimits answers a customer's limits in each currency they hold.
func (a *App) GetDailyLimits(ctx context.Context, actor domain.Actor, customerID string) ([]domain.Daily, error) {
	c, err := a.visibleCustomer(ctx, actor, customerID)
	if err != nil {
		return nil, err
	}
	accs, err := a.customers.Accounts(ctx, &actor, c.ID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []domain.Daily
	for _, acc := range accs {
		if seen[acc.Currency] {
			continue
		}
		seen[acc.Currency] = true
		if _, ok := a.o.Limits[acc.Currency]; !ok {
			continue
		}
		d, err := a.daily(ctx, c.ID, acc.Currency)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// StatementPage is one page of a statement.
type StatementPage struct {
	Account   domain.Account
	Opening   domain.Money
	Closing   domain.Money
	Movements []Movement
	Next      string
}

// ErrBadPageToken is a page token this service did not give.
var ErrBadPageToken = &domain.InvalidError{Field: "page_token", Description: "not a token this service gave"}

// GetStatement returns a page of an owned account's statement for a date range.
func (a *App) GetStatement(ctx context.Context, actor domain.Actor, customerID, accountID, from, to string, size int, token string) (StatementPage, error) {
	if err := domain.CheckRange(from, to); err != nil {
		return StatementPage{}, err
	}
	c, err := a.visibleCustomer(ctx, actor, customerID)
	if err != nil {
		return StatementPage{}, err
	}
	acc, err := a.customers.Account(ctx, &actor, accountID)
	if err != nil {
		return StatementPage{}, err
	}
	if acc.CustomerID != c.ID {
		return StatementPage{}, domain.ErrNotFound
	}
	offset, err := decodeOffset(token)
	if err != nil {
		return StatementPage{}, ErrBadPageToken
	}
	st, err := a.core.Statement(ctx, acc.Number, from, to)
	if err != nil {
		return StatementPage{}, err
	}
	if offset > len(st.Movements) {
		return StatementPage{}, ErrBadPageToken
	}
	n := pageSize(size, 100, 200)
	end := min(offset+n, len(st.Movements))
	page := StatementPage{Account: acc, Opening: st.Opening, Closing: st.Closing, Movements: st.Movements[offset:end]}
	for i := range page.Movements {
		page.Movements[i].CounterpartyAccountNumber = domain.MaskAccountNumber(page.Movements[i].CounterpartyAccountNumber)
	}
	if end < len(st.Movements) {
		page.Next = encodeOffset(end)
	}
	return page, nil
}

var errNegative = errors.New("bad offset")
