package app

import (
	"context"
	"errors"
	"time"

	"github.com/andes-bank/andes/facade/domain"
	"github.com/andes-bank/andes/platform/backoff"
)

// Key is the idempotency key the facade gives the core for a caller's operation:
// the caller's operation id namespaced by its identity, so two callers never
// collide and each sees only its own operations.
func Key(caller, operationID string) string { return caller + ":" + operationID }

// Transfer moves money between two accounts of one currency. The answer is
// COMPLETED, or PENDING when the core's answer did not come and its operation
// status could not tell; refusals are errors.
func (f *Facade) Transfer(ctx context.Context, caller string, t domain.TransferOrder) (domain.Transaction, error) {
	key := Key(caller, t.OperationID)
	return f.move(ctx, key, t.OperationID, []string{t.Source, t.Destination}, func(ctx context.Context) (domain.Transaction, error) {
		return f.core.Transfer(ctx, key, t)
	})
}

// CashIn credits a customer's account against an agent's settlement account.
func (f *Facade) CashIn(ctx context.Context, caller string, o domain.CashOrder) (domain.Transaction, error) {
	key := Key(caller, o.OperationID)
	return f.move(ctx, key, o.OperationID, []string{o.Account, o.AgentAccount}, func(ctx context.Context) (domain.Transaction, error) {
		return f.core.CashIn(ctx, key, o)
	})
}

// CashOut debits a customer's account in favour of an agent's settlement account.
func (f *Facade) CashOut(ctx context.Context, caller string, o domain.CashOrder) (domain.Transaction, error) {
	key := Key(caller, o.OperationID)
	return f.move(ctx, key, o.OperationID, []string{o.Account, o.AgentAccount}, func(ctx context.Context) (domain.Transaction, error) {
		return f.core.CashOut(ctx, key, o)
	})
}

// move sends a money movement and settles what its answer means.
func (f *Facade) move(ctx context.Context, key, operationID string, accounts []string,
	send func(context.Context) (domain.Transaction, error),
) (domain.Transaction, error) {
	tx, err := send(ctx)
	switch {
	case errors.Is(err, domain.ErrUnknownOutcome):
		tx, err = f.resolveMove(ctx, key, send)
	case errors.Is(err, domain.ErrInProgress):
		// An earlier request with this key is still running in the core.
		tx, err = domain.Transaction{Status: domain.TransactionPending}, nil
	}
	if err == nil {
		// Whatever the core did or is doing to these accounts, the snapshots
		// showing them are no longer to be trusted.
		f.invalidate(ctx, tx.Customers, accounts)
		tx.OperationID = operationID
	}
	return tx, err
}

// resolveMove finds out what happened to a movement whose answer did not come,
// asking the core's operation status with the same key. A movement the core
// never saw is sent again with the same key (the core runs a key at most once,
// so a late original cannot post twice). What cannot be known is PENDING,
// never a failure: it may have been posted.
func (f *Facade) resolveMove(ctx context.Context, key string, send func(context.Context) (domain.Transaction, error)) (domain.Transaction, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.o.ResolveTimeout)
	defer cancel()
	pending := domain.Transaction{Status: domain.TransactionPending}
	resent := false
	for {
		op, err := f.core.Operation(ctx, key)
		if err != nil {
			f.log.WarnContext(ctx, "write outcome unknown: operation status unavailable", "idempotency_key", key, "err", err)
			return pending, nil
		}
		switch op.State {
		case domain.OperationDone:
			switch {
			case op.Refusal != nil:
				return domain.Transaction{}, op.Refusal
			case op.Transaction != nil:
				return *op.Transaction, nil
			}
			return domain.Transaction{Status: domain.TransactionCompleted}, nil
		case domain.OperationInProgress:
			return pending, nil
		}
		if resent {
			return pending, nil
		}
		resent = true
		tx, err := send(ctx)
		switch {
		case err == nil:
			return tx, nil
		case domain.IsRefusal(err):
			return domain.Transaction{}, err
		case errors.Is(err, domain.ErrUnknownOutcome):
			continue // ask once more
		}
		return pending, nil
	}
}

