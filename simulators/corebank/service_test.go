package corebank_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/platform/checkdigit"
	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/postgres"
	"github.com/andes-bank/andes/simulators/corebank/domain"
	"github.com/andes-bank/andes/simulators/corebank/faults"
)

func TestOnlyTheFacadeAndTheOperatorMayCall(t *testing.T) {
	h := start(t, faults.Settings{})
	maria := h.demo.Customer("maria").CoreNumber

	h.must(h.facade, "GET", "/customers/"+maria, "", nil, http.StatusOK)
	h.must(h.operator, "GET", "/customers/"+maria, "", nil, http.StatusOK)

	// A valid identity of the mesh that is not the facade.
	a := h.must(h.client("controller"), "GET", "/customers/"+maria, "", nil, http.StatusForbidden)
	if a.code(t) != api.CodeForbidden {
		t.Errorf("controller: %s", a.body)
	}
	// The admin endpoints are the operator's alone.
	if a := h.must(h.facade, "GET", "/admin/audit", "", nil, http.StatusForbidden); a.code(t) != api.CodeForbidden {
		t.Errorf("facade on admin: %s", a.body)
	}
	h.must(h.operator, "GET", "/admin/audit", "", nil, http.StatusOK)
	// The fault knobs are on the admin listener only, never on the edge.
	if a := h.must(h.operator, "GET", "/admin/faults", "", nil, http.StatusNotFound); a.code(t) != api.CodeRouteNotFound {
		t.Errorf("faults on the edge: %s", a.body)
	}

	// No client certificate, or one from another CA: the handshake fails.
	noCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the test is about the server refusing
	if _, err := h.call(noCert, "GET", "/customers/"+maria, "", nil); err == nil {
		t.Error("a client without a certificate was served")
	}
	stranger := pkitest.New(t, "facade")
	other := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: stranger.Credentials(t, "facade").ClientConfig("corebank")}}
	if _, err := h.call(other, "GET", "/customers/"+maria, "", nil); err == nil {
		t.Error("a facade certificate from another CA was served")
	}
}

