package app

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/andes-bank/andes/services/controller/domain"
)

// Reconcile resolves operations whose outcome was unknown, asking the facade with
// the same operation id: posted ones complete, refused ones fail with the core's
// reason, ones the core never received are sent again with the same id (the core
// runs an id at most once), and ones still unknown wait for the next round. It
// answers how many it resolved.
func (a *App) Reconcile(ctx context.Context) (int, error) {
	leases, err := a.repo.ClaimPending(ctx, 20)
	if err != nil {
		return 0, err
	}
	resolved := 0
	for _, l := range leases {
		ok, err := a.reconcileOne(ctx, l)
		if err != nil {
			a.o.Logger.WarnContext(ctx, "reconcile", "operation_id", l.OperationID, "err", err)
			continue
		}
		if ok {
			resolved++
		}
	}
	return resolved, nil
}

func (a *App) reconcileOne(ctx context.Context, l *Lease) (bool, error) {
	op, err := a.repo.Operation(ctx, l.OperationID)
	if errors.Is(err, domain.ErrNotFound) {
		// Marked pending before any operation was recorded cannot happen; a key
		// without one has nothing to resolve.
		return true, a.repo.Release(ctx, l)
	}
	if err != nil {
		return false, err
	}
	qctx, cancel := context.WithTimeout(ctx, a.o.WriteTimeout)
	defer cancel()
	out, err := a.core.Transaction(qctx, op.ID)
	if err != nil {
		return false, err
	}
	if out.Status == OutcomeNotReceived {
		send := a.core.Transfer
		switch op.Type {
		case domain.TypeCashIn:
			send = a.core.CashIn
		case domain.TypeCashOut:
			send = a.core.CashOut
		}
		out, err = send(qctx, op)
		switch {
		case err == nil:
		case isRefusal(err) || errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrInvalid):
			out = Outcome{Status: OutcomeRejected, Refusal: err}
		default:
			return false, err
		}
	}
	switch out.Status {
	case OutcomeCompleted:
		_, err := a.complete(ctx, l, op, out)
		return err == nil, err
	case OutcomeRejected:
		// The operation was shown PENDING, so it exists: it ends FAILED, nothing moved.
		op.Status, op.ResolvedAt, op.FailureReason = domain.StatusFailed, a.o.Now().UTC(), ReasonOf(out.Refusal)
		_, err := a.resolve(ctx, l, op)
		return err == nil, err
	}
	return false, nil
}

// ReasonOf names a refusal by its andes.errors.v1 wire reason, for FAILED
// operations.
func ReasonOf(err error) string {
	var tl *domain.TransactionLimitError
	var dl *domain.DailyLimitError
	switch {
	case errors.Is(err, domain.ErrInsufficientFunds):
		return "INSUFFICIENT_FUNDS"
	case errors.Is(err, domain.ErrAccountBlocked):
		return "ACCOUNT_BLOCKED"
	case errors.Is(err, domain.ErrAccountClosed):
		return "ACCOUNT_CLOSED"
	case errors.Is(err, domain.ErrCurrencyMismatch):
		return "CURRENCY_MISMATCH"
	case errors.Is(err, domain.ErrSameAccount):
		return "SAME_ACCOUNT"
	case errors.Is(err, domain.ErrCustomerBlocked):
		return "CUSTOMER_BLOCKED"
	case errors.Is(err, domain.ErrAgentNotEnabled):
		return "AGENT_NOT_ENABLED"
	case errors.Is(err, domain.ErrNotFound):
		return "NOT_FOUND"
	case errors.As(err, &tl):
		return "TRANSACTION_LIMIT_EXCEEDED"
	case errors.As(err, &dl):
		return "DAILY_LIMIT_EXCEEDED"
	}
	return "VALIDATION_FAILED"
}

// RunReconciler reconciles every interval until ctx ends.
func (a *App) RunReconciler(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := a.Reconcile(ctx); err != nil && ctx.Err() == nil {
			a.o.Logger.WarnContext(ctx, "reconcile round", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Statement page tokens are offsets into the range, opaque to callers.
func encodeOffset(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(n)))
}

func decodeOffset(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, err
	}
	s, ok := strings.CutPrefix(string(raw), "o:")
	if !ok {
		return 0, errNegative
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errNegative
	}
	return n, nil
}
