package authorizer_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	authorizerv1 "github.com/andes-bank/andes/gen/andes/authorizer/v1"
	eventsv1 "github.com/andes-bank/andes/gen/andes/events/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/rpcstatus"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/server/servertest"
)

// apiClient serves the stack's gRPC port over mutual TLS with the repository's
// policy for the authorizer, and returns a client calling as the migrator.
func (s *stack) apiClient() authorizerv1.AuthorizerServiceClient {
	s.t.Helper()
	p := pkitest.New(s.t, "authorizer", "migrator")
	policy, err := os.ReadFile(filepath.Join("..", "..", "deploy", "policies", "authorizer.json"))
	if err != nil {
		s.t.Fatal(err)
	}
	srv, err := server.New(server.Options{Credentials: p.Credentials(s.t, "authorizer"), Policy: string(policy)})
	if err != nil {
		s.t.Fatal(err)
	}
	authorizerv1.RegisterAuthorizerServiceServer(srv, s.svc.API)
	addr := servertest.Serve(s.t, srv)
	conn, err := grpcclient.New(addr, grpcclient.Options{Credentials: p.Credentials(s.t, "migrator"), Peer: "authorizer"})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	return authorizerv1.NewAuthorizerServiceClient(conn)
}

func reason(err error) (codes.Code, string) {
	r := rpcstatus.Read(err)
	return r.Code, r.Reason
}

