package ports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/andes-bank/andes/bff/partner/ports"
	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	customerv1 "github.com/andes-bank/andes/gen/andes/customer/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	partnerv1 "github.com/andes-bank/andes/gen/andes/partner/v1"
	"github.com/andes-bank/andes/platform/tokens"
)

const (
	kallpaCustomer = "7b1f7a52-0000-4000-8000-000000000001"
	yakuCustomer   = "7b1f7a52-0000-4000-8000-000000000002"
	kallpaAccount  = "9c2e0d11-0000-4000-8000-000000000001"
	yakuAccount    = "9c2e0d11-0000-4000-8000-000000000002"
	missingID      = "00000000-0000-4000-8000-000000000000"
)

// verifier knows a few tokens by their raw text.
type verifier map[string]*tokens.Principal

func (v verifier) Verify(_ context.Context, raw string) (*tokens.Principal, error) {
	if p, ok := v[raw]; ok {
		return p, nil
	}
	return nil, &tokens.Error{Reason: tokens.ReasonSignature}
}

var principals = verifier{
	"kallpa": {Subject: "partner-kallpa", ClientID: "partner-kallpa", PartnerID: "kallpa",
		Scopes: []string{"customers:read", "customers:write", "accounts:read", "transfers:write", "cash"}},
	"yaku": {Subject: "partner-yaku", ClientID: "partner-yaku", PartnerID: "yaku",
		Scopes: []string{"customers:read", "accounts:read", "transfers:write"}},
	"maria": {Subject: "b0c1d2e3-0000-4000-8000-000000000009", ClientID: "andes-mobile", Scopes: []string{"accounts:read"}},
}

// backend plays the customer service and the controller the way they answer a
// partner token: each partner's objects to that partner, NOT_FOUND otherwise.
type backend struct {
	ports.Customers
	ports.Controller
	transfer func(context.Context, *controllerv1.TransferRequest) (*controllerv1.TransferResponse, error)
	cashIn   func(context.Context, *controllerv1.CashInRequest) (*controllerv1.CashInResponse, error)
	tokens   []string // forwarded tokens seen
}

var customersByID = map[string]*customerv1.Customer{
	kallpaCustomer: {CustomerId: kallpaCustomer, PartnerId: "kallpa", CoreCustomerNumber: "C-SECRET-1", GivenNames: "Ana",
		Status: customerv1.CustomerStatus_CUSTOMER_STATUS_ACTIVE},
	yakuCustomer: {CustomerId: yakuCustomer, PartnerId: "yaku", CoreCustomerNumber: "C-SECRET-2", GivenNames: "Carlos"},
}

var accountsByID = map[string]*customerv1.Account{
	kallpaAccount: {AccountId: kallpaAccount, CustomerId: kallpaCustomer, AccountNumber: "19100100000112", Currency: "PEN"},
	yakuAccount:   {AccountId: yakuAccount, CustomerId: yakuCustomer, AccountNumber: "19100100000213", Currency: "PEN"},
}

// forwarded is the token the edge sent along with a call to the services.
func forwarded(ctx context.Context) string {
	md, _ := metadata.FromOutgoingContext(ctx)
	if v := md.Get("authorization"); len(v) == 1 {
		raw, _ := tokens.BearerToken(v[0])
		return raw
	}
	return ""
}

func partnerOf(ctx context.Context) string {
	raw := forwarded(ctx)
	if p := principals[raw]; p != nil {
		return p.PartnerID
	}
	return ""
}

func notFound() error {
	st, _ := status.New(codes.NotFound, "customer 123 of partner yaku is not yours").WithDetails(
		&errdetails.ErrorInfo{Reason: "NOT_FOUND", Domain: "customer.andes.bank"})
	return st.Err()
}

func (b *backend) GetCustomer(ctx context.Context, in *customerv1.GetCustomerRequest, _ ...grpc.CallOption) (*customerv1.GetCustomerResponse, error) {
	b.tokens = append(b.tokens, forwarded(ctx))
	c := customersByID[in.GetCustomerId()]
	if c == nil || c.GetPartnerId() != partnerOf(ctx) {
		return nil, notFound()
	}
	return &customerv1.GetCustomerResponse{Customer: c}, nil
}