func TestReadsOfTheDemoBank(t *testing.T) {
	h := start(t, faults.Settings{})
	maria := h.demo.Customer("maria")

	var found api.CustomerList
	h.must(h.facade, "GET", "/customers?document_type=DNI&document_number="+maria.DocumentNumber, "", nil, http.StatusOK).decode(t, &found)
	if len(found.Customers) != 1 || found.Customers[0].CustomerNumber != maria.CoreNumber || found.Customers[0].GivenNames != maria.GivenNames {
		t.Fatalf("search by document: %+v", found)
	}
	var none api.CustomerList
	h.must(h.facade, "GET", "/customers?document_type=DNI&document_number=99999999", "", nil, http.StatusOK).decode(t, &none)
	if len(none.Customers) != 0 {
		t.Fatalf("search for nobody: %+v", none)
	}

	var pos api.Position
	h.must(h.facade, "GET", "/customers/"+maria.CoreNumber+"/position?latest=5", "", nil, http.StatusOK).decode(t, &pos)
	if len(pos.Accounts) != len(maria.Accounts) || len(pos.LatestPostings) != 5 || len(pos.Products.TermDeposits) != 1 {
		t.Fatalf("position: %d accounts, %d postings, %+v", len(pos.Accounts), len(pos.LatestPostings), pos.Products)
	}
	for i, a := range pos.Accounts {
		want := maria.Accounts[i]
		if a.AccountNumber != want.Number || a.Balance.LedgerMinor != want.BalanceMinor || a.Balance.AvailableMinor != want.BalanceMinor ||
			a.Balance.OverdraftLimitMinor != want.OverdraftMinor || !checkdigit.ValidMod97(a.AccountNumber) || len(a.AccountNumber) != 14 {
			t.Errorf("account %d: %+v, want %+v", i, a, want)
		}
	}

	// Postings page newest first, and the pages join up.
	acct := maria.Accounts[0].Number
	var page1, page2 api.PostingPage
	h.must(h.facade, "GET", "/accounts/"+acct+"/postings?page_size=4", "", nil, http.StatusOK).decode(t, &page1)
	if len(page1.Postings) != 4 || page1.NextPageToken == "" {
		t.Fatalf("page 1: %+v", page1)
	}
	h.must(h.facade, "GET", "/accounts/"+acct+"/postings?page_size=4&page_token="+page1.NextPageToken, "", nil, http.StatusOK).decode(t, &page2)
	if len(page2.Postings) == 0 || page2.Postings[0].TransactionID >= page1.Postings[3].TransactionID {
		t.Fatalf("page 2 does not continue page 1: %+v / %+v", page1.Postings[3], page2.Postings)
	}
	if page1.Postings[0].BalanceAfterMinor != maria.Accounts[0].BalanceMinor {
		t.Errorf("latest posting leaves %d, the balance is %d", page1.Postings[0].BalanceAfterMinor, maria.Accounts[0].BalanceMinor)
	}

	// A statement's opening balance plus its postings is its closing balance.
	from := time.Now().AddDate(0, 0, -14).Format(time.DateOnly)
	var st api.Statement
	h.must(h.facade, "GET", "/accounts/"+acct+"/statement?from="+from+"&page_size=500", "", nil, http.StatusOK).decode(t, &st)
	sum := st.OpeningBalanceMinor
	for _, p := range st.Postings {
		sum += p.AmountMinor
	}
	if len(st.Postings) == 0 || sum != st.ClosingBalanceMinor || st.NextPageToken != "" {
		t.Fatalf("statement from %s: opening %d + %d postings = %d, closing %d", from, st.OpeningBalanceMinor, len(st.Postings), sum, st.ClosingBalanceMinor)
	}

	var bank api.Bank
	h.must(h.facade, "GET", "/bank", "", nil, http.StatusOK).decode(t, &bank)
	classes := map[string]int{}
	for _, a := range bank.Accounts {
		classes[a.Class]++
	}
	if classes["settlement"] != 1 || classes["agent"] != len(h.demo.Agents) || classes["equity"] != 2 {
		t.Fatalf("bank accounts by class: %v", classes)
	}

	for _, tt := range []struct {
		path   string
		status int
		code   api.Code
	}{
		{"/customers/CU99999999", 404, api.CodeCustomerNotFound},
		{"/accounts/" + unknownAccount, 404, api.CodeAccountNotFound},
		{"/holds/HD000000000999", 404, api.CodeHoldNotFound},
		{"/holds/nonsense", 404, api.CodeHoldNotFound},
		{"/transactions/TX000099999999", 404, api.CodeTransactionNotFound},
		{"/operations/never-seen", 404, api.CodeOperationNotFound},
		{"/nowhere", 404, api.CodeRouteNotFound},
		{"/accounts/" + acct + "/postings?page_size=0", 400, api.CodeMalformed},
		{"/accounts/" + acct + "/postings?page_token=bogus", 400, api.CodeMalformed},
		{"/accounts/" + acct + "/statement?from=2026-13-01", 400, api.CodeInvalid},
	} {
		if a := h.must(h.facade, "GET", tt.path, "", nil, tt.status); a.code(t) != tt.code {
			t.Errorf("GET %s: %s, want %s", tt.path, a.body, tt.code)
		}
	}
	if a := h.must(h.facade, "DELETE", "/customers/"+maria.CoreNumber, "", nil, http.StatusMethodNotAllowed); a.code(t) != api.CodeMethodNotAllowed {
		t.Errorf("DELETE: %s", a.body)
	}
}

func TestTransferIsIdempotent(t *testing.T) {
	h := start(t, faults.Settings{})
	maria, jose := h.demo.Customer("maria").Accounts[0].Number, h.demo.Customer("jose").Accounts[0].Number
	before := h.account(t, maria).Balance.LedgerMinor
	req := api.TransferRequest{DebitAccount: maria, CreditAccount: jose, AmountMinor: 12_345, Currency: "PEN", Description: "Pago alquiler"}
	key := h.key()

	first := h.must(h.facade, "POST", "/transfers", key, req, http.StatusCreated)
	var tx api.Transaction
	first.decode(t, &tx)
	if tx.Status != "posted" || len(tx.Postings) != 2 || tx.Postings[0].AmountMinor != -12_345 || len(tx.Balances) != 2 ||
		tx.Balances[0].LedgerMinor != before-12_345 {
		t.Fatalf("transfer: %s", first.body)
	}
	again := h.must(h.facade, "POST", "/transfers", key, req, http.StatusCreated)
	if !bytes.Equal(again.body, first.body) || again.header.Get(api.HeaderReplayed) != "true" {
		t.Fatalf("replay differs or is not marked:\n%s\n%s", first.body, again.body)
	}
	if got := h.account(t, maria).Balance.LedgerMinor; got != before-12_345 {
		t.Fatalf("maria has %d after a transfer and its replay, want %d", got, before-12_345)
	}
	other := req
	other.AmountMinor++
	if a := h.must(h.facade, "POST", "/transfers", key, other, http.StatusUnprocessableEntity); a.code(t) != api.CodeKeyMismatch {
		t.Fatalf("mismatch: %s", a.body)
	}
	// Keys are the caller's: the operator's key of the same name is another key.
	h.must(h.operator, "POST", "/transfers", key, other, http.StatusCreated)

	var op api.Operation
	h.must(h.facade, "GET", "/operations/"+key, "", nil, http.StatusOK).decode(t, &op)
	if op.Status != "completed" || op.HTTPStatus != http.StatusCreated || !bytes.Equal(op.Response, first.body) {
		t.Fatalf("operation: %+v", op)
	}
	if a := h.must(h.facade, "POST", "/transfers", "", req, http.StatusBadRequest); a.code(t) != api.CodeMissingKey {
		t.Fatalf("no key: %s", a.body)
	}
	h.audit(t)
}

