package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/andes-bank/andes/bff/mobile/domain"
)

// homeMovements is how many movements the home screen lists.
const homeMovements = 10

// Home gathers the home screen in one round trip. Its two sources are asked in
// parallel, each under its own deadline:
//
//   - the profile, which needs no core banking call, so the greeting shows even
//     when the core is slow;
//   - the consolidated view (accounts with balances and the latest movements),
//     which carries the profile too.
//
// A source that is slow or fails leaves its sections out (missing_sections) instead
// of failing the call; only when nothing can be shown does Home fail. A refusal
// about who asks (NOT_FOUND, INVALID_TOKEN...) fails the call: a partial screen
// would hide it.
func (a *App) Home(ctx context.Context, c domain.Customer) (domain.Home, error) {
	profile := fetch(ctx, a.opts.PartTimeout, func(ctx context.Context) (domain.Profile, error) {
		return a.customers.Profile(ctx, c.ID)
	})
	view := fetch(ctx, a.opts.PartTimeout, func(ctx context.Context) (domain.View, error) {
		return a.customers.View(ctx, c.ID)
	})
	p, perr := profile()
	v, verr := view()
	if err := ctx.Err(); err != nil {
		return domain.Home{}, err
	}
	for _, err := range []error{perr, verr} {
		if decisive(err) {
			return domain.Home{}, err
		}
	}
	if perr != nil {
		a.opts.Logger.WarnContext(ctx, "home: profile left out", "err", perr)
	}
	if verr != nil {
		a.opts.Logger.WarnContext(ctx, "home: accounts and movements left out", "err", verr)
	}
	return assemble(p, perr, v, verr)
}

// assemble builds the screen from what the sources answered.
func assemble(p domain.Profile, perr error, v domain.View, verr error) (domain.Home, error) {
	if perr != nil && verr != nil {
		return domain.Home{}, domain.ErrUnavailable
	}
	var h domain.Home
	if perr != nil {
		// The view carries the profile too.
		p = v.Profile
	}
	h.GivenName = firstName(p.GivenNames)
	if verr != nil {
		h.Missing = []domain.Section{domain.SectionAccounts, domain.SectionMovements}
		return h, nil
	}
	h.Accounts = preferredFirst(v.Accounts, p.DefaultAccountID)
	h.LatestMovements = latest(v.Movements, homeMovements)
	h.Stale, h.AsOf = v.Stale, v.AsOf
	return h, nil
}

// decisive reports whether err is an answer about the request itself rather than
// a source that could not answer: such an error is the answer to the whole call.
func decisive(err error) bool {
	var r *domain.Refusal
	return errors.As(err, &r) && r.Reason != domain.ReasonDependencyUnavailable
}

// firstName is the name to greet with: "María Elena" greets "María".
func firstName(givenNames string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(givenNames), " ")
	return name
}

// preferredFirst moves the customer's default account to the front, keeping the
// others in the view's order.
func preferredFirst(accounts []domain.Account, preferred string) []domain.Account {
	out := slices.Clone(accounts)
	if i := slices.IndexFunc(out, func(a domain.Account) bool { return a.ID == preferred }); i > 0 {
		pick := out[i]
		copy(out[1:i+1], out[:i])
		out[0] = pick
	}
	return out
}

// latest is the n newest movements, newest first.
func latest(ms []domain.Movement, n int) []domain.Movement {
	out := slices.Clone(ms)
	slices.SortStableFunc(out, func(a, b domain.Movement) int { return b.BookedAt.Compare(a.BookedAt) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

type result[T any] struct {
	v   T
	err error
}

// fetch starts f under its own deadline and returns a function that waits for it.
// The wait ends at the deadline even if f does not honour its context.
func fetch[T any](ctx context.Context, timeout time.Duration, f func(context.Context) (T, error)) func() (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	ch := make(chan result[T], 1)
	go func() {
		v, err := f(ctx)
		ch <- result[T]{v, err}
	}()
	return func() (T, error) {
		defer cancel()
		select {
		case r := <-ch:
			return r.v, r.err
		case <-ctx.Done():
			// An answer that arrived in time wins over the deadline that passed
			// while another part was awaited.
			select {
			case r := <-ch:
				return r.v, r.err
			default:
				var zero T
				return zero, ctx.Err()
			}
		}
	}
}
