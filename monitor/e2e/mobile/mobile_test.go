// Package mobile_test runs the mobile app's journeys against the whole platform,
// started the way `make up` does (package platformtest): a customer logs in with
// the authorization code flow and PKCE through auth's login page as the mobile
// public client, then calls bff-mobile with Connect and gRPC clients — home,
// transfers once per idempotency key, step-up with the code from the SMS
// simulator, refusals, and what another customer's token may not see.
//
// It builds and starts every process, so it takes a while; -short skips it.
package mobile_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	authv1 "github.com/andes-bank/andes/gen/andes/auth/v1"
	controllerv1 "github.com/andes-bank/andes/gen/andes/controller/v1"
	mobilev1 "github.com/andes-bank/andes/gen/andes/mobile/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/monitor/platformtest"
	"github.com/andes-bank/andes/platform/demo"
)

const (
	errorDomain = "bff-mobile.andes.bank"
	pen         = "PEN"
)

func TestMobileJourneys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts every process; skipped under -short")
	}
	if *benchFlag {
		t.Skip("-mobile-bench runs the benchmark only")
	}
	p := platformtest.Up(t)
	a := newApp(t, p)
	maria, jose := p.Demo.Customer("maria"), p.Demo.Customer("jose")
	var mariaToken, joseToken string

	t.Run("log in with code and PKCE as the mobile app", func(t *testing.T) {
		mariaToken = a.login(t, maria.DocumentNumber, maria.Password)
		joseToken = a.login(t, jose.DocumentNumber, jose.Password)
	})
	if mariaToken == "" || joseToken == "" {
		t.FailNow()
	}

	t.Run("home shows the profile, accounts and latest movements", func(t *testing.T) {
		for name, c := range map[string]interface {
			Home(context.Context, *connect.Request[mobilev1.HomeRequest]) (*connect.Response[mobilev1.HomeResponse], error)
		}{"connect json over HTTP/1.1": a.json, "gRPC over h2c": a.grpc} {
			var h *mobilev1.HomeResponse
			platformtest.WaitFor(t, platformtest.StepTimeout, "a complete home screen", func() bool {
				resp, err := c.Home(ctxStep(t), authorized(&mobilev1.HomeRequest{}, mariaToken))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				h = resp.Msg
				return len(h.GetMissingSections()) == 0
			})
			if h.GetGivenName() != "María" || h.GetAsOf() == nil {
				t.Errorf("%s: home %v", name, h)
			}
			byNumber := accounts(t, h, maria)
			for _, acc := range maria.Accounts {
				got := byNumber[acc.Number]
				if got.GetAvailable().GetCurrency() != acc.Currency || !got.GetCanTransact() ||
					got.GetMaskedNumber() != "•••• "+acc.Number[len(acc.Number)-4:] {
					t.Errorf("%s: account %s shown as %v", name, acc.Number, got)
				}
			}
			checkMovements(t, h.GetLatestMovements(), h)
		}
		// The newcomer's call: Connect's JSON the README shows.
		if _, err := a.json.Home(ctxStep(t), authorized(&mobilev1.HomeRequest{}, joseToken)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("no token or a bad token is Unauthenticated", func(t *testing.T) {
		partnerToken := a.token(t, clientCredentials(), p.Demo.Partner("kallpa").ClientID, p.Demo.Partner("kallpa").ClientSecret)
		tampered := mariaToken[:len(mariaToken)-4] + flip(mariaToken[len(mariaToken)-4:])
		for name, tok := range map[string]string{"none": "", "garbage": "not.a.jwt", "tampered signature": tampered,
			"a partner's client-credentials token": partnerToken} {
			_, err := a.json.Home(ctxStep(t), authorized(&mobilev1.HomeRequest{}, tok))
			if r := refusalOf(t, err); r.code != connect.CodeUnauthenticated || r.reason != "INVALID_TOKEN" || r.domain != errorDomain {
				t.Errorf("home with %s token: %v", name, r)
			}
			_, err = a.grpc.Transfer(ctxStep(t), authorized(ownTransfer(t, "k", "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", 100), tok))
			if r := refusalOf(t, err); r.code != connect.CodeUnauthenticated {
				t.Errorf("transfer with %s token: %v", name, r)
			}
		}
	})

	mariaHome := home(t, a, mariaToken)
	mariaAcc := accounts(t, mariaHome, maria)
	savings, checking, usd := mariaAcc[maria.Accounts[0].Number], mariaAcc[maria.Accounts[1].Number], mariaAcc[maria.Accounts[2].Number]
	joseAcc := accounts(t, home(t, a, joseToken), jose)[jose.Accounts[0].Number]

	t.Run("another customer's ids reveal nothing", func(t *testing.T) {
		_, err := a.json.ListMovements(ctxStep(t), authorized(&mobilev1.ListMovementsRequest{AccountId: joseAcc.GetAccountId()}, mariaToken))
		theirs := refusalOf(t, err)
		_, err = a.json.ListMovements(ctxStep(t), authorized(&mobilev1.ListMovementsRequest{AccountId: randomUUID()}, mariaToken))
		nobodys := refusalOf(t, err)
		if theirs.code != connect.CodeNotFound || theirs.reason != "NOT_FOUND" || theirs.String() != nobodys.String() {
			t.Errorf("another's account: %v; an account that does not exist: %v", theirs, nobodys)
		}
		if _, err := a.json.ListMovements(ctxStep(t), authorized(&mobilev1.ListMovementsRequest{AccountId: joseAcc.GetAccountId()}, joseToken)); err != nil {
			t.Errorf("jose's own movements: %v", err)
		}

		_, err = a.grpc.Transfer(ctxStep(t), authorized(ownTransfer(t, newKey("theirs"), joseAcc.GetAccountId(), savings.GetAccountId(), 100), mariaToken))
		if r := refusalOf(t, err); r.code != connect.CodeNotFound || r.reason != "NOT_FOUND" {
			t.Errorf("paying from another's account: %v", r)
		}
		_, err = a.grpc.GetTransfer(ctxStep(t), authorized(&mobilev1.GetTransferRequest{TransferId: randomUUID()}, mariaToken))
		if r := refusalOf(t, err); r.code != connect.CodeNotFound || r.reason != "NOT_FOUND" {
			t.Errorf("a transfer that does not exist: %v", r)
		}
	})

	t.Run("a transfer between own accounts moves once per idempotency key", func(t *testing.T) {
		const amount = 12345
		before := home(t, a, mariaToken)
		req := ownTransfer(t, newKey("own"), savings.GetAccountId(), checking.GetAccountId(), amount)
		first, err := a.binary.Transfer(ctxStep(t), authorized(req, mariaToken))
		if err != nil {
			t.Fatal(refusalOf(t, err))
		}
		tr := first.Msg.GetTransfer()
		if tr.GetTransferId() == "" || tr.GetAmount().GetAmountMinor() != amount || tr.GetCreatedAt() == nil ||
			(tr.GetStatus() != mobilev1.TransferStatus_TRANSFER_STATUS_COMPLETED && tr.GetStatus() != mobilev1.TransferStatus_TRANSFER_STATUS_PENDING) {
			t.Fatalf("transfer %v", tr)
		}
		// The app lost the answer and sends the same request again, over
		// another protocol this time.
		retry, err := a.grpc.Transfer(ctxStep(t), authorized(req, mariaToken))
		if err != nil {
			t.Fatal(refusalOf(t, err))
		}
		if tr.GetStatus() == mobilev1.TransferStatus_TRANSFER_STATUS_COMPLETED && !proto.Equal(first.Msg, retry.Msg) ||
			retry.Msg.GetTransfer().GetTransferId() != tr.GetTransferId() {
			t.Errorf("retry answered %v, first %v", retry.Msg, first.Msg)
		}
		waitCompleted(t, a, mariaToken, tr.GetTransferId())

		platformtest.WaitFor(t, platformtest.StepTimeout, "the balances to show the transfer", func() bool {
			now := accounts(t, home(t, a, mariaToken), maria)
			return available(now, maria.Accounts[0].Number) == available(accounts(t, before, maria), maria.Accounts[0].Number)-amount &&
				available(now, maria.Accounts[1].Number) == available(accounts(t, before, maria), maria.Accounts[1].Number)+amount
		})
		if again, err := a.json.Transfer(ctxStep(t), authorized(req, mariaToken)); err != nil || again.Msg.GetTransfer().GetTransferId() != tr.GetTransferId() {
			t.Errorf("a retry after completion: %v %v", again, err)
		}
		now := accounts(t, home(t, a, mariaToken), maria)
		if got := available(accounts(t, before, maria), maria.Accounts[0].Number) - available(now, maria.Accounts[0].Number); got != amount {
			t.Errorf("the source moved by %d after three sends of one transfer, want %d", got, amount)
		}

		platformtest.WaitFor(t, platformtest.StepTimeout, "the movement in the checking account", func() bool {
			page, err := a.json.ListMovements(ctxStep(t), authorized(&mobilev1.ListMovementsRequest{AccountId: checking.GetAccountId(), PageSize: 5}, mariaToken))
			if err != nil {
				t.Fatal(err)
			}
			return hasMovement(page.Msg.GetMovements(), checking.GetAccountId(), amount)
		})
		if h := home(t, a, mariaToken); !hasMovement(h.GetLatestMovements(), savings.GetAccountId(), -amount) {
			t.Errorf("home's latest movements lack the debit: %v", h.GetLatestMovements())
		}

		other := proto.Clone(req).(*mobilev1.TransferRequest)
		other.Amount.AmountMinor++
		_, err = a.grpc.Transfer(ctxStep(t), authorized(other, mariaToken))
		if r := refusalOf(t, err); r.code != connect.CodeFailedPrecondition || r.reason != "IDEMPOTENCY_MISMATCH" || r.domain != errorDomain {
			t.Errorf("the same key for another amount: %v", r)
		}
		_, err = a.grpc.GetTransfer(ctxStep(t), authorized(&mobilev1.GetTransferRequest{TransferId: tr.GetTransferId()}, joseToken))
		if r := refusalOf(t, err); r.code != connect.CodeNotFound {
			t.Errorf("jose reading maria's transfer: %v", r)
		}
	})

	payJose := func(t *testing.T, amount int64) error {
		t.Helper()
		req := &mobilev1.TransferRequest{IdempotencyKey: newKey("jose"), SourceAccountId: savings.GetAccountId(),
			Destination: &mobilev1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: jose.Accounts[0].Number},
			Amount:      &moneyv1.Money{AmountMinor: amount, Currency: pen}, Description: "e2e a jose"}
		before := a.smsMessages(t, maria.Phone)
		_, err := a.grpc.Transfer(ctxStep(t), authorized(req, mariaToken))
		if connect.CodeOf(err) != connect.CodePermissionDenied || refusalOf(t, err).reason != "STEP_UP_REQUIRED" {
			return err
		}
		ch := refusalOf(t, err).challenge
		req.StepUp = &authv1.StepUpProof{ChallengeId: ch.GetChallengeId(), Code: a.newCode(t, maria.Phone, before)}
		_, err = a.grpc.Transfer(ctxStep(t), authorized(req, mariaToken))
		return err
	}

	t.Run("a first payment to a beneficiary needs the code sent by SMS", func(t *testing.T) {
		const amount = 10000
		joseBefore := available(accounts(t, home(t, a, joseToken), jose), jose.Accounts[0].Number)
		req := &mobilev1.TransferRequest{IdempotencyKey: newKey("stepup"), SourceAccountId: savings.GetAccountId(),
			Destination: &mobilev1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: jose.Accounts[0].Number},
			Amount:      &moneyv1.Money{AmountMinor: amount, Currency: pen}, Description: "e2e primer pago"}
		smsBefore := a.smsMessages(t, maria.Phone)
		_, err := a.binary.Transfer(ctxStep(t), authorized(req, mariaToken))
		r := refusalOf(t, err)
		if r.code != connect.CodePermissionDenied || r.reason != "STEP_UP_REQUIRED" || r.domain != errorDomain || r.challenge == nil {
			t.Fatalf("first payment to jose: %v", r)
		}
		ch := r.challenge
		if ch.GetChallengeId() == "" || ch.GetPurpose() != authv1.StepUpPurpose_STEP_UP_PURPOSE_NEW_BENEFICIARY ||
			ch.GetChannel() != authv1.StepUpChannel_STEP_UP_CHANNEL_SMS || strings.Contains(ch.GetMaskedDestination(), maria.Phone[3:]) {
			t.Errorf("challenge %v", ch)
		}
		code := a.newCode(t, maria.Phone, smsBefore)

		req.StepUp = &authv1.StepUpProof{ChallengeId: ch.GetChallengeId(), Code: wrongCode(code)}
		_, err = a.binary.Transfer(ctxStep(t), authorized(req, mariaToken))
		if r := refusalOf(t, err); r.code != connect.CodePermissionDenied || r.reason != "STEP_UP_CODE_INVALID" {
			t.Errorf("a wrong code: %v", r)
		}

		req.StepUp.Code = code
		resp, err := a.binary.Transfer(ctxStep(t), authorized(req, mariaToken))
		if err != nil {
			t.Fatal(refusalOf(t, err))
		}
		tr := resp.Msg.GetTransfer()
		if tr.GetBeneficiary() == "" || strings.Contains(tr.GetBeneficiary(), jose.FamilyNames) {
			t.Errorf("beneficiary shown as %q", tr.GetBeneficiary())
		}
		again, err := a.binary.Transfer(ctxStep(t), authorized(req, mariaToken))
		if err != nil || again.Msg.GetTransfer().GetTransferId() != tr.GetTransferId() {
			t.Errorf("the same request again: %v %v", again, err)
		}
		waitCompleted(t, a, mariaToken, tr.GetTransferId())
		platformtest.WaitFor(t, platformtest.StepTimeout, "jose's balance", func() bool {
			return available(accounts(t, home(t, a, joseToken), jose), jose.Accounts[0].Number) == joseBefore+amount
		})
		// Known now: the next payment needs no code.
		before := a.smsMessages(t, maria.Phone)
		req2 := proto.Clone(req).(*mobilev1.TransferRequest)
		req2.IdempotencyKey, req2.StepUp = newKey("known"), nil
		if _, err := a.grpc.Transfer(ctxStep(t), authorized(req2, mariaToken)); err != nil {
			t.Errorf("second payment to jose: %v", refusalOf(t, err))
		}
		if after := a.smsMessages(t, maria.Phone); len(after) != len(before) {
			t.Errorf("a code was sent for a known beneficiary")
		}
	})

	t.Run("refusals are clear and stable", func(t *testing.T) {
		now := accounts(t, home(t, a, mariaToken), maria)
		_, err := a.json.Transfer(ctxStep(t), authorized(ownTransfer(t, newKey("funds"), checking.GetAccountId(), savings.GetAccountId(),
			available(now, maria.Accounts[1].Number)+1), mariaToken))
		if r := refusalOf(t, err); r.code != connect.CodeFailedPrecondition || r.reason != "INSUFFICIENT_FUNDS" || r.domain != errorDomain ||
			!strings.Contains(r.message, "balance") {
			t.Errorf("more than the balance: %v", r)
		}
		_, err = a.json.Transfer(ctxStep(t), authorized(ownTransfer(t, newKey("max"), savings.GetAccountId(), checking.GetAccountId(), 1_000_001), mariaToken))
		if r := refusalOf(t, err); r.code != connect.CodeFailedPrecondition || r.reason != "TRANSACTION_LIMIT_EXCEEDED" {
			t.Errorf("above the per-transfer maximum: %v", r)
		}
		_, err = a.json.Transfer(ctxStep(t), authorized(ownTransfer(t, newKey("ccy"), usd.GetAccountId(), savings.GetAccountId(), 100), mariaToken))
		if r := refusalOf(t, err); r.code != connect.CodeFailedPrecondition || r.reason != "CURRENCY_MISMATCH" {
			t.Errorf("USD into a PEN account: %v", r)
		}
		bad := ownTransfer(t, "", savings.GetAccountId(), checking.GetAccountId(), 100)
		_, err = a.json.Transfer(ctxStep(t), authorized(bad, mariaToken))
		if r := refusalOf(t, err); r.code != connect.CodeInvalidArgument || r.reason != "VALIDATION_FAILED" {
			t.Errorf("without an idempotency key: %v", r)
		}

		// Carlos's only account is blocked at the core: he still sees it, and
		// paying from it is refused before any code is sent.
		carlos := p.Demo.Customer("carlos")
		carlosToken := a.login(t, carlos.DocumentNumber, carlos.Password)
		blocked := accounts(t, home(t, a, carlosToken), carlos)[carlos.Accounts[0].Number]
		before := a.smsMessages(t, carlos.Phone)
		_, err = a.json.Transfer(ctxStep(t), authorized(&mobilev1.TransferRequest{IdempotencyKey: newKey("blocked"),
			SourceAccountId: blocked.GetAccountId(),
			Destination:     &mobilev1.TransferRequest_DestinationAccountNumber{DestinationAccountNumber: maria.Accounts[0].Number},
			Amount:          &moneyv1.Money{AmountMinor: 100, Currency: pen}, Description: "e2e bloqueada"}, carlosToken))
		if r := refusalOf(t, err); r.code != connect.CodeFailedPrecondition || r.reason != "ACCOUNT_BLOCKED" || r.domain != errorDomain {
			t.Errorf("from a blocked account: %v", r)
		}
		if after := a.smsMessages(t, carlos.Phone); len(after) != len(before) {
			t.Errorf("a code was sent for a transfer from a blocked account: %d messages, %d before", len(after), len(before))
		}
		if got := available(accounts(t, home(t, a, carlosToken), carlos), carlos.Accounts[0].Number); got != blocked.GetAvailable().GetAmountMinor() {
			t.Errorf("the blocked account's balance moved: %d, was %d", got, blocked.GetAvailable().GetAmountMinor())
		}

		// The daily limit (PEN 20,000.00 of payments to others) needs more money
		// than María has: an agent pays cash in first.
		cashIn(t, p, a, maria.Accounts[0].Number, 900_000)
		cashIn(t, p, a, maria.Accounts[0].Number, 900_000)
		var last error
		for range 3 {
			if last = payJose(t, 1_000_000); last != nil {
				break
			}
		}
		r := refusalOf(t, last)
		if r.code != connect.CodeFailedPrecondition || r.reason != "DAILY_LIMIT_EXCEEDED" || r.domain != errorDomain ||
			r.metadata["limit_minor"] != "2000000" || r.metadata["currency"] != pen {
			t.Errorf("past the daily limit: %v", r)
		}
	})
}