func TestConcurrentRequestsWithOneKeyPostOnce(t *testing.T) {
	h := start(t, faults.Settings{})
	maria, jose := h.demo.Customer("maria").Accounts[0].Number, h.demo.Customer("jose").Accounts[0].Number
	before := h.account(t, maria).Balance.LedgerMinor
	req := api.TransferRequest{DebitAccount: maria, CreditAccount: jose, AmountMinor: 1_000, Currency: "PEN"}
	key := h.key()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		bodies  = map[string]int{}
		busy    int
		unknown []string
	)
	for range 20 {
		wg.Go(func() {
			a, err := h.call(h.facade, "POST", "/transfers", key, req)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				unknown = append(unknown, err.Error())
			case a.status == http.StatusCreated:
				bodies[string(a.body)]++
			case a.status == http.StatusConflict && a.code(t) == api.CodeInProgress && a.header.Get(api.HeaderRetryAfter) != "":
				busy++
			default:
				unknown = append(unknown, string(a.body))
			}
		})
	}
	wg.Wait()
	if len(unknown) > 0 || len(bodies) != 1 {
		t.Fatalf("answers: %d distinct successes, %d busy, others %v", len(bodies), busy, unknown)
	}
	if n := h.count(t, `SELECT count(*) FROM transactions WHERE kind = 'transfer'`); n != 1 {
		t.Fatalf("%d transfers posted for one key", n)
	}
	if got := h.account(t, maria).Balance.LedgerMinor; got != before-1_000 {
		t.Fatalf("maria has %d, want %d: posted once", got, before-1_000)
	}
	h.audit(t) // every balance equals the sum of its postings
	t.Logf("20 requests with one key: %d answered the posting, %d told in progress", 20-busy, busy)
}

// TestKeyInFlightElsewhereAnswersInProgress holds a key the way a request in
// flight holds it (the platform's Begin: a claim committed before the work) and
// sends the same key through the API: in progress, nothing posted; once the
// holder completes, its answer is replayed.
func TestKeyInFlightElsewhereAnswersInProgress(t *testing.T) {
	h := start(t, faults.Settings{})
	ctx := context.Background()
	maria, jose := h.demo.Customer("maria").Accounts[0].Number, h.demo.Customer("jose").Accounts[0].Number
	before := h.account(t, maria).Balance.LedgerMinor
	req := api.TransferRequest{DebitAccount: maria, CreditAccount: jose, AmountMinor: 2_500, Currency: "PEN"}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	key := h.key()
	keys := idempotency.New(h.pool, idempotency.Options{})
	// The port's fingerprint of a request: method, path and the request's JSON.
	out, err := keys.Begin(ctx, idempotency.Scope{Caller: "facade"}, key,
		idempotency.FingerprintOf(append([]byte("POST "+api.Prefix+"/transfers\n"), body...)))
	if err != nil || out.Lease == nil {
		t.Fatalf("Begin: %+v, %v", out, err)
	}
	a := h.must(h.facade, "POST", "/transfers", key, req, http.StatusConflict)
	if a.code(t) != api.CodeInProgress || a.header.Get(api.HeaderRetryAfter) != "1" {
		t.Fatalf("in flight: %s (Retry-After %q)", a.body, a.header.Get(api.HeaderRetryAfter))
	}
	other := req
	other.AmountMinor++
	if a := h.must(h.facade, "POST", "/transfers", key, other, http.StatusUnprocessableEntity); a.code(t) != api.CodeKeyMismatch {
		t.Fatalf("in flight, other request: %s", a.body)
	}
	if got := h.account(t, maria).Balance.LedgerMinor; got != before {
		t.Fatalf("maria has %d, want %d: nothing posted while the key is held", got, before)
	}
	stored := []byte(`{"held":"elsewhere"}`)
	err = postgres.InTx(ctx, h.pool, func(tx pgx.Tx) error {
		return keys.Complete(ctx, tx, out.Lease, idempotency.Response{Code: http.StatusCreated, Body: stored})
	})
	if err != nil {
		t.Fatal(err)
	}
	replay := h.must(h.facade, "POST", "/transfers", key, req, http.StatusCreated)
	if !bytes.Equal(replay.body, stored) || replay.header.Get(api.HeaderReplayed) != "true" {
		t.Fatalf("after completion: %s", replay.body)
	}
	h.audit(t)
}

