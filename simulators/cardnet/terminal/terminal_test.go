package terminal_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/hsm"
	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
)

var card = terminal.Card{Name: "ana", PAN: "4000001234567899", Expiry: "3012", CVV2: "123", PIN: "4321", Currency: "604"}

func TestCardNeverPrintsItsSecrets(t *testing.T) {
	for _, s := range []string{card.String(), fmt.Sprintf("%v %+v %#v", card, card, card)} {
		if strings.Contains(s, card.PAN) || strings.Contains(s, "4321") {
			t.Fatalf("printed: %s", s)
		}
	}
}

func TestMessages(t *testing.T) {
	keys := hsm.DevKeys()
	acq := terminal.NewAcquirer("400001", keys.ZPK, func() time.Time { return time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC) })
	m := terminal.Merchant{MCC: "5812", TerminalID: "T1", MerchantID: "M1"}

	req, err := acq.Authorization(card, terminal.Sale{Amount: 9_000, Merchant: m, Entry: terminal.ChipPIN, PartialOK: true})
	if err != nil {
		t.Fatal(err)
	}
	var block paycrypto.PINBlock
	copy(block[:], req.PINBlock)
	pin, err := paycrypto.DecryptPINBlock(keys.ZPK, block, card.PAN)
	if err != nil || string(pin) != card.PIN {
		t.Fatalf("PIN block does not carry the PIN under the ZPK: %v", err)
	}
	if req.POSEntryMode != "051" || req.ProcessingCode != "000000" || !req.PrivateData.PartialApproval || len(req.PrivateData.NetworkTransactionID) != 15 || len(req.RRN) != 12 {
		t.Fatalf("0100: %+v", req)
	}

	web, _ := acq.Authorization(card, terminal.Sale{Amount: 1, Merchant: m, Entry: terminal.ECommerce})
	if web.PrivateData.CVV2 != "123" || web.PrivateData.ECI != "05" || web.PINBlock != nil {
		t.Fatalf("e-commerce: %+v", web.PrivateData)
	}

	// The network stamps a message as it leaves; DE90 needs those fields.
	req.STAN, req.TransmissionDateTime = "000042", "0315120000"
	rev, err := acq.Reversal(req, "ABC123", 4_000, terminal.ReasonCustomerCancellation)
	if err != nil {
		t.Fatal(err)
	}
	if rev.MTI != "0420" || rev.Replacement.Amount != 4_000 || rev.Original.STAN != "000042" || rev.Original.MTI != "0100" ||
		rev.PINBlock != nil || rev.ResponseCode != "17" || rev.PrivateData.NetworkTransactionID != req.PrivateData.NetworkTransactionID {
		t.Fatalf("reversal: %+v", rev)
	}
	if _, err := acq.Reversal(req, "ABC123", 9_001, "17"); err == nil {
		t.Fatal("a reversal to more than the original was built")
	}
	// Every message the acquirer builds packs in both encodings.
	for _, enc := range []iso8583.TextEncoding{iso8583.ASCII, iso8583.EBCDIC} {
		codec := iso8583.NewCodec(enc)
		inc, _ := acq.Incremental(card, req, 500)
		inc.STAN, inc.TransmissionDateTime = "000043", "0315120001"
		done, _ := acq.Completion("0220", req, "ABC123", 8_000)
		done.STAN, done.TransmissionDateTime = "000044", "0315120002"
		for _, msg := range []*iso8583.Request{req, web, rev, inc, done} {
			if msg.STAN == "" {
				msg.STAN, msg.TransmissionDateTime = "000045", "0315120003"
			}
			if _, err := codec.AppendRequest(nil, msg); err != nil {
				t.Fatalf("%s %s: %v", enc, msg.MTI, err)
			}
		}
	}
	if _, err := acq.Completion("0100", req, "", 1); err == nil {
		t.Fatal("a completion as 0100 was built")
	}
}

func TestParseCards(t *testing.T) {
	cards, err := terminal.ParseCards([]byte(`[{"name":"a","pan":"4000001234567899","expiry":"3012","cvv2":"123","pin":"1234","currency":"604"}]`))
	if err != nil || len(cards) != 1 {
		t.Fatal(cards, err)
	}
	if _, err := terminal.ParseCards([]byte(`[{"pan":"4000001234567899","expiry":"3012","currency":"PEN"}]`)); err == nil {
		t.Fatal("alphabetic currency accepted")
	}
	_, err = terminal.ParseCards([]byte(`{"pan":"4000001234567899"`))
	if err == nil || strings.Contains(err.Error(), "4000001234567899") {
		t.Fatalf("bad JSON: %v", err)
	}
}
