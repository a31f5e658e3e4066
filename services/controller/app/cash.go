package app

import (
	"context"

	"github.com/andes-bank/andes/services/controller/domain"
)

// CashOrder is a cash-in or cash-out as an agent asked.
type CashOrder struct {
	AgentPartnerID string
	AccountNumber  string
	Amount         domain.Money
	AgentReference string
}

// cashParties is what the checks of a cash operation found.
type cashParties struct {
	agent    Partner
	account  domain.Account
	customer Customer
}

// cashParties authorizes the agent and finds the customer's account. Agents serve
// any Andes customer by account number, so the account is looked up as the
// controller; the agent learns no more than the masked name a payer would.
func (a *App) cashParties(ctx context.Context, actor domain.Actor, o CashOrder) (cashParties, error) {
	var p cashParties
	if actor.Kind != domain.ActorPartner || actor.PartnerID != o.AgentPartnerID {
		return p, domain.ErrNotFound
	}
	agent, err := a.customers.Partner(ctx, &actor, o.AgentPartnerID)
	if err != nil {
		return p, err
	}
	if !agent.Active || agent.SettlementAccountNumber == "" {
		return p, domain.ErrAgentNotEnabled
	}
	p.agent = agent
	if p.account, _, err = a.customers.LookupNumber(ctx, o.AccountNumber); err != nil {
		return p, err
	}
	if p.account.Number == agent.SettlementAccountNumber {
		return p, domain.ErrSameAccount
	}
	p.customer, err = a.customers.Customer(ctx, nil, p.account.CustomerID)
	return p, err
}

// checkCash applies the rules of a cash operation; out says whether the customer
// is debited (then the balance and the daily limit apply to the customer).
func (a *App) checkCash(ctx context.Context, p cashParties, amount domain.Money, out bool) (domain.Money, error) {
	if p.customer.Blocked {
		return domain.Money{}, domain.ErrCustomerBlocked
	}
	if err := p.account.Usable(); err != nil {
		return domain.Money{}, err
	}
	if err := a.o.Limits.CheckAmount(amount, p.account.Currency); err != nil {
		return domain.Money{}, err
	}
	acc, err := a.coreAccount(ctx, p.account.Number, "")
	if err != nil {
		return domain.Money{}, err
	}
	agent, err := a.coreAccount(ctx, p.agent.SettlementAccountNumber, "")
	if err != nil {
		return domain.Money{}, err
	}
	if acc.Currency != amount.Currency || agent.Currency != amount.Currency {
		return domain.Money{}, domain.ErrCurrencyMismatch
	}
	if !out {
		if agent.Available < amount.Minor {
			return domain.Money{}, domain.ErrInsufficientFunds
		}
		return domain.Money{}, nil
	}
	if acc.Available < amount.Minor {
		return domain.Money{}, domain.ErrInsufficientFunds
	}
	return a.dailyCheck(ctx, p.customer.ID, amount)
}

func (a *App) cash(ctx context.Context, actor domain.Actor, w Write, o CashOrder, out bool) (Result, error) {
	p, err := a.cashParties(ctx, actor, o)
	if err != nil {
		return Result{}, err
	}
	t, send := domain.TypeCashIn, a.core.CashIn
	if out {
		t, send = domain.TypeCashOut, a.core.CashOut
	}
	return a.run(ctx, actor, w, func(ctx context.Context, opID string) (plan, error) {
		limit, err := a.checkCash(ctx, p, o.Amount, out)
		if err != nil {
			return plan{}, err
		}
		op := a.newOperation(opID, t, actor, p.customer, o.Amount)
		op.AgentPartnerID, op.AgentAccountNumber, op.AgentReference = p.agent.ID, p.agent.SettlementAccountNumber, o.AgentReference
		op.AccountID, op.AccountNumber = p.account.ID, p.account.Number
		op.Description = o.AgentReference
		pl := plan{op: op, limit: limit}
		if out {
			op.CountsTowardLimit = true
			pl.stepUpPurpose, pl.stepUpFor = domain.PurposeCashOut, p.customer.ID
		}
		return pl, nil
	}, send)
}

// CashIn credits a customer's account with cash the agent received, debiting the
// agent's settlement account.
func (a *App) CashIn(ctx context.Context, actor domain.Actor, w Write, o CashOrder) (Result, error) {
	return a.cash(ctx, actor, w, o, false)
}

// CashOut debits a customer's account for cash the agent pays out, crediting the
// agent's settlement account. It always needs the account holder's one-time code.
func (a *App) CashOut(ctx context.Context, actor domain.Actor, w Write, o CashOrder) (Result, error) {
	return a.cash(ctx, actor, w, o, true)
}