func TestTimeoutAfterPostingThenRetryPostsOnce(t *testing.T) {
	h := start(t, faults.Settings{TimeoutAfterPostShare: 1, TimeoutStall: time.Minute})
	maria, jose := h.demo.Customer("maria").Accounts[0].Number, h.demo.Customer("jose").Accounts[0].Number
	before := h.account(t, maria).Balance.LedgerMinor
	req := api.TransferRequest{DebitAccount: maria, CreditAccount: jose, AmountMinor: 5_000, Currency: "PEN"}
	key := h.key()

	impatient := h.client("facade")
	impatient.Timeout = 300 * time.Millisecond
	if a, err := h.call(impatient, "POST", "/transfers", key, req); err == nil {
		t.Fatalf("the answer came through: %d %s", a.status, a.body)
	}
	// The facade's way out of an unknown outcome: ask about the key.
	var op api.Operation
	h.must(h.facade, "GET", "/operations/"+key, "", nil, http.StatusOK).decode(t, &op)
	if op.Status != "completed" || op.HTTPStatus != http.StatusCreated {
		t.Fatalf("operation after the timeout: %+v", op)
	}
	// A retry with the same key replays the posting; nothing is posted twice.
	s := h.svc.Knobs().Current()
	s.TimeoutAfterPostShare = 0
	if err := h.svc.Knobs().Set(s); err != nil {
		t.Fatal(err)
	}
	retry := h.must(h.facade, "POST", "/transfers", key, req, http.StatusCreated)
	if !bytes.Equal(retry.body, op.Response) || retry.header.Get(api.HeaderReplayed) != "true" {
		t.Fatalf("retry: %s, the operation said %s", retry.body, op.Response)
	}
	if got := h.account(t, maria).Balance.LedgerMinor; got != before-5_000 {
		t.Fatalf("maria has %d, want %d: posted once", got, before-5_000)
	}
	h.audit(t)
}

func TestRefusalsCarryTheCoresCodes(t *testing.T) {
	h := start(t, faults.Settings{})
	maria := h.demo.Customer("maria")
	pen, checking, usd := maria.Accounts[0].Number, maria.Accounts[1].Number, maria.Accounts[2].Number
	jose := h.demo.Customer("jose").Accounts[0].Number
	carlos := h.demo.Customer("carlos").Accounts[0].Number // blocked in the demo
	tr := func(from, to string, amount int64, cur string) api.TransferRequest {
		return api.TransferRequest{DebitAccount: from, CreditAccount: to, AmountMinor: amount, Currency: cur}
	}
	tests := []struct {
		name   string
		req    any
		status int
		code   api.Code
	}{
		{"insufficient funds", tr(jose, pen, 340_001, "PEN"), 422, api.CodeInsufficientFunds},
		{"overdraft used", tr(checking, pen, 280_000, "PEN"), 201, ""},
		{"beyond the overdraft", tr(checking, pen, 1, "PEN"), 422, api.CodeInsufficientFunds},
		{"blocked account", tr(carlos, pen, 100, "PEN"), 422, api.CodeAccountBlocked},
		{"to a blocked account", tr(pen, carlos, 100, "PEN"), 422, api.CodeAccountBlocked},
		{"different currencies", tr(usd, pen, 100, "USD"), 422, api.CodeCurrencyMismatch},
		{"amount in another currency", tr(pen, jose, 100, "USD"), 422, api.CodeCurrencyMismatch},
		{"unknown account", tr(pen, unknownAccount, 100, "PEN"), 404, api.CodeAccountNotFound},
		{"bad check digits", tr(pen, "19100200000100", 100, "PEN"), 400, api.CodeInvalid},
		{"same account", tr(pen, pen, 100, "PEN"), 422, api.CodeSameAccount},
		{"zero amount", tr(pen, jose, 0, "PEN"), 400, api.CodeInvalid},
		{"unsupported currency", tr(pen, jose, 100, "EUR"), 400, api.CodeInvalid},
		{"into the settlement account", tr(pen, h.demo.Bank.Settlement.Number, 100, "PEN"), 201, ""},
		{"from an agent's account", tr(h.demo.Agents[0].Account.Number, pen, 100, "PEN"), 422, api.CodeAccountNotAllowed},
		{"unknown field", map[string]any{"debit_account": pen, "amount": 1}, 400, api.CodeMalformed},
		{"not JSON", "just a string", 400, api.CodeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.at(t)
			key := h.key()
			a := h.must(h.facade, "POST", "/transfers", key, tt.req, tt.status)
			if tt.code != "" && a.code(t) != tt.code {
				t.Fatalf("%s, want %s", a.body, tt.code)
			}
			if tt.status == 422 {
				// A refusal is an outcome: the retry gets the same answer.
				again := h.must(h.facade, "POST", "/transfers", key, tt.req, tt.status)
				if !bytes.Equal(again.body, a.body) || again.header.Get(api.HeaderReplayed) != "true" {
					t.Fatalf("refusal not replayed: %s vs %s", a.body, again.body)
				}
			}
		})
	}
	h.audit(t)
}

