package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/andes-bank/andes/bff/mobile/app"
	"github.com/andes-bank/andes/bff/mobile/domain"
)

// fakeCustomers answers from functions, so each test says how each source behaves.
type fakeCustomers struct {
	profile func(ctx context.Context) (domain.Profile, error)
	view    func(ctx context.Context) (domain.View, error)
	pages   []int
}

func (f *fakeCustomers) Profile(ctx context.Context, _ string) (domain.Profile, error) {
	return f.profile(ctx)
}

func (f *fakeCustomers) View(ctx context.Context, _ string) (domain.View, error) { return f.view(ctx) }

func (f *fakeCustomers) Movements(_ context.Context, _ string, size int, _ string) ([]domain.Movement, string, error) {
	f.pages = append(f.pages, size)
	return nil, "", nil
}

var base = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

func maria() domain.Profile {
	return domain.Profile{GivenNames: "María Elena", DefaultAccountID: "acc-checking"}
}

func view() domain.View {
	v := domain.View{
		Profile: maria(),
		Accounts: []domain.Account{
			{ID: "acc-savings", Kind: domain.AccountKindSavings, Available: domain.Money{AmountMinor: 1250000, Currency: "PEN"}},
			{ID: "acc-checking", Kind: domain.AccountKindChecking, Available: domain.Money{AmountMinor: 230000, Currency: "PEN"}},
			{ID: "acc-usd", Kind: domain.AccountKindSavings, Available: domain.Money{AmountMinor: 80000, Currency: "USD"}},
		},
		AsOf: base,
	}
	// 15 movements, oldest first: Home must turn them around and keep 10.
	for i := range 15 {
		v.Movements = append(v.Movements, domain.Movement{ID: fmt.Sprint("m", i), BookedAt: base.Add(-time.Duration(15-i) * time.Hour)})
	}
	return v
}

func answer[T any](v T, err error) func(context.Context) (T, error) {
	return func(context.Context) (T, error) { return v, err }
}

// never blocks until the test ends, deaf to its context, like a hung dependency.
func never[T any](t *testing.T) func(context.Context) (T, error) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(context.Context) (T, error) {
		<-release
		var zero T
		return zero, errors.New("released")
	}
}

func newApp(f *fakeCustomers, partTimeout time.Duration) *app.App {
	return app.New(f, nil, app.Options{PartTimeout: partTimeout})
}