func (b *backend) GetAccount(ctx context.Context, in *customerv1.GetAccountRequest, _ ...grpc.CallOption) (*customerv1.GetAccountResponse, error) {
	a := accountsByID[in.GetAccountId()]
	if a == nil || customersByID[a.GetCustomerId()].GetPartnerId() != partnerOf(ctx) {
		return nil, notFound()
	}
	return &customerv1.GetAccountResponse{Account: a}, nil
}

func (b *backend) GetCustomerView(ctx context.Context, in *customerv1.GetCustomerViewRequest, _ ...grpc.CallOption) (*customerv1.GetCustomerViewResponse, error) {
	c := customersByID[in.GetCustomerId()]
	if c == nil || c.GetPartnerId() != partnerOf(ctx) {
		return nil, notFound()
	}
	v := &customerv1.GetCustomerViewResponse{Customer: c}
	for _, a := range accountsByID {
		if a.GetCustomerId() == c.GetCustomerId() {
			v.Accounts = append(v.Accounts, &customerv1.AccountView{Account: a, Balance: &customerv1.Balance{
				Ledger: &moneyv1.Money{AmountMinor: 50000, Currency: "PEN"}, Available: &moneyv1.Money{AmountMinor: 50000, Currency: "PEN"}}})
		}
	}
	return v, nil
}

func (b *backend) ListPartnerCustomers(ctx context.Context, in *customerv1.ListPartnerCustomersRequest, _ ...grpc.CallOption) (*customerv1.ListPartnerCustomersResponse, error) {
	out := &customerv1.ListPartnerCustomersResponse{}
	for _, c := range customersByID {
		if c.GetPartnerId() == in.GetPartnerId() {
			out.Customers = append(out.Customers, c)
		}
	}
	return out, nil
}

func (b *backend) Transfer(ctx context.Context, in *controllerv1.TransferRequest, _ ...grpc.CallOption) (*controllerv1.TransferResponse, error) {
	return b.transfer(ctx, in)
}

func (b *backend) CashIn(ctx context.Context, in *controllerv1.CashInRequest, _ ...grpc.CallOption) (*controllerv1.CashInResponse, error) {
	return b.cashIn(ctx, in)
}

type limiter struct{ q ports.Quota }

func (l limiter) Take(context.Context, string) (ports.Quota, error) { return l.q, nil }

func serve(t *testing.T, b *backend, lim ports.Limiter) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api, err := ports.NewAPI(b, b, log)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ports.NewREST(context.Background(), ports.Options{API: api, Verifier: principals, Limiter: lim,
		OpenAPI: []byte(`{"swagger":"2.0"}`), Logger: log, MaxBodyBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func call(t *testing.T, srv *httptest.Server, method, path, token, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %q", method, path, resp.StatusCode, raw)
	}
	return a
}

// refused checks an Error body: status, reason, and that it is the stable shape.
func refused(t *testing.T, a answer, code int, reason string) {
	t.Helper()
	if a.code != code || a.body["reason"] != reason || a.body["status"] != float64(code) ||
		a.body["message"] == "" || len(fmt.Sprint(a.body["request_id"])) != 24 || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("got %d %s, want %d %s in an Error body", a.code, a.raw, code, reason)
	}
}

func TestTokens(t *testing.T) {
	srv := serve(t, &backend{}, nil)
	a := call(t, srv, "GET", "/v1/customers", "", "")
	refused(t, a, 401, "INVALID_TOKEN")
	if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: %v", a.header)
	}
	refused(t, call(t, srv, "GET", "/v1/customers", "forged", ""), 401, "INVALID_TOKEN")
	refused(t, call(t, srv, "GET", "/v1/customers?access_token=kallpa", "", ""), 401, "INVALID_TOKEN")
	refused(t, call(t, srv, "GET", "/v1/customers", "maria", ""), 403, "INSUFFICIENT_SCOPE")
	// The edge's own document needs no token.
	if a := call(t, srv, "GET", "/openapi.json", "", ""); a.code != 200 || a.body["swagger"] != "2.0" {
		t.Errorf("/openapi.json: %d %s", a.code, a.raw)
	}
}