func TestCardAdministrationAPI(t *testing.T) {
	s := newStack(t, stackOptions{})
	api := s.apiClient()
	ctx := context.Background()
	customer := "6f1c2f8e-0000-4000-8000-0000000000aa"

	open := &authorizerv1.OpenCardAccountRequest{IdempotencyKey: "open-1", CustomerId: customer, Currency: "PEN"}
	acct, err := api.OpenCardAccount(ctx, open)
	if err != nil {
		t.Fatal(err)
	}
	again, err := api.OpenCardAccount(ctx, open)
	if err != nil || again.GetCardAccount().GetCardAccountId() != acct.GetCardAccount().GetCardAccountId() {
		t.Fatalf("replay: %v %v", again, err)
	}
	open.Currency = "USD"
	if _, err := api.OpenCardAccount(ctx, open); err == nil {
		t.Fatal("same key, other request: accepted")
	} else if code, r := reason(err); code != codes.FailedPrecondition || r != "IDEMPOTENCY_MISMATCH" {
		t.Fatalf("same key, other request: %v %s", code, r)
	}
	acctID := acct.GetCardAccount().GetCardAccountId()

	fund := &authorizerv1.FundCardAccountRequest{IdempotencyKey: "fund-1", CardAccountId: acctID,
		Amount: &moneyv1.Money{AmountMinor: 80_000, Currency: "PEN"}, FundingReference: "core-tx-1"}
	for range 2 {
		f, err := api.FundCardAccount(ctx, fund)
		if err != nil {
			t.Fatal(err)
		}
		if f.GetCardAccount().GetLedgerBalance().GetAmountMinor() != 80_000 || f.GetPostingId() == "" {
			t.Fatalf("fund: %v", f)
		}
	}
	_, err = api.FundCardAccount(ctx, &authorizerv1.FundCardAccountRequest{IdempotencyKey: "fund-2", CardAccountId: acctID,
		Amount: &moneyv1.Money{AmountMinor: 1, Currency: "USD"}, FundingReference: "x"})
	if code, r := reason(err); code != codes.FailedPrecondition || r != "CURRENCY_MISMATCH" {
		t.Fatalf("fund in USD: %v %s", code, r)
	}

	issue := &authorizerv1.IssueCardRequest{IdempotencyKey: "issue-1", CardAccountId: acctID, CardholderName: "MARIA QUISPE"}
	issued, err := api.IssueCard(ctx, issue)
	if err != nil {
		t.Fatal(err)
	}
	card := issued.GetCard()
	if len(issued.GetCvv2()) != 3 || card.GetStatus() != authorizerv1.CardStatus_CARD_STATUS_INACTIVE ||
		card.GetMaskedPan()[:6] != "476134" || card.GetMaskedPan()[6:12] != "******" || card.GetPinSet() {
		t.Fatalf("issued %v", issued)
	}
	replay, err := api.IssueCard(ctx, issue)
	if err != nil || replay.GetCvv2() != "" || replay.GetCard().GetCardId() != card.GetCardId() {
		t.Fatalf("replay shows the CVV2 again or another card: %v %v", replay, err)
	}

	// The PAN never leaves the authorizer; the test reads it the way the vault does.
	ct, _, err := s.svc.Store.CardPAN(ctx, card.GetCardId())
	if err != nil {
		t.Fatal(err)
	}
	pan, err := s.svc.Vault.Decrypt(card.GetCardId(), ct)
	if err != nil {
		t.Fatal(err)
	}
	if pan[:6] != "476134" || pan[12:] != card.GetMaskedPan()[12:] {
		t.Fatalf("PAN %s does not match %s", pan[:6], card.GetMaskedPan())
	}
	setPin := &authorizerv1.SetPinRequest{IdempotencyKey: "pin-1", CardId: card.GetCardId(), EncryptedPinBlock: s.pinBlock(pan, testPIN)}
	pinned, err := api.SetPin(ctx, setPin)
	if err != nil {
		t.Fatal(err)
	}
	if !pinned.GetCard().GetPinSet() || pinned.GetCard().GetStatus() != authorizerv1.CardStatus_CARD_STATUS_ACTIVE {
		t.Fatalf("after SetPin: %v", pinned)
	}
	_, err = api.SetPin(ctx, &authorizerv1.SetPinRequest{IdempotencyKey: "pin-2", CardId: card.GetCardId(), EncryptedPinBlock: []byte("12345678")})
	if code, r := reason(err); code != codes.InvalidArgument || r != "PIN_BLOCK_INVALID" {
		t.Fatalf("bad PIN block: %v %s", code, r)
	}

	// The card now decides through the edge with its PIN.
	c := s.dial()
	k := cardOf(card.GetCardId(), acctID, pan)
	r := s.purchase(k, 30_000)
	r.PINBlock = s.pinBlock(pan, testPIN)
	c.expect(r, "00")

	limits, err := api.SetCardLimits(ctx, &authorizerv1.SetCardLimitsRequest{CardId: card.GetCardId(), Limits: &authorizerv1.CardLimits{
		PerTransaction: &moneyv1.Money{AmountMinor: 10_000, Currency: "PEN"}, DailyAtmCount: 1}})
	if err != nil || limits.GetCard().GetLimits().GetPerTransaction().GetAmountMinor() != 10_000 ||
		limits.GetCard().GetLimits().GetRolling_30Days().GetAmountMinor() != 2_000_000 {
		t.Fatalf("limits: %v %v", limits, err)
	}
	c.expect(s.purchase(k, 10_001), "61")
	if _, err := api.SetCardChannels(ctx, &authorizerv1.SetCardChannelsRequest{CardId: card.GetCardId(),
		Channels: &authorizerv1.CardChannels{PosEnabled: false, EcommerceEnabled: true}}); err != nil {
		t.Fatal(err)
	}
	c.expect(s.purchase(k, 1_000), "57")

	blocked, err := api.BlockCard(ctx, &authorizerv1.BlockCardRequest{CardId: card.GetCardId(), Reason: "travel"})
	if err != nil || blocked.GetCard().GetStatus() != authorizerv1.CardStatus_CARD_STATUS_BLOCKED {
		t.Fatalf("block: %v %v", blocked, err)
	}
	if _, err := api.UnblockCard(ctx, &authorizerv1.UnblockCardRequest{CardId: card.GetCardId()}); err != nil {
		t.Fatal(err)
	}
	lost, err := api.ReportCardLost(ctx, &authorizerv1.ReportCardLostRequest{CardId: card.GetCardId(), Stolen: true})
	if err != nil || lost.GetCard().GetStatus() != authorizerv1.CardStatus_CARD_STATUS_LOST {
		t.Fatalf("lost: %v %v", lost, err)
	}
	_, err = api.UnblockCard(ctx, &authorizerv1.UnblockCardRequest{CardId: card.GetCardId()})
	if code, r := reason(err); code != codes.FailedPrecondition || r != "CARD_STATE_INVALID" {
		t.Fatalf("unblock a lost card: %v %s", code, r)
	}

	bal, err := api.GetCardAccount(ctx, &authorizerv1.GetCardAccountRequest{CardAccountId: acctID})
	if err != nil || bal.GetCardAccount().GetAvailableBalance().GetAmountMinor() != 50_000 || bal.GetCardAccount().GetHeld().GetAmountMinor() != 30_000 {
		t.Fatalf("balance: %v %v", bal, err)
	}
	page1, err := api.ListAuthorizations(ctx, &authorizerv1.ListAuthorizationsRequest{Owner: &authorizerv1.ListAuthorizationsRequest_CardId{CardId: card.GetCardId()}, PageSize: 2})
	if err != nil || len(page1.GetAuthorizations()) != 2 || page1.GetNextPageToken() == "" {
		t.Fatalf("authorizations page 1: %v %v", page1, err)
	}
	page2, err := api.ListAuthorizations(ctx, &authorizerv1.ListAuthorizationsRequest{Owner: &authorizerv1.ListAuthorizationsRequest_CardId{CardId: card.GetCardId()}, PageSize: 2, PageToken: page1.GetNextPageToken()})
	if err != nil || len(page2.GetAuthorizations()) != 1 || page2.GetNextPageToken() != "" {
		t.Fatalf("authorizations page 2: %v %v", page2, err)
	}
	first := page2.GetAuthorizations()[0]
	if first.GetResponseCode() != "00" || first.GetHoldStatus() != authorizerv1.HoldStatus_HOLD_STATUS_PENDING ||
		first.GetHeldAmount().GetAmountMinor() != 30_000 || first.GetMerchant().GetMcc() != "5411" || first.GetTransmittedAt() == nil {
		t.Errorf("oldest authorization %v", first)
	}
	list, err := api.ListCards(ctx, &authorizerv1.ListCardsRequest{Owner: &authorizerv1.ListCardsRequest_CustomerId{CustomerId: customer}})
	if err != nil || len(list.GetCards()) != 1 {
		t.Fatalf("cards: %v %v", list, err)
	}
	_, err = api.GetCard(ctx, &authorizerv1.GetCardRequest{CardId: "6f1c2f8e-0000-4000-8000-0000000000ff"})
	if code, r := reason(err); code != codes.NotFound || r != "NOT_FOUND" {
		t.Fatalf("unknown card: %v %s", code, r)
	}
	_, err = api.GetCard(ctx, &authorizerv1.GetCardRequest{CardId: "not-a-uuid"})
	if code, r := reason(err); code != codes.InvalidArgument || r != "VALIDATION_FAILED" {
		t.Fatalf("bad id: %v %s", code, r)
	}

	// Card events went out with their changes.
	var payloads [][]byte
	rows, err := s.pool.Query(ctx, `SELECT payload FROM outbox WHERE event_type <> 'andes.events.v1.AuthorizationDecided' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p []byte
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, p)
	}
	var types []string
	for _, p := range payloads {
		var env eventsv1.Envelope
		if err := proto.Unmarshal(p, &env); err != nil {
			t.Fatal(err)
		}
		types = append(types, env.GetType())
	}
	want := []string{"andes.events.v1.CardAccountFunded", "andes.events.v1.CardIssued", "andes.events.v1.CardStatusChanged",
		"andes.events.v1.CardStatusChanged", "andes.events.v1.CardStatusChanged"}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("events %v, want %v", types, want)
		}
	}
}

func cardOf(id, accountID, pan string) card { return card{id: id, accountID: accountID, pan: pan} }
