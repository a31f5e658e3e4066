package authorizer_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// TestNetworkDecisionRules sends every DE39 rule through the ISO 8583 edge, with
// PINs and CVV2s verified by the HSM simulator over TCP.
func TestNetworkDecisionRules(t *testing.T) {
	s := newStack(t, stackOptions{})
	c := s.dial()
	ctx := context.Background()

	t.Run("00 with the right PIN and CVV2", func(t *testing.T) {
		k := s.issue(100_000, nil)
		r := s.purchase(k, 25_000)
		r.PINBlock = s.pinBlock(k.pan, testPIN)
		r.PrivateData.CVV2 = k.cvv2
		r.Expiry = k.expiry
		resp := c.expect(r, "00")
		if len(resp.ApprovalCode) != 6 || resp.Amount != 25_000 || resp.PrivateData.NetworkTransactionID != r.PrivateData.NetworkTransactionID {
			t.Errorf("response %+v", resp)
		}
		s.expectAccount(k, 100_000, 25_000)
	})
	t.Run("55 then 75 on the third wrong PIN, 75 after", func(t *testing.T) {
		k := s.issue(100_000, nil)
		for i, want := range []string{"55", "55", "75", "75"} {
			r := s.purchase(k, 1_000)
			pin := "0000"
			if i == 3 {
				pin = testPIN // right, but too late
			}
			r.PINBlock = s.pinBlock(k.pan, pin)
			c.expect(r, want)
		}
		s.expectAccount(k, 100_000, 0)
	})
	t.Run("82 bad CVV2", func(t *testing.T) {
		k := s.issue(100_000, nil)
		r := s.purchase(k, 1_000)
		r.PrivateData.CVV2, r.PrivateData.ECI = fmt.Sprintf("%03d", (atoi(k.cvv2)+1)%1000), "07"
		c.expect(r, "82")
	})
	t.Run("CVV2 checked against the card's expiry when DE14 is absent", func(t *testing.T) {
		k := s.issue(100_000, nil)
		r := s.purchase(k, 1_000)
		r.PrivateData.CVV2, r.PrivateData.ECI = k.cvv2, "07"
		c.expect(r, "00")
	})
	t.Run("54 wrong expiry", func(t *testing.T) {
		k := s.issue(100_000, nil)
		r := s.purchase(k, 1_000)
		r.Expiry = "2501"
		c.expect(r, "54")
	})
	t.Run("14 unknown card", func(t *testing.T) {
		r := s.purchase(card{pan: "4761349999999999"}, 1_000)
		c.expect(r, "14")
	})
	t.Run("10 partial approval with DE54", func(t *testing.T) {
		k := s.issue(10_000, nil)
		r := s.purchase(k, 25_000)
		r.PrivateData.PartialApproval = true
		resp := c.expect(r, "10")
		if resp.Amount != 10_000 || len(resp.AdditionalAmounts) != 1 || resp.AdditionalAmounts[0].Amount != 25_000 ||
			resp.AdditionalAmounts[0].AmountType != iso8583.AmountTypeOriginal {
			t.Errorf("partial approval response: DE4 %d DE54 %+v", resp.Amount, resp.AdditionalAmounts)
		}
		s.expectAccount(k, 10_000, 10_000)
	})
	t.Run("10 in the billing currency, DE4 in proportion", func(t *testing.T) {
		k := s.issue(10_000, nil)
		r := s.purchase(k, 8_000)
		r.Currency, r.BillingAmount, r.BillingCurrency = "840", 30_000, "604"
		r.PrivateData.PartialApproval = true
		resp := c.expect(r, "10")
		if resp.BillingAmount != 10_000 || resp.Amount != 2_666 || len(resp.AdditionalAmounts) != 2 {
			t.Errorf("partial approval response: DE4 %d DE6 %d DE54 %+v", resp.Amount, resp.BillingAmount, resp.AdditionalAmounts)
		}
	})
	t.Run("no partial approval for cash", func(t *testing.T) {
		k := s.issue(10_000, nil)
		r := s.purchase(k, 25_000)
		r.ProcessingCode, r.MCC = "010000", "6011"
		r.PrivateData.PartialApproval = true
		c.expect(r, "51")
	})
	t.Run("62 blocked, 41 lost", func(t *testing.T) {
		k := s.issue(100_000, nil)
		if _, err := s.svc.Cards.Block(ctx, k.id, "test"); err != nil {
			t.Fatal(err)
		}
		c.expect(s.purchase(k, 1_000), "62")
		if _, err := s.svc.Cards.Unblock(ctx, k.id); err != nil {
			t.Fatal(err)
		}
		c.expect(s.purchase(k, 1_000), "00")
		if _, err := s.svc.Cards.ReportLost(ctx, k.id, true); err != nil {
			t.Fatal(err)
		}
		c.expect(s.purchase(k, 1_000), "41")
	})
	t.Run("57 channel and merchant category", func(t *testing.T) {
		k := s.issue(100_000, nil)
		if _, err := s.svc.Cards.SetChannels(ctx, k.id, domain.Channels{POS: true, BlockedMCCs: []string{"7995"}}); err != nil {
			t.Fatal(err)
		}
		online := s.purchase(k, 1_000)
		online.PrivateData.ECI = "07"
		c.expect(online, "57")
		gambling := s.purchase(k, 1_000)
		gambling.MCC = "7995"
		c.expect(gambling, "57")
		abroad := s.purchase(k, 1_000)
		abroad.AcquirerCountry = "840"
		c.expect(abroad, "57")
		atm := s.purchase(k, 1_000)
		atm.ProcessingCode, atm.MCC = "010000", "6011"
		c.expect(atm, "57")
	})
	t.Run("61 per transaction and rolling, 65 ATM count", func(t *testing.T) {
		k := s.issue(1_000_000, &domain.Limits{PerTransaction: 100_000, Rolling30Days: 150_000, DailyATMCount: 1})
		c.expect(s.purchase(k, 100_001), "61")
		c.expect(s.purchase(k, 100_000), "00")
		c.expect(s.purchase(k, 50_001), "61")
		k2 := s.issue(1_000_000, &domain.Limits{PerTransaction: 100_000, Rolling30Days: 150_000, DailyATMCount: 1})
		atm := func() *iso8583.Request {
			r := s.purchase(k2, 1_000)
			r.ProcessingCode, r.MCC, r.POSEntryMode = "010000", "6011", "051"
			r.PINBlock = s.pinBlock(k2.pan, testPIN)
			return r
		}
		c.expect(atm(), "00")
		c.expect(atm(), "65")
	})
	t.Run("96 when the HSM cannot verify", func(t *testing.T) {
		k := s.issue(100_000, nil)
		s.hsm.SetFaults(t, `{"disabled_commands":["DC"]}`)
		defer s.hsm.SetFaults(t, `{"disabled_commands":[]}`)
		r := s.purchase(k, 1_000)
		r.PINBlock = s.pinBlock(k.pan, testPIN)
		c.expect(r, "96")
		s.expectAccount(k, 100_000, 0)
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestNetworkMessageTypes runs each message type through the edge and checks the
// card account after it.
func TestNetworkMessageTypes(t *testing.T) {
	s := newStack(t, stackOptions{})
	c := s.dial()

	t.Run("0800 echo", func(t *testing.T) {
		r := &iso8583.Request{MTI: "0800", TransmissionDateTime: "0310143000", STAN: "900001", NetworkManagementCode: "301"}
		resp := c.expect(r, "00")
		if resp.MTI != "0810" || resp.NetworkManagementCode != "301" {
			t.Errorf("echo response %+v", resp)
		}
	})
	t.Run("0100 then 0101 repeat", func(t *testing.T) {
		k := s.issue(100_000, nil)
		r := s.purchase(k, 30_000)
		first := c.expect(r, "00")
		r.MTI = "0101"
		again := c.expect(r, "00")
		if again.MTI != "0110" || again.ApprovalCode != first.ApprovalCode {
			t.Errorf("repeat answered %+v, first %+v", again, first)
		}
		s.expectAccount(k, 100_000, 30_000)
	})
	t.Run("0120 stand-in approval overdraws, 0121 repeat", func(t *testing.T) {
		k := s.issue(10_000, nil)
		r := s.purchase(k, 25_000)
		r.MTI, r.ResponseCode, r.ApprovalCode = "0120", "00", "SI0001"
		if resp := c.expect(r, "00"); resp.MTI != "0130" {
			t.Errorf("MTI %s", resp.MTI)
		}
		r.MTI = "0121"
		c.expect(r, "00")
		s.expectAccount(k, -15_000, 0)
		if a := s.account(k); a.Receivable != 15_000 {
			t.Errorf("receivable %d, want 15000", a.Receivable)
		}
	})
	t.Run("0120 stand-in decline holds nothing", func(t *testing.T) {
		k := s.issue(10_000, nil)
		r := s.purchase(k, 25_000)
		r.MTI, r.ResponseCode = "0120", "51"
		c.expect(r, "00")
		s.expectAccount(k, 10_000, 0)
	})
	t.Run("0100 pre-authorization, 0120 completion, 0220 financial advice", func(t *testing.T) {
		k := s.issue(100_000, nil)
		pre := s.purchase(k, 60_000)
		pre.POSCondition = "06"
		c.expect(pre, "00")
		completion := s.purchase(k, 45_000)
		completion.MTI, completion.PrivateData = "0120", pre.PrivateData
		c.expect(completion, "00")
		s.expectAccount(k, 100_000, 45_000)
		fin := s.purchase(k, 45_000)
		fin.MTI, fin.ResponseCode, fin.PrivateData = "0220", "00", pre.PrivateData
		if resp := c.expect(fin, "00"); resp.MTI != "0230" {
			t.Errorf("MTI %s", resp.MTI)
		}
		fin.MTI = "0221"
		c.expect(fin, "00")
		s.expectAccount(k, 55_000, 0)
	})
	t.Run("0400 partial reversal twice, 0401, 0420 full", func(t *testing.T) {
		k := s.issue(100_000, nil)
		orig := s.purchase(k, 30_000)
		c.expect(orig, "00")
		for range 2 {
			rev := s.reversal(orig, "0400", 12_000)
			if resp := c.expect(rev, "00"); resp.MTI != "0410" {
				t.Errorf("MTI %s", resp.MTI)
			}
			s.expectAccount(k, 100_000, 12_000)
			rev.MTI = "0401"
			c.expect(rev, "00")
			s.expectAccount(k, 100_000, 12_000)
		}
		full := s.reversal(orig, "0420", 0)
		if resp := c.expect(full, "00"); resp.MTI != "0430" {
			t.Errorf("MTI %s", resp.MTI)
		}
		full.MTI = "0421"
		c.expect(full, "00")
		s.expectAccount(k, 100_000, 0)
	})
	t.Run("reversal matched by DE90 alone", func(t *testing.T) {
		k := s.issue(100_000, nil)
		orig := s.purchase(k, 30_000)
		orig.PrivateData = iso8583.PrivateData{}
		c.expect(orig, "00")
		rev := s.reversal(orig, "0400", 0)
		c.expect(rev, "00")
		s.expectAccount(k, 100_000, 0)
	})
	t.Run("early reversal, late original", func(t *testing.T) {
		k := s.issue(100_000, nil)
		orig := s.purchase(k, 30_000)
		c.expect(s.reversal(orig, "0420", 0), "00")
		c.expect(orig, "00")
		s.expectAccount(k, 100_000, 0)
	})
	// The network stood in because our approval came too late: it reverses our
	// approval (0420, DE39 68, DE90 naming the 0100), then advises its own
	// (0120 carrying the 0100's key fields, DE38 S.....): the card ends with the
	// network's decision, a forced post and no hold, repeats included.
	t.Run("late approval reversed, then the stand-in advice", func(t *testing.T) {
		k := s.issue(100_000, nil)
		orig := s.purchase(k, 6_000)
		c.expect(orig, "00")
		rev := s.reversal(orig, "0420", 0)
		rev.ResponseCode = "68"
		c.expect(rev, "00")
		advice := *orig
		advice.MTI, advice.ResponseCode, advice.ApprovalCode = "0120", "00", "S00001"
		c.expect(&advice, "00")
		s.expectAccount(k, 94_000, 0)
		advice.MTI = "0121"
		c.expect(&advice, "00")
		rev.MTI = "0421"
		c.expect(rev, "00")
		s.expectAccount(k, 94_000, 0)
	})
	// Should the stand-in advice reach us before our late approval was reversed,
	// the network sends no reversal (simulators/cardnet/network): the advice
	// reconciles with our pending approval, one hold of the network's amount.
	t.Run("stand-in advice of our own pending approval", func(t *testing.T) {
		k := s.issue(100_000, nil)
		orig := s.purchase(k, 6_000)
		c.expect(orig, "00")
		advice := *orig
		advice.MTI, advice.ResponseCode, advice.ApprovalCode = "0120", "00", "S00001"
		c.expect(&advice, "00")
		s.expectAccount(k, 100_000, 6_000)
	})
	t.Run("refund credits the card", func(t *testing.T) {
		k := s.issue(0, nil)
		r := s.purchase(k, 12_345)
		r.ProcessingCode = "200000"
		r.PrivateData.PartialApproval = true
		c.expect(r, "00")
		s.expectAccount(k, 12_345, 0)
	})
}

// reversal of orig: a new STAN, DE90 naming orig, DE95 with the final amount.
func (s *stack) reversal(orig *iso8583.Request, mti string, final int64) *iso8583.Request {
	n := s.stan.Add(1)
	r := *orig
	r.MTI, r.STAN, r.RRN, r.PINBlock = mti, fmt.Sprintf("%06d", n), orig.RRN, nil
	r.Original = iso8583.OriginalData{MTI: orig.MTI, STAN: orig.STAN, TransmissionDateTime: orig.TransmissionDateTime, AcquirerID: orig.AcquirerID}
	if final > 0 {
		r.Replacement = iso8583.ReplacementAmounts{Amount: final}
	}
	return &r
}

// TestNetworkBadFrames: a frame that does not unpack gets DE39 30 and the
// connection stays; garbage and oversized frames close that connection only.
func TestNetworkBadFrames(t *testing.T) {
	s := newStack(t, stackOptions{})
	k := s.issue(100_000, nil)
	bystander := s.dial()

	c := s.dial()
	good := s.purchase(k, 1_000)
	msg, err := s.codec.AppendRequest(nil, good)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the frame inside its last field: MTI and STAN are still readable.
	resp := c.await(c.sendRaw(good.STAN, msg[:len(msg)-3]))
	if resp.MTI != "0110" || resp.ResponseCode != "30" || resp.STAN != good.STAN {
		t.Fatalf("format error answer %+v", resp)
	}
	// The same connection still decides.
	c.expect(s.purchase(k, 1_000), "00")

	for name, payload := range map[string][]byte{
		"garbage":  {0x00, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
		"oversize": binary.BigEndian.AppendUint16(nil, 0xFFFF),
	} {
		conn, err := net.Dial("tcp", s.edge)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(payload); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(answerTimeout))
		if n, err := conn.Read(make([]byte, 64)); err != io.EOF {
			t.Errorf("%s: read %d bytes, %v; want the connection closed", name, n, err)
		}
		conn.Close()
	}
	bystander.expect(s.purchase(k, 1_000), "00")
	if st := s.svc.Network.Stats(); st.FormatErrors.Load() != 1 || st.ClosedOnError.Load() != 2 || st.Panics.Load() != 0 {
		t.Errorf("stats: %d format errors, %d closed, %d panics", st.FormatErrors.Load(), st.ClosedOnError.Load(), st.Panics.Load())
	}
}

// TestNetworkPipelining: many requests in flight on several connections, each
// answered, matched by STAN, and the account never overspent.
func TestNetworkPipelining(t *testing.T) {
	s := newStack(t, stackOptions{})
	k := s.issue(50_000, &domain.Limits{PerTransaction: 1_000_000, Rolling30Days: 10_000_000, DailyATMCount: 1})
	conns := []*client{s.dial(), s.dial(), s.dial(), s.dial()}
	var pending []<-chan *iso8583.Response
	for i := range 200 {
		r := s.purchase(k, 1_000)
		if i%4 == 0 {
			r.PINBlock = s.pinBlock(k.pan, testPIN)
		}
		pending = append(pending, conns[i%len(conns)].send(r))
	}
	approved := 0
	for i, ch := range pending {
		resp := conns[i%len(conns)].await(ch)
		switch resp.ResponseCode {
		case "00":
			approved++
		case "51":
		default:
			t.Errorf("DE39 %s", resp.ResponseCode)
		}
	}
	if approved != 50 {
		t.Errorf("%d approved, want 50", approved)
	}
	s.expectAccount(k, 50_000, 50_000)
}

// TestNetworkEBCDIC: a listener set to EBCDIC decides the same way.
func TestNetworkEBCDIC(t *testing.T) {
	s := newStack(t, stackOptions{text: iso8583.EBCDIC})
	k := s.issue(100_000, nil)
	c := s.dial()
	r := s.purchase(k, 1_000)
	r.PINBlock = s.pinBlock(k.pan, testPIN)
	resp := c.expect(r, "00")
	if !strings.HasPrefix(resp.PrivateData.NetworkTransactionID, "58") {
		t.Errorf("DE48 %+v", resp.PrivateData)
	}
}