func TestTenancy(t *testing.T) {
	b := &backend{}
	srv := serve(t, b, nil)
	a := call(t, srv, "GET", "/v1/customers", "kallpa", "")
	if a.code != 200 || !strings.Contains(a.raw, kallpaCustomer) || strings.Contains(a.raw, yakuCustomer) {
		t.Errorf("kallpa's list: %d %s", a.code, a.raw)
	}
	if strings.Contains(a.raw, "C-SECRET") || strings.Contains(a.raw, "partner_id") {
		t.Errorf("internal fields shown to the partner: %s", a.raw)
	}
	if got := b.tokens; len(got) != 0 {
		t.Logf("forwarded %v", got)
	}

	// Every route with an id answers a foreign id exactly like a missing one.
	paths := []string{
		"/v1/customers/%s",
		"/v1/customers/%s/accounts/" + kallpaAccount,
	}
	for _, p := range paths {
		foreign := call(t, srv, "GET", strings.Replace(p, "%s", yakuCustomer, 1), "kallpa", "")
		missing := call(t, srv, "GET", strings.Replace(p, "%s", missingID, 1), "kallpa", "")
		refused(t, foreign, 404, "NOT_FOUND")
		refused(t, missing, 404, "NOT_FOUND")
		if foreign.body["message"] != missing.body["message"] || len(foreign.body) != len(missing.body) {
			t.Errorf("%s: a foreign id reads differently from a missing one:\n%s\n%s", p, foreign.raw, missing.raw)
		}
		if strings.Contains(foreign.raw, "yaku") {
			t.Errorf("the backend's words reached the partner: %s", foreign.raw)
		}
	}
	// The partner's own account comes with its balances.
	own := call(t, srv, "GET", "/v1/customers/"+kallpaCustomer+"/accounts/"+kallpaAccount, "kallpa", "")
	bal, _ := own.body["account"].(map[string]any)["ledger_balance"].(map[string]any)
	if own.code != 200 || bal["amount_minor"] != "50000" || bal["currency"] != "PEN" {
		t.Errorf("own account: %d %s", own.code, own.raw)
	}
	// An account of another customer under the partner's own customer is not found
	// either, even if the service would show it.
	refused(t, call(t, srv, "GET", "/v1/customers/"+kallpaCustomer+"/accounts/"+yakuAccount+"/movements", "kallpa", ""), 404, "NOT_FOUND")
	if len(b.tokens) == 0 || b.tokens[0] != "kallpa" {
		t.Errorf("the partner's token was not forwarded: %v", b.tokens)
	}
}

const transferBody = `{"source_account_id":"` + kallpaAccount + `","destination_account_number":"19100100000213",
	"amount":{"amount_minor":"1500","currency":"PEN"},"description":"rent"}`