func TestHoldsOverHTTP(t *testing.T) {
	h := start(t, faults.Settings{})
	acct := h.demo.Customer("jose").Accounts[0].Number // 3,400.00
	settlement := h.demo.Bank.Settlement.Number

	var hold api.Hold
	h.must(h.facade, "POST", "/holds", h.key(), api.HoldRequest{Account: acct, AmountMinor: 300_000, Currency: "PEN", Description: "Reserva hotel"},
		http.StatusCreated).decode(t, &hold)
	if hold.Status != "pending" || !strings.HasPrefix(hold.HoldID, "HD") {
		t.Fatalf("hold: %+v", hold)
	}
	if b := h.account(t, acct).Balance; b.AvailableMinor != 40_000 || b.HeldMinor != 300_000 || b.LedgerMinor != 340_000 {
		t.Fatalf("balance with the hold: %+v", b)
	}
	if a := h.must(h.facade, "POST", "/holds", h.key(), api.HoldRequest{Account: acct, AmountMinor: 40_001, Currency: "PEN"},
		http.StatusUnprocessableEntity); a.code(t) != api.CodeInsufficientFunds {
		t.Fatalf("second hold: %s", a.body)
	}
	var captured api.Hold
	h.must(h.facade, "POST", "/holds/"+hold.HoldID+"/capture", h.key(), api.CaptureRequest{AmountMinor: 250_000, CreditAccount: settlement},
		http.StatusOK).decode(t, &captured)
	if captured.Status != "captured" || captured.CapturedMinor != 250_000 || captured.Transaction == nil || len(captured.Transaction.Postings) != 2 {
		t.Fatalf("capture: %+v", captured)
	}
	if b := h.account(t, acct).Balance; b.AvailableMinor != 90_000 || b.HeldMinor != 0 || b.LedgerMinor != 90_000 {
		t.Fatalf("balance after capturing 2,500.00 of 3,000.00: %+v", b)
	}
	if a := h.must(h.facade, "POST", "/holds/"+hold.HoldID+"/void", h.key(), nil, http.StatusUnprocessableEntity); a.code(t) != api.CodeHoldNotPending {
		t.Fatalf("void after capture: %s", a.body)
	}
	var read api.Hold
	h.must(h.facade, "GET", "/holds/"+hold.HoldID, "", nil, http.StatusOK).decode(t, &read)
	if read.Transaction == nil || read.Transaction.TransactionID != captured.Transaction.TransactionID {
		t.Fatalf("hold read back: %+v", read)
	}

	var second api.Hold
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	h.must(h.facade, "POST", "/holds", h.key(), api.HoldRequest{Account: acct, AmountMinor: 10_000, Currency: "PEN", ExpiresAt: &expires},
		http.StatusCreated).decode(t, &second)
	if !second.ExpiresAt.Equal(expires) {
		t.Fatalf("expiry %v, want %v", second.ExpiresAt, expires)
	}
	var voided api.Hold
	h.must(h.facade, "POST", "/holds/"+second.HoldID+"/void", h.key(), nil, http.StatusOK).decode(t, &voided)
	if voided.Status != "voided" || h.account(t, acct).Balance.AvailableMinor != 90_000 {
		t.Fatalf("void: %+v", voided)
	}

	// A hold that expires gives its money back; a capture after that is refused.
	var third api.Hold
	h.must(h.facade, "POST", "/holds", h.key(), api.HoldRequest{Account: acct, AmountMinor: 20_000, Currency: "PEN"},
		http.StatusCreated).decode(t, &third)
	h.clock.Advance(8 * 24 * time.Hour)
	if a := h.must(h.facade, "POST", "/holds/"+third.HoldID+"/capture", h.key(), api.CaptureRequest{CreditAccount: settlement},
		http.StatusUnprocessableEntity); a.code(t) != api.CodeHoldExpired {
		t.Fatalf("capture after expiry: %s", a.body)
	}
	if n, err := h.svc.Core().ExpireDue(context.Background(), h.svc.Ledger()); err != nil || n != 1 {
		t.Fatalf("expiry: %d %v", n, err)
	}
	var expired api.Hold
	h.must(h.facade, "GET", "/holds/"+third.HoldID, "", nil, http.StatusOK).decode(t, &expired)
	if expired.Status != "expired" || h.account(t, acct).Balance.HeldMinor != 0 {
		t.Fatalf("after expiry: %+v, held %d", expired, h.account(t, acct).Balance.HeldMinor)
	}

	h.audit(t)
}

