package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/demo"
	platformpg "github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/testenv"
	customerpg "github.com/andes-bank/andes/services/customer/adapters/postgres"
	"github.com/andes-bank/andes/services/customer/domain"
)

// databaseURL is the package's database, made by TestMain; each test migrates a
// schema of its own there, as the composition root migrates the process's schema.
var databaseURL string

func TestMain(m *testing.M) { os.Exit(testenv.MainWithDatabase(m, "customer_store", &databaseURL)) }

var t0 = time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)

type fixture struct {
	store *customerpg.Store
	pool  *pgxpool.Pool
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	schema := testenv.Prefix("customer")
	pool, err := platformpg.Open(ctx, platformpg.Config{URL: databaseURL, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := customerpg.Migrate(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}
	return fixture{store: customerpg.New(pool), pool: pool}
}

// seeded is a store holding bank(), seeded at t0.
func seeded(t *testing.T) fixture {
	t.Helper()
	f := setup(t)
	if _, err := f.store.Seed(context.Background(), bank(), t0); err != nil {
		t.Fatal(err)
	}
	return f
}

func person(n int, partner string, accounts ...demo.Account) demo.Customer {
	doc := fmt.Sprintf("4000%04d", n)
	return demo.Customer{
		ID: demo.CustomerID("DNI", doc), CoreNumber: fmt.Sprintf("CU%08d", n), DocumentType: "DNI", DocumentNumber: doc,
		GivenNames: fmt.Sprintf("Given%d", n), FamilyNames: "Quispe Mamani", BirthDate: "1990-05-17",
		Email: fmt.Sprintf("p%d@example.pe", n), Phone: fmt.Sprintf("+5199900%04d", n), Partner: partner, Accounts: accounts,
	}
}

func account(n int, typ, currency, status string) demo.Account {
	return demo.Account{Number: fmt.Sprintf("191001%08d", n), Type: typ, Currency: currency, Status: status}
}

// bank is a small demo bank: one of the bank's own customers (maria) with an
// active, a blocked and a closed account; four customers of kallpa, whose agents
// settle on two accounts; one of yaku, which has no agent.
func bank() *demo.Dataset {
	return &demo.Dataset{
		Partners: []demo.Partner{{Key: "kallpa", Name: "Kallpa Pagos"}, {Key: "yaku", Name: "Yaku"}},
		Agents: []demo.Agent{
			{Key: "kallpa-agent-1", Partner: "kallpa", Account: account(9901, "checking", "PEN", "active")},
			{Key: "kallpa-agent-2", Partner: "kallpa", Account: account(9902, "checking", "PEN", "active")},
		},
		Customers: []demo.Customer{
			person(1, "", account(11, "savings", "PEN", "active"), account(12, "checking", "USD", "blocked"),
				account(13, "savings", "PEN", "closed")),
			person(2, "kallpa", account(21, "savings", "PEN", "active")),
			person(3, "kallpa", account(31, "savings", "PEN", "active")),
			person(4, "yaku", account(41, "savings", "PEN", "active")),
			person(5, "kallpa"),
			person(6, "kallpa", account(61, "savings", "USD", "active")),
		},
	}
}

var (
	maria = person(1, "")
	jose  = person(2, "kallpa")
)

func TestSeedLoadsTheDemoBankOnce(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	st, err := f.store.Seed(ctx, bank(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (customerpg.SeedStats{Partners: 2, Customers: 6, Accounts: 7, Preferences: 6}); st != want {
		t.Errorf("first seed %+v, want %+v", st, want)
	}

	kallpa, err := f.store.Partner(ctx, "kallpa")
	if err != nil {
		t.Fatal(err)
	}
	if want := (domain.Partner{ID: "kallpa", DisplayName: "Kallpa Pagos", Status: "active",
		SettlementAccountNumber: account(9901, "", "", "").Number}); kallpa.ID != want.ID || kallpa.DisplayName != want.DisplayName ||
		kallpa.Status != want.Status || kallpa.SettlementAccountNumber != want.SettlementAccountNumber || !kallpa.CreatedAt.Equal(t0) {
		t.Errorf("kallpa %+v, want %+v created at %v (its first agent's account)", kallpa, want, t0)
	}
	if yaku, err := f.store.Partner(ctx, "yaku"); err != nil || yaku.SettlementAccountNumber != "" {
		t.Errorf("yaku, without agents: %+v, %v", yaku, err)
	}

	// What a customer changed since stays: a restart seeds nothing over it.
	prefs := domain.Preferences{Language: "en-US", NotifyBySMS: true}
	if err := f.store.SetPreferences(ctx, maria.ID, prefs, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	changed := bank()
	changed.Customers[0].Email = "changed@example.pe"
	st, err = f.store.Seed(ctx, changed, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st != (customerpg.SeedStats{}) {
		t.Errorf("second seed added %+v, want nothing", st)
	}
	c, err := f.store.Customer(ctx, maria.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Preferences != prefs || c.Email != maria.Email || !c.CreatedAt.Equal(t0.Add(time.Microsecond)) {
		t.Errorf("after a second seed: %+v", c)
	}
}

func TestConcurrentSeedsSeedOnce(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	const seeders = 3
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		total customerpg.SeedStats
	)
	for range seeders {
		wg.Go(func() {
			<-start
			st, err := f.store.Seed(ctx, bank(), t0)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			total.Partners += st.Partners
			total.Customers += st.Customers
			total.Accounts += st.Accounts
			total.Preferences += st.Preferences
		})
	}
	close(start)
	wg.Wait()
	if want := (customerpg.SeedStats{Partners: 2, Customers: 6, Accounts: 7, Preferences: 6}); total != want {
		t.Errorf("%d seeders added %+v together, want one bank %+v", seeders, total, want)
	}
	var customers, accounts int
	if err := f.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM accounts)`).Scan(&customers, &accounts); err != nil {
		t.Fatal(err)
	}
	if customers != 6 || accounts != 7 {
		t.Errorf("%d customers and %d accounts, want 6 and 7", customers, accounts)
	}
}

func TestCustomerIsFoundByIDAndByDocument(t *testing.T) {
	ctx := context.Background()
	f := seeded(t)
	want := &domain.Customer{
		ID: jose.ID, CoreCustomerNumber: jose.CoreNumber, PartnerID: "kallpa", DocumentType: "DNI", DocumentNumber: jose.DocumentNumber,
		GivenNames: jose.GivenNames, FamilyNames: jose.FamilyNames, BirthDate: jose.BirthDate, Email: jose.Email, Phone: jose.Phone,
		Status: domain.CustomerActive, Preferences: domain.DefaultPreferences(),
		// The file's second customer, after maria (tick 1) and her three accounts.
		CreatedAt: t0.Add(5 * time.Microsecond), UpdatedAt: t0.Add(5 * time.Microsecond),
	}
	check := func(how string, got *domain.Customer, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
			t.Errorf("%s: created %v, updated %v; want %v", how, got.CreatedAt, got.UpdatedAt, want.CreatedAt)
		}
		g := *got
		g.CreatedAt, g.UpdatedAt = want.CreatedAt, want.UpdatedAt
		if !reflect.DeepEqual(&g, want) {
			t.Errorf("%s:\n%+v\nwant\n%+v", how, &g, want)
		}
	}
	got, err := f.store.Customer(ctx, jose.ID)
	check("by id", got, err)
	got, err = f.store.CustomerByDocument(ctx, "DNI", jose.DocumentNumber)
	check("by document", got, err)

	// A customer without a preferences row has the defaults.
	if _, err := f.pool.Exec(ctx, `DELETE FROM preferences WHERE customer_id = $1`, jose.ID); err != nil {
		t.Fatal(err)
	}
	got, err = f.store.Customer(ctx, jose.ID)
	check("without preferences", got, err)

	for name, find := range map[string]func() (*domain.Customer, error){
		"an unknown id":              func() (*domain.Customer, error) { return f.store.Customer(ctx, uuid.NewString()) },
		"an unknown document":        func() (*domain.Customer, error) { return f.store.CustomerByDocument(ctx, "DNI", "99999999") },
		"the number of another type": func() (*domain.Customer, error) { return f.store.CustomerByDocument(ctx, "CE", jose.DocumentNumber) },
		"an account's id": func() (*domain.Customer, error) {
			return f.store.Customer(ctx, domain.AccountID(account(21, "", "", "").Number))
		},
	} {
		if c, err := find(); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("%s: %+v, %v; want ErrNotFound", name, c, err)
		}
	}
}

func TestSetPreferencesReplacesThem(t *testing.T) {
	ctx := context.Background()
	f := seeded(t)
	savings := domain.AccountID(account(11, "", "", "").Number)
	steps := []struct {
		name string
		set  domain.Preferences
		at   time.Time
	}{
		{"all of them", domain.Preferences{Language: "en-US", NotifyByEmail: false, NotifyBySMS: true, DefaultAccountID: savings}, t0.Add(time.Hour)},
		{"the default account cleared", domain.Preferences{Language: "qu-PE", NotifyByEmail: true}, t0.Add(2 * time.Hour)},
	}
	for _, s := range steps {
		if err := f.store.SetPreferences(ctx, maria.ID, s.set, s.at); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		c, err := f.store.Customer(ctx, maria.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Preferences != s.set || !c.UpdatedAt.Equal(s.at) {
			t.Errorf("%s: %+v updated at %v, want %+v at %v", s.name, c.Preferences, c.UpdatedAt, s.set, s.at)
		}
	}
	if other, err := f.store.Customer(ctx, jose.ID); err != nil || other.Preferences != domain.DefaultPreferences() {
		t.Errorf("another customer's preferences changed: %+v, %v", other, err)
	}
	if err := f.store.SetPreferences(ctx, uuid.NewString(), domain.DefaultPreferences(), t0); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("an unknown customer: %v, want ErrNotFound", err)
	}
}

func TestPartnerCustomersArePagedNewestFirstPerPartner(t *testing.T) {
	ctx := context.Background()
	f := seeded(t)
	// Two customers created at the same instant: the id breaks the tie.
	tie := t0.Add(time.Hour)
	for _, c := range []demo.Customer{person(3, ""), person(5, "")} {
		if _, err := f.pool.Exec(ctx, `UPDATE customers SET created_at = $2 WHERE customer_id = $1`, c.ID, tie); err != nil {
			t.Fatal(err)
		}
	}
	// kallpa's customers by creation: 2, 6 (the file's order), then 3 and 5 at the tie.
	want := []string{person(3, "").ID, person(5, "").ID, person(6, "").ID, jose.ID}
	if want[0] < want[1] {
		want[0], want[1] = want[1], want[0]
	}
	for _, size := range []int{1, 2, 3, 4, 10} {
		t.Run(fmt.Sprint("pages of ", size), func(t *testing.T) {
			var got []string
			token := ""
			for pages := 1; ; pages++ {
				page, next, err := f.store.PartnerCustomers(ctx, "kallpa", size, token)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > size || (next != "" && len(page) != size) {
					t.Fatalf("page %d: %d customers, next %q", pages, len(page), next)
				}
				for _, c := range page {
					if c.PartnerID != "kallpa" {
						t.Errorf("%s of partner %q in kallpa's list", c.ID, c.PartnerID)
					}
					got = append(got, c.ID)
				}
				if next == "" {
					break
				}
				if pages > len(want) {
					t.Fatal("the pages never end")
				}
				token = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("customers %v, want %v", got, want)
			}
		})
	}

	if cs, next, err := f.store.PartnerCustomers(ctx, "nobody", 10, ""); err != nil || len(cs) != 0 || next != "" {
		t.Errorf("an unknown partner: %v, %q, %v", cs, next, err)
	}
	if cs, _, err := f.store.PartnerCustomers(ctx, "yaku", 10, ""); err != nil || len(cs) != 1 || cs[0].ID != person(4, "").ID {
		t.Errorf("yaku's customers: %v, %v", cs, err)
	}
	for _, token := range []string{"%%%", "MTIz", "MTIzX3g"} { // not base64; "123"; "123_x"
		_, _, err := f.store.PartnerCustomers(ctx, "kallpa", 10, token)
		if !errors.Is(err, customerpg.ErrBadPageToken) || !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("token %q: %v, want ErrBadPageToken", token, err)
		}
	}
}

func TestPartnerIsFoundByID(t *testing.T) {
	f := seeded(t)
	if p, err := f.store.Partner(context.Background(), "nobody"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("an unknown partner: %+v, %v", p, err)
	}
}

func TestAccountsBelongToTheirCustomer(t *testing.T) {
	ctx := context.Background()
	f := seeded(t)
	acc := func(n int, customer demo.Customer, typ, currency, status string, tick int) *domain.Account {
		number := account(n, "", "", "").Number
		return &domain.Account{ID: domain.AccountID(number), CustomerID: customer.ID, AccountNumber: number, Type: typ,
			Currency: currency, Status: status, OpenedAt: t0.Add(time.Duration(tick) * time.Microsecond)}
	}
	// maria is the first row of the file (tick 1), her accounts the next three.
	active, blocked, closed := acc(11, maria, "savings", "PEN", "active", 2), acc(12, maria, "checking", "USD", "blocked", 3),
		acc(13, maria, "savings", "PEN", "closed", 4)
	same := func(a, b *domain.Account) bool {
		x, y := *a, *b
		x.OpenedAt, y.OpenedAt = x.OpenedAt.UTC(), y.OpenedAt.UTC()
		return x == y
	}

	for _, want := range []*domain.Account{active, blocked, closed} {
		if got, err := f.store.Account(ctx, want.ID); err != nil || !same(got, want) {
			t.Errorf("Account(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
		if got, err := f.store.AccountByNumber(ctx, want.AccountNumber); err != nil || !same(got, want) {
			t.Errorf("AccountByNumber(%s) = %+v, %v; want %+v", want.AccountNumber, got, err, want)
		}
	}
	if _, err := f.store.Account(ctx, uuid.NewString()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("an unknown account id: %v", err)
	}
	if _, err := f.store.AccountByNumber(ctx, "19100000000000"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("an unknown account number: %v", err)
	}

	cases := []struct {
		name          string
		customer      string
		includeClosed bool
		want          []*domain.Account
	}{
		{"open ones, oldest first", maria.ID, false, []*domain.Account{active, blocked}},
		{"with the closed one", maria.ID, true, []*domain.Account{active, blocked, closed}},
		{"another customer's own", jose.ID, true, []*domain.Account{acc(21, jose, "savings", "PEN", "active", 6)}},
		{"a customer without accounts", person(5, "").ID, true, nil},
		{"an unknown customer", uuid.NewString(), true, nil},
	}
	for _, c := range cases {
		got, err := f.store.Accounts(ctx, c.customer, c.includeClosed)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ok := len(got) == len(c.want)
		for i := 0; ok && i < len(got); i++ {
			ok = same(got[i], c.want[i])
		}
		if !ok {
			var gs []string
			for _, a := range got {
				gs = append(gs, a.AccountNumber+"/"+a.Status)
			}
			t.Errorf("%s: %s", c.name, strings.Join(gs, ", "))
		}
	}
}
