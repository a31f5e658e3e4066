package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/andes-bank/andes/services/controller/domain"
)

// Options tune the use cases.
type Options struct {
	Limits domain.Limits
	// WriteTimeout bounds one write through the facade; past it the outcome is
	// unknown and the operation stays PENDING for the reconciler.
	WriteTimeout time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// App is the set of use cases.
type App struct {
	repo      Repository
	customers Customers
	core      Core
	stepUp    StepUp
	codec     Codec
	events    EventFactory
	o         Options
}

// New returns the use cases.
func New(repo Repository, customers Customers, core Core, stepUp StepUp, codec Codec, events EventFactory, o Options) *App {
	if o.Limits == nil {
		o.Limits = domain.DefaultLimits()
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 20 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &App{repo: repo, customers: customers, core: core, stepUp: stepUp, codec: codec, events: events, o: o}
}

// Write is the key and fingerprint every write carries.
type Write struct {
	Key string
	// Request is the request's deterministic bytes without the step-up proof:
	// the key's fingerprint and the step-up binding.
	Request []byte
	Proof   *domain.Proof
}

// Result is a write's answer: a stored response to replay, or the operation.
type Result struct {
	Replay    *Stored
	Operation *domain.Operation
}

// binding ties a one-time code to one request of one caller.
func binding(actor domain.Actor, w Write) string {
	h := sha256.New()
	for _, s := range []string{actor.ClientID, actor.Subject, w.Key} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(w.Request)
	return hex.EncodeToString(h.Sum(nil))
}

// isRefusal reports whether err is a business refusal: an answer stored against
// the key and replayed.
func isRefusal(err error) bool {
	var tl *domain.TransactionLimitError
	var dl *domain.DailyLimitError
	for _, e := range []error{domain.ErrInsufficientFunds, domain.ErrAccountBlocked, domain.ErrAccountClosed,
		domain.ErrCustomerBlocked, domain.ErrCurrencyMismatch, domain.ErrSameAccount, domain.ErrAgentNotEnabled} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.As(err, &tl) || errors.As(err, &dl)
}

// plan is what a write's checks decided: the operation to run and, when it needs
// one, the step-up to pass first.
type plan struct {
	op            *domain.Operation
	stepUpPurpose string // "" when none is needed
	stepUpFor     string // the customer who confirms
	limit         domain.Money
}

// run is the shape of every write: claim the key, check, pass step-up, record
// the operation, send it to the facade, and store the outcome.
func (a *App) run(ctx context.Context, actor domain.Actor, w Write, check func(ctx context.Context, opID string) (plan, error),
	send func(ctx context.Context, op *domain.Operation) (Outcome, error),
) (Result, error) {
	begun, err := a.repo.Begin(ctx, actor.ClientID, actor.Subject, w.Key, w.Request)
	if err != nil {
		return Result{}, err
	}
	if begun.Replay != nil {
		return Result{Replay: begun.Replay}, nil
	}
	lease := begun.Lease
	// From here the key must end stored, released or pending, whatever the
	// client does with its connection.
	ctx = context.WithoutCancel(ctx)

	if lease.Recovered {
		// A worker died mid-work: the operation may have reached the facade.
		if op, err := a.repo.Operation(ctx, lease.OperationID); err == nil {
			return a.execute(ctx, lease, op, send)
		}
	}
	p, err := check(ctx, lease.OperationID)
	if err == nil && p.stepUpPurpose != "" {
		err = a.passStepUp(ctx, actor, w, p)
	}
	if err != nil {
		if isRefusal(err) {
			return Result{}, a.storeRefusal(ctx, lease, err)
		}
		// Validation, step-up, not found, unavailable: nothing is stored, the same
		// request with the same key may come again.
		if rerr := a.repo.Release(ctx, lease); rerr != nil {
			return Result{}, rerr
		}
		return Result{}, err
	}
	op, err := a.repo.Accept(ctx, p.op, p.limit)
	if err != nil {
		if isRefusal(err) {
			return Result{}, a.storeRefusal(ctx, lease, err)
		}
		_ = a.repo.Release(ctx, lease)
		return Result{}, err
	}
	return a.execute(ctx, lease, op, send)
}

func (a *App) storeRefusal(ctx context.Context, lease *Lease, refusal error) error {
	s, err := a.codec.Refusal(refusal)
	if err != nil {
		return err
	}
	if err := a.repo.Store(ctx, lease, s); err != nil {
		return err
	}
	return refusal
}

func (a *App) passStepUp(ctx context.Context, actor domain.Actor, w Write, p plan) error {
	b := binding(actor, w)
	if w.Proof == nil {
		c, err := a.stepUp.Send(ctx, p.stepUpFor, p.stepUpPurpose, b)
		if err != nil {
			return err
		}
		return &domain.StepUpRequired{Challenge: c}
	}
	return a.stepUp.Verify(ctx, p.stepUpFor, b, *w.Proof)
}

// execute sends op to the facade and settles what the answer means.
func (a *App) execute(ctx context.Context, lease *Lease, op *domain.Operation, send func(context.Context, *domain.Operation) (Outcome, error)) (Result, error) {
	sctx, cancel := context.WithTimeout(ctx, a.o.WriteTimeout)
	out, err := send(sctx, op)
	cancel()
	switch {
	case err == nil && out.Status == OutcomeCompleted:
		return a.complete(ctx, lease, op, out)
	case isRefusal(err) || errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrInvalid):
		// The core refused it: nothing moved, and a refusal creates no operation.
		s, cerr := a.codec.Refusal(err)
		if cerr != nil {
			return Result{}, cerr
		}
		if rerr := a.repo.Refuse(ctx, lease, op, s); rerr != nil {
			return Result{}, rerr
		}
		return Result{}, err
	case errors.Is(err, domain.ErrUnavailable):
		if aerr := a.repo.Abandon(ctx, lease, op); aerr != nil {
			return Result{}, aerr
		}
		return Result{}, err
	}
	// Pending, not received, or no answer at all: the money may have moved. The
	// operation stays PENDING and the reconciler asks the facade with its id.
	if err != nil {
		a.o.Logger.WarnContext(ctx, "write outcome unknown; left for the reconciler", "operation_id", op.ID, "err", err)
	}
	if err := a.repo.MarkPending(ctx, lease); err != nil {
		return Result{}, err
	}
	return Result{Operation: op}, nil
}

func (a *App) complete(ctx context.Context, lease *Lease, op *domain.Operation, out Outcome) (Result, error) {
	op.Status, op.CoreTransactionID, op.ResolvedAt = domain.StatusCompleted, out.CoreTransactionID, a.o.Now().UTC()
	return a.resolve(ctx, lease, op)
}

func (a *App) resolve(ctx context.Context, lease *Lease, op *domain.Operation) (Result, error) {
	s, err := a.codec.Operation(op)
	if err != nil {
		return Result{}, err
	}
	events, err := a.events.Events(op)
	if err != nil {
		return Result{}, err
	}
	if err := a.repo.Resolve(ctx, lease, op, s, events); err != nil {
		return Result{}, err
	}
	return Result{Operation: op}, nil
}

// newOperation starts an operation's record.
func (a *App) newOperation(id string, t domain.OperationType, actor domain.Actor, c Customer, amount domain.Money) *domain.Operation {
	now := a.o.Now().UTC()
	return &domain.Operation{ID: id, Type: t, Status: domain.StatusPending, CustomerID: c.ID, CustomerPartnerID: c.PartnerID,
		Amount: amount, Channel: actor.Channel(), ClientID: actor.ClientID, CreatedAt: now, BusinessDate: domain.BusinessDate(now)}
}

// coreAccount checks an account's state in the core, the truth for status,
// currency and balance. shown is the account id the caller may see in a refusal.
func (a *App) coreAccount(ctx context.Context, number, shown string) (CoreAccount, error) {
	ca, err := a.core.Account(ctx, number)
	if err != nil {
		return CoreAccount{}, err
	}
	if err := (domain.Account{ID: shown, Status: ca.Status}).Usable(); err != nil {
		return CoreAccount{}, err
	}
	return ca, nil
}

// dailyCheck refuses early an amount the daily limit cannot take; Accept guards
// it again under a row lock.
func (a *App) dailyCheck(ctx context.Context, customerID string, amount domain.Money) (domain.Money, error) {
	r := a.o.Limits[amount.Currency]
	limit := domain.Money{Minor: r.Daily, Currency: amount.Currency}
	used, err := a.repo.DailyUsed(ctx, customerID, amount.Currency, domain.BusinessDate(a.o.Now()))
	if err != nil {
		return limit, err
	}
	d := domain.Daily{Limit: limit, Used: domain.Money{Minor: used, Currency: amount.Currency}}
	return limit, d.Allows(amount.Minor)
}