func TestCashInAndOutAtAnAgent(t *testing.T) {
	h := start(t, faults.Settings{})
	agent := h.demo.Agents[0].Account.Number
	ana := h.demo.Customer("ana").Accounts[0].Number
	agent0, ana0 := h.account(t, agent).Balance.LedgerMinor, h.account(t, ana).Balance.LedgerMinor

	h.must(h.facade, "POST", "/cash-in", h.key(), api.CashRequest{AgentAccount: agent, Account: ana, AmountMinor: 20_000, Currency: "PEN"}, http.StatusCreated)
	h.must(h.facade, "POST", "/cash-out", h.key(), api.CashRequest{AgentAccount: agent, Account: ana, AmountMinor: 5_000, Currency: "PEN"}, http.StatusCreated)
	if a, b := h.account(t, agent).Balance.LedgerMinor, h.account(t, ana).Balance.LedgerMinor; a != agent0-15_000 || b != ana0+15_000 {
		t.Fatalf("agent %d→%d, ana %d→%d", agent0, a, ana0, b)
	}
	if a := h.must(h.facade, "POST", "/cash-out", h.key(), api.CashRequest{AgentAccount: agent, Account: ana, AmountMinor: ana0 + 15_001, Currency: "PEN"},
		http.StatusUnprocessableEntity); a.code(t) != api.CodeInsufficientFunds {
		t.Fatalf("cash-out beyond the balance: %s", a.body)
	}
	jose := h.demo.Customer("jose").Accounts[0].Number
	if a := h.must(h.facade, "POST", "/cash-in", h.key(), api.CashRequest{AgentAccount: jose, Account: ana, AmountMinor: 100, Currency: "PEN"},
		http.StatusUnprocessableEntity); a.code(t) != api.CodeAccountNotAllowed {
		t.Fatalf("cash-in from a customer's account: %s", a.body)
	}
	h.audit(t)
}

