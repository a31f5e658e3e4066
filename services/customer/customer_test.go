package customer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	facadev1 "github.com/andes-bank/andes/gen/andes/facade/v1"
	identityv1 "github.com/andes-bank/andes/gen/andes/identity/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/platform/tokens"
	facadeclient "github.com/andes-bank/andes/services/customer/adapters/facade"
	customerpg "github.com/andes-bank/andes/services/customer/adapters/postgres"
	"github.com/andes-bank/andes/services/customer/app"
	"github.com/andes-bank/andes/services/customer/domain"
	"github.com/andes-bank/andes/services/customer/ports"
)

const (
	issuer   = "https://auth.test"
	audience = "https://api.andes.bank"
)

// fakeFacade stands in for the facade, which is being built: it answers snapshots
// from a map by core customer number, over real mTLS.
type fakeFacade struct {
	facadev1.UnimplementedFacadeServiceServer
	snapshots map[string]*facadev1.CustomerSnapshot
	down      bool
}

func (f *fakeFacade) GetCustomerSnapshot(_ context.Context, req *facadev1.GetCustomerSnapshotRequest) (*facadev1.GetCustomerSnapshotResponse, error) {
	if f.down {
		return nil, status.Error(codes.Unavailable, "core down")
	}
	s, ok := f.snapshots[req.GetCustomerNumber()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such customer")
	}
	return &facadev1.GetCustomerSnapshotResponse{Snapshot: s, Source: facadev1.SnapshotSource_SNAPSHOT_SOURCE_CACHE}, nil
}

func (f *fakeFacade) ListMovements(_ context.Context, req *facadev1.ListMovementsRequest) (*facadev1.ListMovementsResponse, error) {
	return &facadev1.ListMovementsResponse{Movements: []*facadev1.Movement{{PostingId: "p1", AccountNumber: req.GetAccountNumber(),
		Amount: &moneyv1.Money{AmountMinor: -500, Currency: "PEN"}, CounterpartyAccountNumber: "19100100000999"}}}, nil
}

type env struct {
	t      *testing.T
	ds     *demo.Dataset
	pool   *pgxpool.Pool
	store  *customerpg.Store
	facade *fakeFacade
	key    ed25519.PrivateKey
	conns  map[string]*grpc.ClientConn
	addr   string
	pki    *pkitest.PKI
}

func repoFile(t *testing.T, parts ...string) string {
	t.Helper()
	demoFile, err := demo.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(demoFile)))
	return filepath.Join(append([]string{root}, parts...)...)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	path, err := demo.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := demo.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Open(ctx, postgres.Config{URL: testenv.PostgresURL(t), Schema: "customer", AppName: "customer-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := customerpg.Migrate(ctx, pool, "customer"); err != nil {
		t.Fatal(err)
	}
	store := customerpg.New(pool)
	start := time.Now()
	if _, err := store.Seed(ctx, ds, time.Now()); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d customers in %v", len(ds.Customers), time.Since(start))

	p := pkitest.New(t, "customer", "facade", "bff-mobile", "bff-partner", "controller", "messaging")

	// The facade fake, mTLS, allowing the customer service only.
	ff := &fakeFacade{snapshots: map[string]*facadev1.CustomerSnapshot{}}
	fs, err := server.New(server.Options{Credentials: p.Credentials(t, "facade"), Policy: `{"name":"facade","allow_rules":[
		{"name":"customer","source":{"principals":["spiffe://andes.local/customer"]},"request":{"paths":["/andes.facade.v1.*"]}}]}`})
	if err != nil {
		t.Fatal(err)
	}
	facadev1.RegisterFacadeServiceServer(fs, ff)
	facadeAddr := servertest.Serve(t, fs)
	fconn, err := grpcclient.New(facadeAddr, grpcclient.Options{Credentials: p.Credentials(t, "customer"), Peer: "facade"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fconn.Close() })

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tokens.NewVerifier(tokens.Options{Issuer: issuer, Audience: audience,
		Keys: tokens.StaticKeys{"k1": {KID: "k1", Alg: tokens.AlgEdDSA, Key: pub}}})
	if err != nil {
		t.Fatal(err)
	}
	o := tokens.RPCOptions{Domain: "customer.andes.bank", Optional: true}
	cs, err := server.New(server.Options{Credentials: p.Credentials(t, "customer"),
		PolicyFile:        repoFile(t, "deploy", "policies", "customer.json"),
		UnaryInterceptors: []grpc.UnaryServerInterceptor{v.UnaryServerInterceptor(o)}})
	if err != nil {
		t.Fatal(err)
	}
	api, err := ports.NewGRPC(app.New(store, facadeclient.New(fconn), time.Now))
	if err != nil {
		t.Fatal(err)
	}
	customerv1.RegisterCustomerServiceServer(cs, api)
	e := &env{t: t, ds: ds, pool: pool, store: store, facade: ff, key: priv, conns: map[string]*grpc.ClientConn{},
		addr: servertest.Serve(t, cs), pki: p}
	return e
}