func TestHomeWithEverySource(t *testing.T) {
	h, err := newApp(&fakeCustomers{profile: answer(maria(), nil), view: answer(view(), nil)}, time.Minute).
		Home(context.Background(), domain.Customer{ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if h.GivenName != "María" || len(h.Missing) != 0 || !h.AsOf.Equal(base) || h.Stale {
		t.Fatalf("home %+v", h)
	}
	var ids []string
	for _, a := range h.Accounts {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []string{"acc-checking", "acc-savings", "acc-usd"}) {
		t.Errorf("accounts %v, want the default one first, the others in order", ids)
	}
	if len(h.LatestMovements) != 10 || h.LatestMovements[0].ID != "m14" || h.LatestMovements[9].ID != "m5" {
		t.Errorf("movements %+v, want the 10 newest, newest first", h.LatestMovements)
	}
}

func TestHomeAsksItsSourcesInParallel(t *testing.T) {
	// Each source waits until the other has started: asked one after the
	// other, neither would answer before its deadline.
	profileStarted, viewStarted := make(chan struct{}), make(chan struct{})
	f := &fakeCustomers{
		profile: func(ctx context.Context) (domain.Profile, error) {
			close(profileStarted)
			select {
			case <-viewStarted:
				return maria(), nil
			case <-ctx.Done():
				return domain.Profile{}, ctx.Err()
			}
		},
		view: func(ctx context.Context) (domain.View, error) {
			close(viewStarted)
			select {
			case <-profileStarted:
				return view(), nil
			case <-ctx.Done():
				return domain.View{}, ctx.Err()
			}
		},
	}
	h, err := newApp(f, time.Minute).Home(context.Background(), domain.Customer{ID: "c1"})
	if err != nil || len(h.Missing) != 0 || len(h.Accounts) != 3 {
		t.Fatalf("home %+v, %v", h, err)
	}
}

func TestHomePartialResults(t *testing.T) {
	accountsAndMovements := []domain.Section{domain.SectionAccounts, domain.SectionMovements}
	tests := []struct {
		name        string
		profile     func(*testing.T) func(context.Context) (domain.Profile, error)
		view        func(*testing.T) func(context.Context) (domain.View, error)
		wantName    string
		wantMissing []domain.Section
		wantErr     error
	}{
		{
			name:        "the view is slow: greeting without accounts and movements",
			profile:     func(*testing.T) func(context.Context) (domain.Profile, error) { return answer(maria(), nil) },
			view:        never[domain.View],
			wantName:    "María",
			wantMissing: accountsAndMovements,
		},
		{
			name:    "the view's source is unavailable",
			profile: func(*testing.T) func(context.Context) (domain.Profile, error) { return answer(maria(), nil) },
			view: func(*testing.T) func(context.Context) (domain.View, error) {
				return answer(domain.View{}, fmt.Errorf("customer: %w", domain.ErrUnavailable))
			},
			wantName:    "María",
			wantMissing: accountsAndMovements,
		},
		{
			name:    "the view fails unexpectedly",
			profile: func(*testing.T) func(context.Context) (domain.Profile, error) { return answer(maria(), nil) },
			view: func(*testing.T) func(context.Context) (domain.View, error) {
				return answer(domain.View{}, errors.New("customer answered Internal"))
			},
			wantName:    "María",
			wantMissing: accountsAndMovements,
		},
		{
			name:     "the profile is slow: the view's profile greets",
			profile:  never[domain.Profile],
			view:     func(*testing.T) func(context.Context) (domain.View, error) { return answer(view(), nil) },
			wantName: "María",
		},
		{
			name:    "nothing answers: the call fails, retryable",
			profile: never[domain.Profile],
			view: func(*testing.T) func(context.Context) (domain.View, error) {
				return answer(domain.View{}, domain.ErrUnavailable)
			},
			wantErr: domain.ErrUnavailable,
		},
		{
			name:    "a refusal about the caller fails the whole call",
			profile: func(*testing.T) func(context.Context) (domain.Profile, error) { return answer(maria(), nil) },
			view: func(*testing.T) func(context.Context) (domain.View, error) {
				return answer(domain.View{}, domain.ErrNotFound)
			},
			wantErr: domain.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeCustomers{profile: tt.profile(t), view: tt.view(t)}
			// Long enough for a fake that answers at once on a loaded machine;
			// the slow fakes never answer, so it is their deadline that ends them.
			h, err := newApp(f, time.Second).Home(context.Background(), domain.Customer{ID: "c1"})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.GivenName != tt.wantName || !slices.Equal(h.Missing, tt.wantMissing) {
				t.Fatalf("home: name %q, missing %v; want %q, %v", h.GivenName, h.Missing, tt.wantName, tt.wantMissing)
			}
			if wantAccounts := !slices.Contains(tt.wantMissing, domain.SectionAccounts); wantAccounts != (len(h.Accounts) == 3) {
				t.Errorf("accounts %v with missing %v", h.Accounts, h.Missing)
			}
		})
	}
}

func TestHomeWhenTheAppGivesUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fakeCustomers{profile: never[domain.Profile](t), view: never[domain.View](t)}
	if _, err := newApp(f, time.Minute).Home(ctx, domain.Customer{ID: "c1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want canceled", err)
	}
}

func TestHomeStaleBalances(t *testing.T) {
	v := view()
	v.Stale = true
	h, err := newApp(&fakeCustomers{profile: answer(maria(), nil), view: answer(v, nil)}, time.Minute).
		Home(context.Background(), domain.Customer{ID: "c1"})
	if err != nil || !h.Stale || !h.AsOf.Equal(base) || len(h.Missing) != 0 {
		t.Fatalf("home %+v, %v", h, err)
	}
}

func TestListMovementsPageSize(t *testing.T) {
	f := &fakeCustomers{}
	a := newApp(f, time.Second)
	for _, size := range []int{0, 7, 500} {
		if _, _, err := a.ListMovements(context.Background(), "acc", size, ""); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(f.pages, []int{20, 7, 100}) {
		t.Fatalf("page sizes asked %v", f.pages)
	}
}
