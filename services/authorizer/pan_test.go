package authorizer_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	authorizerv1 "github.com/andes-bank/andes/gen/andes/authorizer/v1"

	"github.com/andes-bank/andes/services/authorizer"
)

// TestNoPANInTablesOrLogs runs traffic of every kind, bad frames and failures
// included, then looks for each card number in every column of every table of the
// schema (bytea included, as text and as hex) and in everything logged.
func TestNoPANInTablesOrLogs(t *testing.T) {
	s := newStack(t, stackOptions{})
	ctx := context.Background()
	k := s.issue(100_000, nil)
	c := s.dial()

	pans := []string{k.pan, "4761349999999999"}
	r := s.purchase(k, 10_000)
	r.PINBlock = s.pinBlock(k.pan, testPIN)
	r.PrivateData.CVV2 = k.cvv2
	r.Track2 = k.pan + "D" + k.expiry + "1011234567"
	c.expect(r, "00")
	wrong := s.purchase(k, 10_000)
	wrong.PINBlock = s.pinBlock(k.pan, "9999")
	c.expect(wrong, "55")
	c.expect(s.reversal(r, "0400", 2_000), "00")
	adv := s.purchase(k, 5_000)
	adv.MTI, adv.ResponseCode = "0120", "00"
	c.expect(adv, "00")
	c.expect(s.purchase(card{pan: pans[1]}, 1_000), "14")
	badReq := s.purchase(k, 1_000)
	bad, err := s.codec.AppendRequest(nil, badReq)
	if err != nil {
		t.Fatal(err)
	}
	c.await(c.sendRaw(badReq.STAN, bad[:len(bad)-2])) // answered 30, logged
	if _, err := s.svc.Cards.Block(ctx, k.id, "customer called about "+k.pan); err != nil {
		t.Fatal(err)
	}
	// Through the API too, whose idempotency keys store requests and answers.
	api := s.apiClient()
	issued, err := api.IssueCard(ctx, &authorizerv1.IssueCardRequest{IdempotencyKey: "pan-test", CardAccountId: k.accountID, CardholderName: "JOSE PEREZ"})
	if err != nil {
		t.Fatal(err)
	}
	ct, _, err := s.svc.Store.CardPAN(ctx, issued.GetCard().GetCardId())
	if err != nil {
		t.Fatal(err)
	}
	pan2, err := s.svc.Vault.Decrypt(issued.GetCard().GetCardId(), ct)
	if err != nil {
		t.Fatal(err)
	}
	pans = append(pans, pan2)
	if _, err := api.SetPin(ctx, &authorizerv1.SetPinRequest{IdempotencyKey: "pan-test-pin", CardId: issued.GetCard().GetCardId(),
		EncryptedPinBlock: s.pinBlock(pan2, testPIN)}); err != nil {
		t.Fatal(err)
	}
	s.shutdown()

	rows, err := s.pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, authorizer.Schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 7 {
		t.Fatalf("only %d tables found: %v", len(tables), tables)
	}
	for _, table := range tables {
		var dump string
		if err := s.pool.QueryRow(ctx, `SELECT coalesce(string_agg(row_to_json(t)::text, E'\n'), '') FROM `+pgx.Identifier{table}.Sanitize()+` t`).Scan(&dump); err != nil {
			t.Fatal(err)
		}
		for _, pan := range pans {
			if strings.Contains(dump, pan) || strings.Contains(dump, hex.EncodeToString([]byte(pan))) {
				t.Errorf("table %s holds a card number in clear", table)
			}
		}
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "format error") {
		t.Errorf("the bad frame was not logged; the scan would prove nothing:\n%s", logs)
	}
	for _, pan := range pans {
		if strings.Contains(logs, pan) {
			t.Errorf("a card number reached the log:\n%s", logs)
		}
	}
}