func TestBadInput(t *testing.T) {
	b := &backend{transfer: func(context.Context, *controllerv1.TransferRequest) (*controllerv1.TransferResponse, error) {
		t.Error("a bad request reached the controller")
		return nil, status.Error(codes.Internal, "no")
	}}
	srv := serve(t, b, nil)
	path := "/v1/customers/" + kallpaCustomer + "/transfers"
	key := []string{"Idempotency-Key", "k-1"}
	for name, body := range map[string]string{
		"malformed JSON":  `{"source_account_id":`,
		"unknown field":   strings.Replace(transferBody, `"rent"`, `"rent","fee_minor":"1"`, 1),
		"trailing data":   transferBody + `{}`,
		"not an object":   `[1,2]`,
		"wrong type":      strings.Replace(transferBody, `"1500"`, `"fifteen"`, 1),
		"oversized":       strings.Replace(transferBody, `"rent"`, `"`+strings.Repeat("x", 4096)+`"`, 1),
		"breaks a rule":   strings.Replace(transferBody, `"1500"`, `"-5"`, 1),
		"missing amount":  `{"source_account_id":"` + kallpaAccount + `","destination_account_number":"19100100000213"}`,
		"empty body":      ``,
		"bad account no.": strings.Replace(transferBody, `19100100000213`, `12ab`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			refused(t, call(t, srv, "POST", path, "kallpa", body, key...), 400, "VALIDATION_FAILED")
		})
	}
	a := call(t, srv, "POST", path, "kallpa", strings.Replace(transferBody, `"-5"`, `"1500"`, 1))
	refused(t, a, 400, "IDEMPOTENCY_KEY_MISSING")
	refused(t, call(t, srv, "POST", path, "kallpa", transferBody, "Idempotency-Key", "has space"), 400, "VALIDATION_FAILED")
	if v := call(t, srv, "POST", path, "kallpa", strings.Replace(transferBody, `"1500"`, `"-5"`, 1), key...); fmt.Sprint(v.body["field_violations"]) != "[map[description:amount must be positive field:amount]]" {
		t.Errorf("the field is not named: %s", v.raw)
	}
	refused(t, call(t, srv, "GET", "/v1/nowhere", "kallpa", ""), 404, "NOT_FOUND")
	refused(t, call(t, srv, "DELETE", "/v1/customers", "kallpa", ""), 405, "METHOD_NOT_ALLOWED")
	refused(t, call(t, srv, "GET", "/v1/customers/not-a-uuid", "kallpa", ""), 400, "VALIDATION_FAILED")
}

func TestTransferCarriesKeyAndPath(t *testing.T) {
	var got *controllerv1.TransferRequest
	b := &backend{transfer: func(ctx context.Context, in *controllerv1.TransferRequest) (*controllerv1.TransferResponse, error) {
		got = in
		return &controllerv1.TransferResponse{Operation: &controllerv1.Operation{OperationId: "op-1", CustomerId: in.GetCustomerId(),
			Type: controllerv1.OperationType_OPERATION_TYPE_TRANSFER, Status: controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED,
			Amount: in.GetAmount(), Details: &controllerv1.Operation_Transfer{Transfer: &controllerv1.TransferDetails{
				SourceAccountId: in.GetSourceAccountId(), DestinationAccountNumber: in.GetDestinationAccountNumber(), MaskedBeneficiaryName: "C*** M***"}}}}, nil
	}}
	srv := serve(t, b, nil)
	// customer_id in the body is overridden by the path.
	body := strings.Replace(transferBody, `{`, `{"customer_id":"`+yakuCustomer+`",`, 1)
	a := call(t, srv, "POST", "/v1/customers/"+kallpaCustomer+"/transfers", "kallpa", body, "Idempotency-Key", "pay-42")
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.raw)
	}
	if got.GetIdempotencyKey() != "pay-42" || got.GetCustomerId() != kallpaCustomer || got.GetAmount().GetAmountMinor() != 1500 {
		t.Errorf("controller got %v", got)
	}
	tr := a.body["transfer"].(map[string]any)
	if tr["status"] != "OPERATION_STATUS_COMPLETED" || tr["beneficiary_name"] != "C*** M***" || tr["transfer_id"] != "op-1" {
		t.Errorf("transfer: %s", a.raw)
	}
	// Another partner's customer is refused before the controller is asked.
	b.transfer = func(context.Context, *controllerv1.TransferRequest) (*controllerv1.TransferResponse, error) {
		t.Error("a foreign transfer reached the controller")
		return nil, nil
	}
	refused(t, call(t, srv, "POST", "/v1/customers/"+yakuCustomer+"/transfers", "kallpa",
		strings.Replace(transferBody, kallpaAccount, yakuAccount, 1), "Idempotency-Key", "pay-43"), 404, "NOT_FOUND")
}

func withInfo(code codes.Code, msg, reason string, meta map[string]string, extra ...protoadapt.MessageV1) error {
	st := status.New(code, msg)
	st, _ = st.WithDetails(append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: "controller.andes.bank", Metadata: meta}}, extra...)...)
	return st.Err()
}