// client is the customer API as the named process sees it.
func (e *env) client(caller string) customerv1.CustomerServiceClient {
	conn, ok := e.conns[caller]
	if !ok {
		var err error
		conn, err = grpcclient.New(e.addr, grpcclient.Options{Credentials: e.pki.Credentials(e.t, caller), Peer: "customer"})
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { conn.Close() })
		e.conns[caller] = conn
	}
	return customerv1.NewCustomerServiceClient(conn)
}

// token signs an access token as auth would: a customer's (sub = customer id) or a
// partner's client-credentials token (sub = client id, partner_id set).
func (e *env) token(sub, clientID, partnerID string) string {
	now := time.Now()
	c := &tokens.Claims{Issuer: issuer, Subject: sub, Audience: tokens.Audience{audience}, ClientID: clientID,
		ExpiresAt: tokens.At(now.Add(time.Hour)), IssuedAt: tokens.At(now), ID: "jti-" + sub, PartnerID: partnerID}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["typ"] = tokens.TokenType
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(e.key)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func as(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSeedIsIdempotentAndComplete(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	st, err := e.store.Seed(ctx, e.ds, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st != (customerpg.SeedStats{}) {
		t.Fatalf("second seeding added %+v", st)
	}
	var customers, accounts int
	wantAccounts := 0
	for _, c := range e.ds.Customers {
		wantAccounts += len(c.Accounts)
	}
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM accounts)`).Scan(&customers, &accounts); err != nil {
		t.Fatal(err)
	}
	if customers != len(e.ds.Customers) || accounts != wantAccounts {
		t.Fatalf("seeded %d customers, %d accounts; want %d, %d", customers, accounts, len(e.ds.Customers), wantAccounts)
	}
	for _, key := range []string{"maria", "jose", "ana", "carlos"} {
		p := e.ds.Customer(key)
		c, err := e.store.Customer(ctx, p.ID)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if c.ID != demo.CustomerID(p.DocumentType, p.DocumentNumber) || c.CoreCustomerNumber != p.CoreNumber ||
			c.PartnerID != p.Partner || c.Email != p.Email || c.Preferences.Language != "es-PE" {
			t.Fatalf("%s seeded as %+v", key, c)
		}
		accs, err := e.store.Accounts(ctx, p.ID, true)
		if err != nil || len(accs) != len(p.Accounts) {
			t.Fatalf("%s: %d accounts, %v", key, len(accs), err)
		}
		for i, a := range accs {
			if a.AccountNumber != p.Accounts[i].Number || a.ID != domain.AccountID(a.AccountNumber) || a.Status != p.Accounts[i].Status {
				t.Fatalf("%s account %d: %+v, want %+v", key, i, a, p.Accounts[i])
			}
		}
	}
	kallpa, err := e.store.Partner(ctx, "kallpa")
	if err != nil || kallpa.SettlementAccountNumber != e.ds.Agents[0].Account.Number {
		t.Fatalf("kallpa: %+v %v", kallpa, err)
	}
}

func TestOwnCustomer(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	maria := e.ds.Customer("maria")
	ctx = as(ctx, e.token(maria.ID, "mobile", ""))
	api := e.client("bff-mobile")

	got, err := api.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: maria.ID})
	if err != nil {
		t.Fatal(err)
	}
	c := got.GetCustomer()
	if c.GetGivenNames() != maria.GivenNames || c.GetDocument().GetType() != identityv1.DocumentType_DOCUMENT_TYPE_DNI ||
		c.GetStatus() != customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE {
		t.Fatalf("customer %v", c)
	}
	accs, err := api.ListAccounts(ctx, &customerv1.ListAccountsRequest{CustomerId: maria.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(accs.GetAccounts()) != 3 || accs.GetAccounts()[1].GetType() != customerv1.AccountType_ACCOUNT_TYPE_CHECKING ||
		accs.GetAccounts()[2].GetCurrency() != "USD" {
		t.Fatalf("accounts %v", accs)
	}
	first := accs.GetAccounts()[0]
	one, err := api.GetAccount(ctx, &customerv1.GetAccountRequest{AccountId: first.GetAccountId()})
	if err != nil || !proto.Equal(one.GetAccount(), first) {
		t.Fatalf("GetAccount %v %v", one, err)
	}
	upd, err := api.UpdatePreferences(ctx, &customerv1.UpdatePreferencesRequest{CustomerId: maria.ID,
		Preferences: &customerv1.Preferences{Language: "en", NotifyBySms: true, DefaultAccountId: first.GetAccountId()}})
	if err != nil {
		t.Fatal(err)
	}
	if p := upd.GetCustomer().GetPreferences(); p.GetLanguage() != "en" || !p.GetNotifyBySms() || p.GetNotifyByEmail() ||
		p.GetDefaultAccountId() != first.GetAccountId() {
		t.Fatalf("preferences %v", p)
	}
	// A default account of someone else's is a validation error, not a leak.
	jose := e.ds.Customer("jose")
	_, err = api.UpdatePreferences(ctx, &customerv1.UpdatePreferencesRequest{CustomerId: maria.ID,
		Preferences: &customerv1.Preferences{DefaultAccountId: domain.AccountID(jose.Accounts[0].Number)}})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("foreign default account: %v", err)
	}
	// Paying jose: the lookup shows the masked name and no owner id.
	l, err := api.LookupAccountNumber(ctx, &customerv1.LookupAccountNumberRequest{AccountNumber: jose.Accounts[0].Number})
	if err != nil {
		t.Fatal(err)
	}
	if l.GetMaskedHolderName() != "José L*** H*** T***" || l.GetAccount().GetCustomerId() != "" ||
		l.GetAccount().GetAccountId() != domain.AccountID(jose.Accounts[0].Number) {
		t.Fatalf("lookup %v", l)
	}
}

// refusal is what a caller can observe of an error.
func refusal(err error) string {
	r := rpcstatus.Read(err)
	out := r.Code.String() + "|" + r.Message
	if r.Reason != "" {
		out += "|" + r.Reason + "|" + r.Domain
	}
	return out
}

// call is one RPC that takes an id.
type call func(ctx context.Context, api customerv1.CustomerServiceClient, id string) error

func TestObjectLevelAuthorization(t *testing.T) {
	e := newEnv(t)
	maria, jose, ana, carlos := e.ds.Customer("maria"), e.ds.Customer("jose"), e.ds.Customer("ana"), e.ds.Customer("carlos")
	for _, c := range []*demo.Customer{maria, jose, ana, carlos} {
		e.facade.snapshots[c.CoreNumber] = &facadev1.CustomerSnapshot{AsOf: timestamppb.Now()}
	}
	missingCustomer := "00000000-0000-4000-8000-000000000001"
	missingAccount := "00000000-0000-4000-8000-000000000002"

	customerCalls := map[string]call{
		"GetCustomer": func(ctx context.Context, api customerv1.CustomerServiceClient, id string) error {
			_, err := api.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: id})
			return err
		},
		"UpdatePreferences": func(ctx context.Context, api customerv1.CustomerServiceClient, id string) error {
			_, err := api.UpdatePreferences(ctx, &customerv1.UpdatePreferencesRequest{CustomerId: id, Preferences: &customerv1.Preferences{Language: "en"}})
			return err
		},
		"ListAccounts": func(ctx context.Context, api customerv1.CustomerServiceClient, id string) error {
			_, err := api.ListAccounts(ctx, &customerv1.ListAccountsRequest{CustomerId: id})
			return err
		},
		"GetCustomerView": func(ctx context.Context, api customerv1.CustomerServiceClient, id string) error {
			_, err := api.GetCustomerView(ctx, &customerv1.GetCustomerViewRequest{CustomerId: id})
			return err
		},
	}
	accountCalls := map[string]call{
		"GetAccount": func(ctx context.Context, api customerv1.CustomerServiceClient, id string) error {
			_, err := api.GetAccount(ctx, &customerv1.GetAccountRequest{AccountId: id})
			return err
		},
		"ListMovements": func(ctx context.Context, api customerv1.CustomerServiceClient, id string) error {
			_, err := api.ListMovements(ctx, &customerv1.ListMovementsRequest{AccountId: id})
			return err
		},
	}
	documentCall := func(ctx context.Context, api customerv1.CustomerServiceClient, doc string) error {
		_, err := api.LookupCustomer(ctx, &customerv1.LookupCustomerRequest{Document: &identityv1.IdentityDocument{
			Type: identityv1.DocumentType_DOCUMENT_TYPE_DNI, Number: doc}})
		return err
	}
	partnerCalls := map[string]call{
		"GetPartner": func(ctx context.Context, api customerv1.CustomerServiceClient, id string) error {
			_, err := api.GetPartner(ctx, &customerv1.GetPartnerRequest{PartnerId: id})
			return err
		},
		"ListPartnerCustomers": func(ctx context.Context, api customerv1.CustomerServiceClient, id string) error {
			_, err := api.ListPartnerCustomers(ctx, &customerv1.ListPartnerCustomersRequest{PartnerId: id})
			return err
		},
	}

	actors := []struct {
		name, caller, token  string
		own, other           *demo.Customer
		ownPartner, otherPtn string
	}{
		{"customer maria vs jose", "bff-mobile", e.token(maria.ID, "mobile", ""), maria, jose, "", "kallpa"},
		{"customer ana vs maria", "bff-web", e.token(ana.ID, "web", ""), ana, maria, "", "kallpa"},
		{"partner kallpa vs yaku's carlos", "bff-partner", e.token("partner-kallpa", "partner-kallpa", "kallpa"), ana, carlos, "kallpa", "yaku"},
		{"partner yaku vs bank's maria", "bff-partner", e.token("partner-yaku", "partner-yaku", "yaku"), carlos, maria, "yaku", "kallpa"},
	}
	e.pki.Issue(t, "bff-web")
	for _, a := range actors {
		t.Run(a.name, func(t *testing.T) {
			ctx := as(ctxT(t), a.token)
			api := e.client(a.caller)
			check := func(name string, c call, own, other, missing string) {
				t.Helper()
				if own != "" {
					if err := c(ctx, api, own); err != nil {
						t.Errorf("%s on own %s: %v", name, own, err)
					}
				}
				errOther, errMissing := c(ctx, api, other), c(ctx, api, missing)
				if status.Code(errOther) != codes.NotFound || refusal(errOther) != refusal(errMissing) {
					t.Errorf("%s on another's %s: %q; on a missing id: %q", name, other, refusal(errOther), refusal(errMissing))
				}
			}
			for name, c := range customerCalls {
				check(name, c, a.own.ID, a.other.ID, missingCustomer)
			}
			for name, c := range accountCalls {
				check(name, c, domain.AccountID(a.own.Accounts[0].Number), domain.AccountID(a.other.Accounts[0].Number), missingAccount)
			}
			check("LookupCustomer", documentCall, a.own.DocumentNumber, a.other.DocumentNumber, "99999999")
			for name, c := range partnerCalls {
				check(name, c, a.ownPartner, a.otherPtn, "no-such-partner")
			}
		})
	}

	t.Run("gateway without a user token", func(t *testing.T) {
		_, err := e.client("bff-mobile").GetCustomer(ctxT(t), &customerv1.GetCustomerRequest{CustomerId: maria.ID})
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("controller on its own account sees any", func(t *testing.T) {
		got, err := e.client("controller").GetAccount(ctxT(t), &customerv1.GetAccountRequest{AccountId: domain.AccountID(jose.Accounts[0].Number)})
		if err != nil || got.GetAccount().GetCustomerId() != jose.ID {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("process outside the policy", func(t *testing.T) {
		_, err := e.client("messaging").GetCustomer(ctxT(t), &customerv1.GetCustomerRequest{CustomerId: maria.ID})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("got %v", err)
		}
	})
}

func TestPartnerSeesOnlyItsCustomers(t *testing.T) {
	e := newEnv(t)
	ctx := as(ctxT(t), e.token("partner-kallpa", "partner-kallpa", "kallpa"))
	api := e.client("bff-partner")
	want := map[string]bool{}
	for _, c := range e.ds.Customers {
		if c.Partner == "kallpa" {
			want[c.ID] = true
		}
	}
	seen := map[string]bool{}
	token := ""
	for {
		page, err := api.ListPartnerCustomers(ctx, &customerv1.ListPartnerCustomersRequest{PartnerId: "kallpa", PageSize: 100, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.GetCustomers() {
			if c.GetPartnerId() != "kallpa" || seen[c.GetCustomerId()] {
				t.Fatalf("listed %s of %q (seen before: %v)", c.GetCustomerId(), c.GetPartnerId(), seen[c.GetCustomerId()])
			}
			seen[c.GetCustomerId()] = true
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(seen) != len(want) || len(want) < 2 {
		t.Fatalf("listed %d customers, kallpa has %d", len(seen), len(want))
	}
	_, err := api.ListPartnerCustomers(ctx, &customerv1.ListPartnerCustomersRequest{PartnerId: "kallpa", PageToken: "garbage"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad page token: %v", err)
	}
}

func pen(minor int64) *moneyv1.Money { return &moneyv1.Money{AmountMinor: minor, Currency: "PEN"} }

func TestCustomerView(t *testing.T) {
	e := newEnv(t)
	maria := e.ds.Customer("maria")
	asOf := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	e.facade.snapshots[maria.CoreNumber] = &facadev1.CustomerSnapshot{
		Profile: &facadev1.Profile{CustomerNumber: maria.CoreNumber},
		Accounts: []*facadev1.Account{
			{AccountNumber: maria.Accounts[0].Number, Status: facadev1.AccountStatus_ACCOUNT_STATUS_ACTIVE, Currency: "PEN",
				LedgerBalance: pen(1250000), AvailableBalance: pen(1200000), OverdraftLimit: pen(0)},
			{AccountNumber: maria.Accounts[1].Number, Status: facadev1.AccountStatus_ACCOUNT_STATUS_BLOCKED, Currency: "PEN",
				LedgerBalance: pen(230000), AvailableBalance: pen(0), OverdraftLimit: pen(50000)},
			// An account the core lists but Andes does not record as hers.
			{AccountNumber: "19100199999999", Status: facadev1.AccountStatus_ACCOUNT_STATUS_ACTIVE, LedgerBalance: pen(1)},
		},
		Products: []*facadev1.Product{{ProductId: "td-1", Type: facadev1.ProductType_PRODUCT_TYPE_TERM_DEPOSIT, Name: "Depósito 360", Amount: pen(500000), DueDate: "2027-01-01"}},
		LatestMovements: []*facadev1.Movement{
			{PostingId: "p2", AccountNumber: maria.Accounts[0].Number, Amount: pen(-1500), Kind: facadev1.MovementKind_MOVEMENT_KIND_TRANSFER_OUT,
				CounterpartyAccountNumber: "19100100000777", CounterpartyName: "José L*** H***", BookedAt: timestamppb.New(asOf)},
			{PostingId: "p9", AccountNumber: "19100199999999", Amount: pen(1)},
		},
		AsOf:       timestamppb.New(asOf),
		FreshUntil: timestamppb.New(asOf.Add(5 * time.Minute)),
	}
	ctx := as(ctxT(t), e.token(maria.ID, "mobile", ""))
	v, err := e.client("bff-mobile").GetCustomerView(ctx, &customerv1.GetCustomerViewRequest{CustomerId: maria.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !v.GetStale() || !v.GetAsOf().AsTime().Equal(asOf) || v.GetCustomer().GetCustomerId() != maria.ID {
		t.Fatalf("stale %v as_of %v", v.GetStale(), v.GetAsOf().AsTime())
	}
	if len(v.GetAccounts()) != 2 {
		t.Fatalf("accounts %v", v.GetAccounts())
	}
	a0, a1 := v.GetAccounts()[0], v.GetAccounts()[1]
	if a0.GetAccount().GetAccountId() != domain.AccountID(maria.Accounts[0].Number) || a0.GetBalance().GetAvailable().GetAmountMinor() != 1200000 ||
		a1.GetAccount().GetStatus() != customerv1.AccountStatus_ACCOUNT_STATUS_BLOCKED || a1.GetBalance().GetOverdraftLimit().GetAmountMinor() != 50000 {
		t.Fatalf("accounts %v", v.GetAccounts())
	}
	if len(v.GetProducts()) != 1 || v.GetProducts()[0].GetType() != customerv1.ProductType_PRODUCT_TYPE_TERM_DEPOSIT {
		t.Fatalf("products %v", v.GetProducts())
	}
	if len(v.GetLatestMovements()) != 1 {
		t.Fatalf("movements %v", v.GetLatestMovements())
	}
	m := v.GetLatestMovements()[0]
	if m.GetAccountId() != a0.GetAccount().GetAccountId() || m.GetCounterpartyAccountNumber() != "**********0777" ||
		m.GetKind() != customerv1.MovementKind_MOVEMENT_KIND_TRANSFER_OUT || m.GetAmount().GetAmountMinor() != -1500 {
		t.Fatalf("movement %v", m)
	}

	// Fresh snapshot: not stale.
	e.facade.snapshots[maria.CoreNumber].FreshUntil = timestamppb.New(time.Now().Add(time.Hour))
	if v, err = e.client("bff-mobile").GetCustomerView(ctx, &customerv1.GetCustomerViewRequest{CustomerId: maria.ID}); err != nil || v.GetStale() {
		t.Fatalf("fresh view: stale=%v %v", v.GetStale(), err)
	}
	// The facade down: DEPENDENCY_UNAVAILABLE, retryable.
	e.facade.down = true
	_, err = e.client("bff-mobile").GetCustomerView(ctx, &customerv1.GetCustomerViewRequest{CustomerId: maria.ID, RequireFresh: true})
	if status.Code(err) != codes.Unavailable || refusal(err) != "Unavailable|the core banking data is unavailable|DEPENDENCY_UNAVAILABLE|customer.andes.bank" {
		t.Fatalf("facade down: %q", refusal(err))
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	maria := e.ds.Customer("maria")
	ctx := as(ctxT(t), e.token(maria.ID, "mobile", ""))
	api := e.client("bff-mobile")
	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"customer id not a uuid", func() error {
			_, err := api.GetCustomer(ctx, &customerv1.GetCustomerRequest{CustomerId: "maria"})
			return err
		}, "customer_id"},
		{"account number with letters", func() error {
			_, err := api.LookupAccountNumber(ctx, &customerv1.LookupAccountNumberRequest{AccountNumber: "19100A"})
			return err
		}, "account_number"},
		{"preferences missing", func() error {
			_, err := api.UpdatePreferences(ctx, &customerv1.UpdatePreferencesRequest{CustomerId: maria.ID})
			return err
		}, "preferences"},
		{"DNI of 7 digits", func() error {
			_, err := api.LookupCustomer(ctx, &customerv1.LookupCustomerRequest{Document: &identityv1.IdentityDocument{
				Type: identityv1.DocumentType_DOCUMENT_TYPE_DNI, Number: "1234567"}})
			return err
		}, "document"},
		{"negative page size", func() error {
			_, err := api.ListPartnerCustomers(ctx, &customerv1.ListPartnerCustomersRequest{PartnerId: "kallpa", PageSize: -1})
			return err
		}, "page_size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			r := rpcstatus.Read(err)
			if r.Code != codes.InvalidArgument {
				t.Fatalf("got %v", err)
			}
			var fields []string
			for _, v := range r.Violations {
				fields = append(fields, v.GetField())
			}
			if r.Reason != "VALIDATION_FAILED" || len(fields) == 0 || fields[0] != c.field {
				t.Fatalf("reason %q fields %v", r.Reason, fields)
			}
		})
	}
}
