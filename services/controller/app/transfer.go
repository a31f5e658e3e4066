package app

import (
	"context"

	"github.com/andes-bank/andes/services/controller/domain"
)

// TransferOrder is a transfer as asked.
type TransferOrder struct {
	CustomerID               string
	SourceAccountID          string
	DestinationAccountID     string // one of the customer's own accounts, or
	DestinationAccountNumber string // any Andes account by number
	Amount                   domain.Money
	Description              string
}

// transferParties is what the checks of a transfer found.
type transferParties struct {
	customer    Customer
	source      domain.Account
	destination domain.Account
	maskedName  string
	own         bool
}

// parties resolves and authorizes a transfer's customer and accounts. An id the
// actor may not see is not found, whatever it is.
func (a *App) parties(ctx context.Context, actor domain.Actor, t TransferOrder) (transferParties, error) {
	var p transferParties
	c, err := a.customers.Customer(ctx, &actor, t.CustomerID)
	if err != nil {
		return p, err
	}
	if !actor.CanActFor(c.ID, c.PartnerID) {
		return p, domain.ErrNotFound
	}
	p.customer = c
	if p.source, err = a.customers.Account(ctx, &actor, t.SourceAccountID); err != nil {
		return p, err
	}
	if p.source.CustomerID != c.ID {
		return p, domain.ErrNotFound
	}
	if t.DestinationAccountID != "" {
		if p.destination, err = a.customers.Account(ctx, &actor, t.DestinationAccountID); err != nil {
			return p, err
		}
		if p.destination.CustomerID != c.ID {
			return p, domain.ErrNotFound
		}
	} else {
		if p.destination, p.maskedName, err = a.customers.LookupNumber(ctx, t.DestinationAccountNumber); err != nil {
			return p, err
		}
	}
	p.own = p.destination.CustomerID == c.ID
	if p.destination.Number == p.source.Number {
		return p, domain.ErrSameAccount
	}
	return p, nil
}

// checkTransfer applies the rules that refuse a transfer: customer and account
// state, currency, amount rules, balance and the daily limit.
func (a *App) checkTransfer(ctx context.Context, p transferParties, amount domain.Money) (domain.Money, error) {
	if p.customer.Blocked {
		return domain.Money{}, domain.ErrCustomerBlocked
	}
	shownDestination := ""
	if p.own {
		shownDestination = p.destination.ID
	}
	if err := p.source.Usable(); err != nil {
		return domain.Money{}, err
	}
	if err := (domain.Account{ID: shownDestination, Status: p.destination.Status}).Usable(); err != nil {
		return domain.Money{}, err
	}
	if err := a.o.Limits.CheckAmount(amount, p.source.Currency); err != nil {
		return domain.Money{}, err
	}
	if p.destination.Currency != p.source.Currency {
		return domain.Money{}, domain.ErrCurrencyMismatch
	}
	src, err := a.coreAccount(ctx, p.source.Number, p.source.ID)
	if err != nil {
		return domain.Money{}, err
	}
	dst, err := a.coreAccount(ctx, p.destination.Number, shownDestination)
	if err != nil {
		return domain.Money{}, err
	}
	if src.Currency != amount.Currency || dst.Currency != amount.Currency {
		return domain.Money{}, domain.ErrCurrencyMismatch
	}
	if src.Available < amount.Minor {
		return domain.Money{}, domain.ErrInsufficientFunds
	}
	if p.own {
		return domain.Money{}, nil
	}
	return a.dailyCheck(ctx, p.customer.ID, amount)
}

// Transfer moves money from a customer's account to their own account or to
// another customer's account number. A first payment to a beneficiary needs the
// customer's one-time code: the first call answers StepUpRequired (a code was
// sent), the same request with the proof executes it.
func (a *App) Transfer(ctx context.Context, actor domain.Actor, w Write, t TransferOrder) (Result, error) {
	p, err := a.parties(ctx, actor, t)
	if err != nil {
		return Result{}, err
	}
	return a.run(ctx, actor, w, func(ctx context.Context, opID string) (plan, error) {
		limit, err := a.checkTransfer(ctx, p, t.Amount)
		if err != nil {
			return plan{}, err
		}
		op := a.newOperation(opID, domain.TypeTransfer, actor, p.customer, t.Amount)
		op.Description = t.Description
		op.SourceAccountID, op.SourceAccountNumber = p.source.ID, p.source.Number
		op.DestinationAccountNumber, op.MaskedBeneficiaryName = p.destination.Number, p.maskedName
		pl := plan{op: op, limit: limit}
		if p.own {
			op.DestinationAccountID, op.DestinationCustomerID = p.destination.ID, p.customer.ID
			return pl, nil
		}
		op.DestinationCustomerID = p.destination.CustomerID
		op.CountsTowardLimit = true
		known, err := a.repo.IsBeneficiary(ctx, p.customer.ID, p.destination.Number)
		if err != nil {
			return plan{}, err
		}
		if !known {
			op.NewBeneficiary = true
			pl.stepUpPurpose, pl.stepUpFor = domain.PurposeNewBeneficiary, p.customer.ID
		}
		return pl, nil
	}, a.core.Transfer)
}

// Preview is what a transfer would do.
type Preview struct {
	DestinationAccountNumber string
	MaskedName               string
	StepUpRequired           bool
	Daily                    domain.Daily
}

// PreviewTransfer answers what Transfer would do, changing nothing; the refusals
// Transfer would meet are errors.
func (a *App) PreviewTransfer(ctx context.Context, actor domain.Actor, t TransferOrder) (Preview, error) {
	p, err := a.parties(ctx, actor, t)
	if err != nil {
		return Preview{}, err
	}
	if _, err := a.checkTransfer(ctx, p, t.Amount); err != nil {
		return Preview{}, err
	}
	pv := Preview{DestinationAccountNumber: p.destination.Number, MaskedName: p.maskedName}
	if !p.own {
		known, err := a.repo.IsBeneficiary(ctx, p.customer.ID, p.destination.Number)
		if err != nil {
			return Preview{}, err
		}
		pv.StepUpRequired = !known
	}
	pv.Daily, err = a.daily(ctx, p.customer.ID, t.Amount.Currency)
	return pv, err
}

// daily is a customer's daily limit in one currency today.
func (a *App) daily(ctx context.Context, customerID, currency string) (domain.Daily, error) {
	date := domain.BusinessDate(a.o.Now())
	used, err := a.repo.DailyUsed(ctx, customerID, currency, date)
	if err != nil {
		return domain.Daily{}, err
	}
	return domain.Daily{Limit: domain.Money{Minor: a.o.Limits[currency].Daily, Currency: currency},
		Used: domain.Money{Minor: used, Currency: currency}, BusinessDate: date}, nil
}