func TestCreateCustomerAndOpenAccount(t *testing.T) {
	h := start(t, faults.Settings{})
	req := api.CreateCustomerRequest{DocumentType: "DNI", DocumentNumber: "72345678", GivenNames: "Lucía", FamilyNames: "Paredes Soto",
		BirthDate: "1995-05-05", Email: "lucia@example.pe", Phone: "+51911222333"}
	var cu api.Customer
	h.must(h.facade, "POST", "/customers", h.key(), req, http.StatusCreated).decode(t, &cu)
	if !strings.HasPrefix(cu.CustomerNumber, "CU5") || cu.GivenNames != "Lucía" {
		t.Fatalf("customer: %+v", cu)
	}
	a := h.must(h.facade, "POST", "/customers", h.key(), req, http.StatusConflict)
	var e api.ErrorBody
	a.decode(t, &e)
	if e.Error.Code != api.CodeCustomerExists || e.Error.Details["customer_number"] != cu.CustomerNumber {
		t.Fatalf("second registration: %s", a.body)
	}
	young := req
	young.DocumentNumber, young.BirthDate = "72345679", time.Now().AddDate(-17, 0, 0).Format(time.DateOnly)
	if a := h.must(h.facade, "POST", "/customers", h.key(), young, http.StatusBadRequest); a.code(t) != api.CodeInvalid {
		t.Fatalf("a minor: %s", a.body)
	}

	var acct api.Account
	h.must(h.facade, "POST", "/customers/"+cu.CustomerNumber+"/accounts", h.key(),
		api.OpenAccountRequest{Type: "checking", Currency: "USD", OverdraftLimitMinor: 10_000}, http.StatusCreated).decode(t, &acct)
	if !checkdigit.ValidMod97(acct.AccountNumber) || acct.Balance.OverdraftLimitMinor != 10_000 || acct.CustomerNumber != cu.CustomerNumber {
		t.Fatalf("account: %+v", acct)
	}
	if a := h.must(h.facade, "POST", "/customers/"+cu.CustomerNumber+"/accounts", h.key(),
		api.OpenAccountRequest{Type: "savings", Currency: "PEN", OverdraftLimitMinor: 1}, http.StatusBadRequest); a.code(t) != api.CodeInvalid {
		t.Fatalf("overdraft on savings: %s", a.body)
	}
	if a := h.must(h.facade, "POST", "/customers/CU99999999/accounts", h.key(),
		api.OpenAccountRequest{Type: "savings", Currency: "PEN"}, http.StatusNotFound); a.code(t) != api.CodeCustomerNotFound {
		t.Fatalf("account for nobody: %s", a.body)
	}
	var list api.AccountList
	h.must(h.facade, "GET", "/customers/"+cu.CustomerNumber+"/accounts", "", nil, http.StatusOK).decode(t, &list)
	if len(list.Accounts) != 1 || list.Accounts[0].Balance.AvailableMinor != 0 {
		t.Fatalf("accounts: %+v", list)
	}
}

func TestFeedSeesInjectedMovementsInOrder(t *testing.T) {
	h := start(t, faults.Settings{})
	acct := h.demo.Customer("jose").Accounts[0].Number
	var head api.FeedPage
	h.must(h.facade, "GET", "/feed?after=0&limit=1", "", nil, http.StatusOK).decode(t, &head)
	if head.Head == 0 {
		t.Fatal("the seeded history is not in the feed")
	}

	// A long poll from the head waits for the next movement.
	polled := make(chan api.FeedPage, 1)
	go func() {
		var p api.FeedPage
		a, err := h.call(h.facade, "GET", "/feed?wait=20s&after="+itoa(head.Head), "", nil)
		if err == nil {
			a.decode(t, &p)
		}
		polled <- p
	}()
	moves := []api.MovementRequest{
		{Kind: "salary", Account: acct, AmountMinor: 350_000, Currency: "PEN", Description: "Haberes marzo"},
		{Kind: "interest", Account: acct, AmountMinor: 1_234, Currency: "PEN"},
		{Kind: "fee", Account: acct, AmountMinor: 500, Currency: "PEN", Description: "Mantenimiento"},
	}
	// Only the operator injects.
	h.must(h.facade, "POST", "/admin/movements", h.key(), moves[0], http.StatusForbidden)
	for _, m := range moves {
		h.must(h.operator, "POST", "/admin/movements", h.key(), m, http.StatusCreated)
	}
	first := <-polled
	if len(first.Postings) == 0 || first.Postings[0].Seq != head.Head+1 || first.Postings[0].Kind != "salary" {
		t.Fatalf("long poll answered %+v", first)
	}

	var all []api.Posting
	after := head.Head
	for len(all) < 6 {
		var p api.FeedPage
		h.must(h.facade, "GET", "/feed?wait=10s&after="+itoa(after), "", nil, http.StatusOK).decode(t, &p)
		all = append(all, p.Postings...)
		after = p.NextAfter
	}
	kinds := []string{"salary", "salary", "interest", "interest", "fee", "fee"}
	for i, p := range all {
		if p.Seq != head.Head+int64(i)+1 || p.Kind != kinds[i] {
			t.Fatalf("feed posting %d: seq %d kind %s, want seq %d kind %s", i, p.Seq, p.Kind, head.Head+int64(i)+1, kinds[i])
		}
	}
	// The customer's leg of each: credit, credit, debit, with running balances.
	want := []int64{340_000 + 350_000, 340_000 + 350_000 + 1_234, 340_000 + 350_000 + 1_234 - 500}
	var got []int64
	for _, p := range all {
		if p.AccountNumber == acct {
			got = append(got, p.BalanceAfterMinor)
		}
	}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("customer legs leave %v, want %v", got, want)
	}
	// An empty long poll ends at its wait with nothing.
	var empty api.FeedPage
	h.must(h.facade, "GET", "/feed?wait=100ms&after="+itoa(after), "", nil, http.StatusOK).decode(t, &empty)
	if len(empty.Postings) != 0 || empty.NextAfter != after {
		t.Fatalf("empty poll: %+v", empty)
	}
	h.audit(t)
}