// cashIn credits an account as the demo cash agent would, through the
// controller (what bff-partner does for agents).
func cashIn(t *testing.T, p *platformtest.Platform, a *app, number string, amount int64) {
	t.Helper()
	agent := p.Demo.Agents[0]
	tok := a.token(t, clientCredentials(), agent.ClientID, agent.ClientSecret)
	ctrl := controllerv1.NewControllerServiceClient(p.Dial(t, "controller", "bff-partner"))
	ctx := metadata.AppendToOutgoingContext(ctxStep(t), "authorization", "Bearer "+tok)
	_, err := ctrl.CashIn(ctx, &controllerv1.CashInRequest{IdempotencyKey: newKey("cashin"), AgentPartnerId: agent.Partner,
		AccountNumber: number, Amount: &moneyv1.Money{AmountMinor: amount, Currency: pen}, AgentReference: newKey("ref")})
	if err != nil {
		t.Fatalf("cash-in by %s: %v", agent.ClientID, err)
	}
}

func clientCredentials() url.Values { return url.Values{"grant_type": {"client_credentials"}} }

// home is the whole home screen. On a loaded machine a source may miss its
// deadline and Home answers without its sections, as it should; the journeys
// want the whole screen, so they ask again.
func home(t testing.TB, a *app, token string) *mobilev1.HomeResponse {
	t.Helper()
	var h *mobilev1.HomeResponse
	platformtest.WaitFor(t, platformtest.StepTimeout, "a complete home screen", func() bool {
		resp, err := a.binary.Home(ctxStep(t), authorized(&mobilev1.HomeRequest{}, token))
		if err != nil {
			t.Fatalf("home: %v", err)
		}
		h = resp.Msg
		return len(h.GetMissingSections()) == 0
	})
	return h
}