// GetTransaction tells what happened to the caller's write made with an
// operation id.
func (f *Facade) GetTransaction(ctx context.Context, caller, operationID string) (domain.Transaction, error) {
	op, err := f.core.Operation(ctx, Key(caller, operationID))
	if err != nil {
		return domain.Transaction{}, err
	}
	tx := domain.Transaction{OperationID: operationID}
	switch op.State {
	case domain.OperationNotReceived:
		tx.Status = domain.TransactionNotReceived
	case domain.OperationInProgress:
		tx.Status = domain.TransactionPending
	default:
		switch {
		case op.Refusal != nil:
			tx.Status, tx.Rejection = domain.TransactionRejected, op.Refusal
		case op.Transaction != nil:
			tx = *op.Transaction
			tx.OperationID = operationID
		default:
			tx.Status = domain.TransactionCompleted
		}
	}
	return tx, nil
}

// CreateCustomer creates a customer in the core. An unknown outcome is resolved
// before answering, never answered as pending.
func (f *Facade) CreateCustomer(ctx context.Context, caller string, c domain.NewCustomer) (domain.Profile, error) {
	key := Key(caller, c.OperationID)
	return settle(ctx, f, key,
		func(ctx context.Context) (domain.Profile, error) { return f.core.CreateCustomer(ctx, key, c.Profile) },
		func(op domain.Operation) (domain.Profile, bool) {
			if op.Profile == nil {
				return domain.Profile{}, false
			}
			return *op.Profile, true
		})
}

// OpenAccount opens an account in the core, resolved like CreateCustomer.
func (f *Facade) OpenAccount(ctx context.Context, caller string, a domain.NewAccount) (domain.Account, error) {
	key := Key(caller, a.OperationID)
	acct, err := settle(ctx, f, key,
		func(ctx context.Context) (domain.Account, error) { return f.core.OpenAccount(ctx, key, a) },
		func(op domain.Operation) (domain.Account, bool) {
			if op.Account == nil {
				return domain.Account{}, false
			}
			return *op.Account, true
		})
	if err == nil {
		f.invalidate(ctx, []string{a.CustomerNumber}, nil)
	}
	return acct, err
}

// settle sends a creation and, when its answer does not come, asks the core's
// operation status and sends it again with the same key until the core says
// what it did or the resolve budget runs out; then the caller is told the core
// is unavailable and may retry with the same operation id.
func settle[T any](ctx context.Context, f *Facade, key string, send func(context.Context) (T, error),
	stored func(domain.Operation) (T, bool),
) (T, error) {
	v, err := send(ctx)
	if !errors.Is(err, domain.ErrUnknownOutcome) && !errors.Is(err, domain.ErrInProgress) {
		return v, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.o.ResolveTimeout)
	defer cancel()
	var zero T
	for attempt := 1; ; attempt++ {
		op, err := f.core.Operation(ctx, key)
		if err == nil {
			switch op.State {
			case domain.OperationDone:
				if op.Refusal != nil {
					return zero, op.Refusal
				}
				if v, ok := stored(op); ok {
					return v, nil
				}
			case domain.OperationNotReceived:
				v, err := send(ctx)
				if !errors.Is(err, domain.ErrUnknownOutcome) && !errors.Is(err, domain.ErrInProgress) &&
					!errors.Is(err, domain.ErrUnavailable) {
					return v, err
				}
			}
		}
		if !backoff.Sleep(ctx, outcomeRetry.Equal(attempt)) {
			e := domain.Errorf(domain.ErrUnavailable, "the core did not confirm the operation; send it again with the same operation id")
			e.RetryAfter = time.Second
			return zero, e
		}
	}
}

// outcomeRetry paces the questions about an unknown outcome: growing to 1 s.
var outcomeRetry = backoff.Policy{Base: 50 * time.Millisecond, Max: time.Second}

// invalidate marks stale the snapshots of the customers a write touched, named by
// the core or found from the accounts. A failure is logged: the change feed
// marks them too, a little later.
func (f *Facade) invalidate(ctx context.Context, customers, accounts []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	err := errors.Join(f.cache.Invalidate(ctx, customers...), f.cache.InvalidateAccounts(ctx, accounts...))
	if err != nil {
		f.log.WarnContext(ctx, "snapshots not marked stale after a write", "err", err)
		return
	}
	f.metrics.Invalidated("write", len(customers))
}