// The controller's refusals reach the partner with their reason, the HTTP status of
// the reason's spec and the facts it names; never the backend's words.
func TestErrorMapping(t *testing.T) {
	challenge := &authv1.StepUpChallenge{ChallengeId: "5a0b7c1e-0000-4000-8000-000000000001", MaskedDestination: "+51 9** *** 321"}
	for _, c := range []struct {
		name   string
		err    error
		code   int
		reason string
		header string // Retry-After wanted
	}{
		{"insufficient funds", withInfo(codes.FailedPrecondition, "acct 1910 has 12.00", "INSUFFICIENT_FUNDS", nil), 422, "INSUFFICIENT_FUNDS", ""},
		{"blocked", withInfo(codes.FailedPrecondition, "x", "ACCOUNT_BLOCKED", map[string]string{"account_id": kallpaAccount, "core_ref": "Z9"}), 422, "ACCOUNT_BLOCKED", ""},
		{"currency", withInfo(codes.FailedPrecondition, "x", "CURRENCY_MISMATCH", nil), 422, "CURRENCY_MISMATCH", ""},
		{"daily limit", withInfo(codes.FailedPrecondition, "x", "DAILY_LIMIT_EXCEEDED", map[string]string{"limit_minor": "500000", "remaining_minor": "0", "currency": "PEN"}), 422, "DAILY_LIMIT_EXCEEDED", ""},
		{"mismatch", withInfo(codes.FailedPrecondition, "x", "IDEMPOTENCY_MISMATCH", nil), 422, "IDEMPOTENCY_MISMATCH", ""},
		{"in progress", withInfo(codes.Aborted, "x", "IDEMPOTENCY_IN_PROGRESS", map[string]string{"retry_after_seconds": "2"}), 409, "IDEMPOTENCY_IN_PROGRESS", "2"},
		{"step-up", withInfo(codes.PermissionDenied, "x", "STEP_UP_REQUIRED", map[string]string{"challenge_id": challenge.ChallengeId}, challenge), 403, "STEP_UP_REQUIRED", ""},
		{"core down", withInfo(codes.Unavailable, "facade: dial tcp 10.0.0.7", "DEPENDENCY_UNAVAILABLE", map[string]string{"retry_after_seconds": "1"}), 503, "DEPENDENCY_UNAVAILABLE", "1"},
		{"not built", status.Error(codes.Unimplemented, "method Transfer not implemented"), 501, "NOT_IMPLEMENTED", ""},
		{"no answer", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), 503, "DEPENDENCY_UNAVAILABLE", "1"},
		{"bug behind", status.Error(codes.Internal, "pq: relation operations does not exist"), 500, "INTERNAL", ""},
		{"unknown reason", withInfo(codes.FailedPrecondition, "x", "SOMETHING_NEW", nil), 500, "INTERNAL", ""},
		{"panic behind", nil, 500, "INTERNAL", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &backend{transfer: func(context.Context, *controllerv1.TransferRequest) (*controllerv1.TransferResponse, error) {
				if c.err == nil {
					panic("boom")
				}
				return nil, c.err
			}}
			a := call(t, serve(t, b, nil), "POST", "/v1/customers/"+kallpaCustomer+"/transfers", "kallpa", transferBody, "Idempotency-Key", "k")
			refused(t, a, c.code, c.reason)
			if got := a.header.Get("Retry-After"); got != c.header {
				t.Errorf("Retry-After %q, want %q", got, c.header)
			}
			for _, leak := range []string{"1910", "10.0.0.7", "relation", "controller.andes.bank", "core_ref", "boom", "not implemented"} {
				if strings.Contains(a.raw, leak) {
					t.Errorf("%q leaked: %s", leak, a.raw)
				}
			}
			switch c.reason {
			case "STEP_UP_REQUIRED":
				if a.body["step_up_challenge"].(map[string]any)["challenge_id"] != challenge.ChallengeId {
					t.Errorf("no challenge: %s", a.raw)
				}
			case "ACCOUNT_BLOCKED":
				if a.body["metadata"].(map[string]any)["account_id"] != kallpaAccount {
					t.Errorf("metadata lost: %s", a.raw)
				}
			}
		})
	}
}