// accounts matches the home's accounts to the persona's by their last 4 digits.
func accounts(t testing.TB, h *mobilev1.HomeResponse, c *demo.Customer) map[string]*mobilev1.Account {
	t.Helper()
	out := map[string]*mobilev1.Account{}
	for _, acc := range c.Accounts {
		for _, got := range h.GetAccounts() {
			if strings.HasSuffix(got.GetMaskedNumber(), acc.Number[len(acc.Number)-4:]) && got.GetAvailable().GetCurrency() == acc.Currency {
				out[acc.Number] = got
			}
		}
		if out[acc.Number] == nil {
			t.Fatalf("home lacks account %s: %v", acc.Number, h.GetAccounts())
		}
	}
	if len(h.GetAccounts()) != len(c.Accounts) {
		t.Fatalf("home shows %d accounts, %s has %d", len(h.GetAccounts()), c.Key, len(c.Accounts))
	}
	return out
}

func available(byNumber map[string]*mobilev1.Account, number string) int64 {
	return byNumber[number].GetAvailable().GetAmountMinor()
}

func checkMovements(t *testing.T, ms []*mobilev1.Movement, h *mobilev1.HomeResponse) {
	t.Helper()
	ids := map[string]bool{}
	for _, acc := range h.GetAccounts() {
		ids[acc.GetAccountId()] = true
	}
	if len(ms) > 10 {
		t.Errorf("%d latest movements, at most 10", len(ms))
	}
	for i, m := range ms {
		if !ids[m.GetAccountId()] || m.GetMovementId() == "" || m.GetBookedAt() == nil || m.GetAmount().GetCurrency() == "" {
			t.Errorf("movement %v", m)
		}
		if i > 0 && m.GetBookedAt().AsTime().After(ms[i-1].GetBookedAt().AsTime()) {
			t.Errorf("movements not newest first at %d", i)
		}
	}
}