func itoa(n int64) string { return strconvFormat(n) }

// unknownAccount has valid check digits but no account.
var unknownAccount = domain.WithCheckDigits("191002999999")

func TestFaultKnobs(t *testing.T) {
	h := start(t, faults.Settings{})
	maria, jose := h.demo.Customer("maria").Accounts[0].Number, h.demo.Customer("jose").Accounts[0].Number
	req := api.TransferRequest{DebitAccount: maria, CreditAccount: jose, AmountMinor: 100, Currency: "PEN"}

	t.Run("errors", func(t *testing.T) {
		h := h.at(t)
		share := 1.0
		h.faults(t, api.Faults{ErrorShare: &share}, http.StatusOK)
		key := h.key()
		a := h.must(h.facade, "POST", "/transfers", key, req, http.StatusServiceUnavailable)
		if a.code(t) != api.CodeUnavailable {
			t.Fatalf("injected error: %s", a.body)
		}
		share = 0
		h.faults(t, api.Faults{ErrorShare: &share}, http.StatusOK)
		// Nothing happened, so the same key now posts, fresh.
		a = h.must(h.facade, "POST", "/transfers", key, req, http.StatusCreated)
		if a.header.Get(api.HeaderReplayed) != "" {
			t.Fatal("a request refused with 503 left a stored outcome")
		}
	})

	t.Run("latency", func(t *testing.T) {
		h := h.at(t)
		latency := "2s"
		h.faults(t, api.Faults{Latency: &latency}, http.StatusOK)
		impatient := h.client("facade")
		impatient.Timeout = 200 * time.Millisecond
		if _, err := h.call(impatient, "GET", "/accounts/"+maria, "", nil); err == nil {
			t.Fatal("answered before the added latency")
		}
		// The admin endpoint is never slowed.
		resp, err := (&http.Client{Timeout: time.Second}).Get(h.admin)
		if err != nil {
			t.Fatalf("GET /faults while slow: %v", err)
		}
		var f api.Faults
		err = json.NewDecoder(resp.Body).Decode(&f)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || *f.Latency != "2s" {
			t.Fatalf("faults: %d %+v %v", resp.StatusCode, f, err)
		}
		latency = "0s"
		h.faults(t, api.Faults{Latency: &latency}, http.StatusOK)
	})

	t.Run("down", func(t *testing.T) {
		h := h.at(t)
		s := h.svc.Knobs().Current()
		s.Down = true
		if err := h.svc.Knobs().Set(s); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return refused(h.addr) })
		s.Down = false
		if err := h.svc.Knobs().Set(s); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return !refused(h.addr) })
		h.must(h.client("facade"), "GET", "/accounts/"+maria, "", nil, http.StatusOK)

		// Through the admin endpoint, down for a while: it comes back by itself.
		down, downFor := true, "500ms"
		h.faults(t, api.Faults{Down: &down, DownFor: &downFor}, http.StatusOK)
		waitFor(t, func() bool { return refused(h.addr) })
		waitFor(t, func() bool { return !refused(h.addr) })
		h.must(h.client("facade"), "GET", "/accounts/"+maria, "", nil, http.StatusOK)

		// Down for good: the admin endpoint, not on the edge, still brings it back.
		h.faults(t, api.Faults{Down: &down}, http.StatusOK)
		waitFor(t, func() bool { return refused(h.addr) })
		up := false
		var f api.Faults
		h.faults(t, api.Faults{Down: &up}, http.StatusOK).decode(t, &f)
		if *f.Down || *f.DownFor != "0s" {
			t.Fatalf("after coming up: %+v", f)
		}
		waitFor(t, func() bool { return !refused(h.addr) })
		h.must(h.client("facade"), "GET", "/accounts/"+maria, "", nil, http.StatusOK)
	})

	t.Run("bad settings", func(t *testing.T) {
		h := h.at(t)
		share := 1.5
		if a := h.faults(t, api.Faults{ErrorShare: &share}, http.StatusBadRequest); a.code(t) != api.CodeInvalid {
			t.Fatalf("share 1.5: %s", a.body)
		}
	})
	h.audit(t)
}

// refused reports whether a TCP connection to addr is refused.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// waitFor polls cond until it holds; the generous limit only guards against a hang.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition never held")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