func TestCashNeedsTheCashScope(t *testing.T) {
	var got *controllerv1.CashInRequest
	b := &backend{cashIn: func(_ context.Context, in *controllerv1.CashInRequest) (*controllerv1.CashInResponse, error) {
		got = in
		return &controllerv1.CashInResponse{Operation: &controllerv1.Operation{OperationId: "op-2",
			Type: controllerv1.OperationType_OPERATION_TYPE_CASH_IN, Status: controllerv1.OperationStatus_OPERATION_STATUS_COMPLETED,
			Amount: in.GetAmount(), Details: &controllerv1.Operation_Cash{Cash: &controllerv1.CashDetails{
				AgentPartnerId: in.GetAgentPartnerId(), AccountNumber: in.GetAccountNumber(), AgentReference: in.GetAgentReference()}}}}, nil
	}}
	srv := serve(t, b, nil)
	body := `{"account_number":"19100100000112","amount":{"amount_minor":"2000","currency":"PEN"},"agent_reference":"R-1"}`
	a := call(t, srv, "POST", "/v1/cash-ins", "yaku", body, "Idempotency-Key", "c-1")
	refused(t, a, 403, "INSUFFICIENT_SCOPE")
	if a.body["metadata"].(map[string]any)["scope"] != "cash" || !strings.Contains(a.header.Get("WWW-Authenticate"), `scope="cash"`) {
		t.Errorf("the missing scope is not named: %s %v", a.raw, a.header)
	}
	if got != nil {
		t.Fatal("the controller was asked")
	}
	a = call(t, srv, "POST", "/v1/cash-ins", "kallpa", body, "Idempotency-Key", "c-1")
	if a.code != 200 || got.GetAgentPartnerId() != "kallpa" || got.GetIdempotencyKey() != "c-1" ||
		a.body["cash_in"].(map[string]any)["direction"] != "CASH_DIRECTION_IN" {
		t.Errorf("%d %s; controller got %v", a.code, a.raw, got)
	}
}

func TestRateLimit(t *testing.T) {
	srv := serve(t, &backend{}, limiter{ports.Quota{Allowed: false, Limit: 100, Remaining: 0, RetryAfter: 1500 * time.Millisecond}})
	a := call(t, srv, "GET", "/v1/customers", "kallpa", "")
	refused(t, a, 429, "RATE_LIMITED")
	if a.header.Get("Retry-After") != "2" || a.header.Get("X-RateLimit-Limit") != "100" || a.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("headers %v", a.header)
	}
	srv = serve(t, &backend{}, limiter{ports.Quota{Allowed: true, Limit: 100, Remaining: 41}})
	if a := call(t, srv, "GET", "/v1/customers", "kallpa", ""); a.code != 200 || a.header.Get("X-RateLimit-Remaining") != "41" {
		t.Errorf("%d %v", a.code, a.header)
	}
}

// The partner enums are converted by number; their names must agree value for value.
func TestEnumsMirrorTheInternalOnes(t *testing.T) {
	pairs := []struct{ partner, internal protoreflect.EnumDescriptor }{
		{partnerv1.CustomerStatus(0).Descriptor(), customerv1.CustomerStatus(0).Descriptor()},
		{partnerv1.AccountType(0).Descriptor(), customerv1.AccountType(0).Descriptor()},
		{partnerv1.AccountStatus(0).Descriptor(), customerv1.AccountStatus(0).Descriptor()},
		{partnerv1.MovementKind(0).Descriptor(), customerv1.MovementKind(0).Descriptor()},
		{partnerv1.OperationStatus(0).Descriptor(), controllerv1.OperationStatus(0).Descriptor()},
	}
	for _, p := range pairs {
		if p.partner.Values().Len() != p.internal.Values().Len() {
			t.Errorf("%s and %s differ in size", p.partner.FullName(), p.internal.FullName())
		}
		for i := range p.partner.Values().Len() {
			pv := p.partner.Values().Get(i)
			iv := p.internal.Values().ByNumber(pv.Number())
			if iv == nil || iv.Name() != pv.Name() {
				t.Errorf("%s %s has no twin in %s", p.partner.FullName(), pv.Name(), p.internal.FullName())
			}
		}
	}
}