func hasMovement(ms []*mobilev1.Movement, accountID string, amount int64) bool {
	for _, m := range ms {
		if m.GetAccountId() == accountID && m.GetAmount().GetAmountMinor() == amount {
			return true
		}
	}
	return false
}

func waitCompleted(t *testing.T, a *app, token, id string) {
	t.Helper()
	platformtest.WaitFor(t, platformtest.StepTimeout, "transfer "+id+" COMPLETED", func() bool {
		resp, err := a.json.GetTransfer(ctxStep(t), authorized(&mobilev1.GetTransferRequest{TransferId: id}, token))
		if err != nil {
			t.Fatal(refusalOf(t, err))
		}
		if s := resp.Msg.GetTransfer().GetStatus(); s == mobilev1.TransferStatus_TRANSFER_STATUS_FAILED {
			t.Fatalf("transfer failed: %v", resp.Msg)
		}
		return resp.Msg.GetTransfer().GetStatus() == mobilev1.TransferStatus_TRANSFER_STATUS_COMPLETED
	})
}

func ownTransfer(t testing.TB, key, from, to string, amount int64) *mobilev1.TransferRequest {
	return &mobilev1.TransferRequest{IdempotencyKey: key, SourceAccountId: from,
		Destination: &mobilev1.TransferRequest_DestinationAccountId{DestinationAccountId: to},
		Amount:      &moneyv1.Money{AmountMinor: amount, Currency: pen}, Description: "e2e entre mis cuentas"}
}

func newKey(prefix string) string { return prefix + "-" + randomUUID() }

func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func wrongCode(code string) string {
	last := (code[5]-'0'+1)%10 + '0'
	return code[:5] + string(rune(last))
}

// flip changes the characters of s so a signature no longer matches.
func flip(s string) string {
	if strings.HasPrefix(s, "AAAA") {
		return "BBBB"
	}
	return "AAAA"
}
