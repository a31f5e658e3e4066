package iso8583

import (
	"bytes"
	"testing"

	moov "github.com/moov-io/iso8583"
)

// purchase is a converted purchase: PEN card account, USD merchant.
func purchase() Request {
	return Request{
		MTI:                  "0100",
		PAN:                  "4111111111111111",
		ProcessingCode:       "003000",
		Amount:               2500,
		BillingAmount:        9375,
		TransmissionDateTime: "1231235959",
		STAN:                 "000042",
		LocalTime:            "185959",
		LocalDate:            "1231",
		Expiry:               "2901",
		MCC:                  "5411",
		AcquirerCountry:      "840",
		POSEntryMode:         "071",
		CardSequenceNumber:   "001",
		POSCondition:         "00",
		AcquirerID:           "400001",
		ForwarderID:          "400002",
		Track2:               "4111111111111111D29011010000012300000",
		RRN:                  "336523000042",
		TerminalID:           "T0000042",
		MerchantID:           "M00000000000042",
		MerchantNameLocation: "SUPERMERCADO ÑUÑOA       SANTIAGO     CL",
		PrivateData:          PrivateData{NetworkTransactionID: "381234567890123", PartialApproval: true},
		Currency:             "840",
		BillingCurrency:      "604",
		ICC:                  []byte{0x9F, 0x26, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x5A, 0x08, 0x41, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11},
	}
}

func TestRoundTripEveryMTI(t *testing.T) {
	original := OriginalData{MTI: "0100", STAN: "000042", TransmissionDateTime: "1231235959", AcquirerID: "00000400001", ForwarderID: "00000400002"}
	with := func(mti string, edit func(*Request)) Request {
		r := purchase()
		r.MTI = mti
		if edit != nil {
			edit(&r)
		}
		return r
	}
	advice := func(r *Request) { r.ApprovalCode, r.ResponseCode, r.PINBlock, r.Track2 = "ST1234", "00", nil, "" }
	reversal := func(r *Request) {
		r.Original = original
		r.ApprovalCode = "A1B2C3"
		r.Track2, r.ICC = "", nil
	}
	partialReversal := func(r *Request) {
		reversal(r)
		r.Replacement = ReplacementAmounts{Amount: 1000, SettlementAmount: 1000, BillingAmount: 3750}
	}
	tests := []struct {
		name     string
		req      Request
		response string
	}{
		{"authorization", with("0100", func(r *Request) { r.PINBlock = []byte{1, 2, 3, 4, 5, 6, 7, 8} }), "0110"},
		{"authorization repeat", with("0101", nil), "0110"},
		{"refund", with("0100", func(r *Request) { r.ProcessingCode = "200030" }), "0110"},
		{"balance inquiry, zero amount", with("0100", func(r *Request) { r.ProcessingCode, r.Amount, r.BillingAmount = "300000", 0, 0 }), "0110"},
		{"stand-in advice", with("0120", advice), "0130"},
		{"advice repeat", with("0121", advice), "0130"},
		{"completion", with("0220", func(r *Request) { advice(r); r.Original = original }), "0230"},
		{"completion repeat", with("0221", func(r *Request) { advice(r); r.Original = original }), "0230"},
		{"reversal", with("0400", reversal), "0410"},
		{"reversal repeat", with("0401", reversal), "0410"},
		{"partial reversal advice", with("0420", partialReversal), "0430"},
		{"reversal advice repeat", with("0421", partialReversal), "0430"},
		{"sign-on", Request{MTI: "0800", TransmissionDateTime: "1231235959", STAN: "000001", NetworkManagementCode: "001"}, "0810"},
		{"echo", Request{MTI: "0800", TransmissionDateTime: "1231235959", STAN: "000002", AcquirerID: "400001", NetworkManagementCode: "301"}, "0810"},
	}
	for _, text := range []TextEncoding{ASCII, EBCDIC} {
		c := NewCodec(text)
		for _, tt := range tests {
			t.Run(text.String()+"/"+tt.name, func(t *testing.T) {
				frame, err := c.AppendRequest(nil, &tt.req)
				if err != nil {
					t.Fatalf("AppendRequest: %v", err)
				}
				var got Request
				if err := c.UnpackRequest(frame, &got); err != nil {
					t.Fatalf("UnpackRequest: %v", err)
				}
				assertRequest(t, &got, &tt.req)
				if tt.req.Currency != "" && !got.Has(4) {
					t.Error("DE4 left out although Currency is set")
				}
				if tt.req.Original.MTI != "" && frame[2]&0x80 == 0 {
					t.Error("DE90 sent without a secondary bitmap")
				}

				// moov reads what we write, and writes it back the same.
				m := moov.NewMessage(c.Spec())
				if err := m.Unpack(frame); err != nil {
					t.Fatalf("moov Unpack: %v", err)
				}
				if repacked, err := m.Pack(); err != nil || !bytes.Equal(repacked, frame) {
					t.Errorf("moov Pack = %X, %v\nwant %X", repacked, err, frame)
				}

				out, err := c.AppendResponse(nil, &got, Answer{ResponseCode: ResponseApproved, ApprovalCode: "OK0001"})
				if err != nil {
					t.Fatalf("AppendResponse: %v", err)
				}
				var resp Response
				if err := c.UnpackResponse(out, &resp); err != nil {
					t.Fatalf("UnpackResponse: %v", err)
				}
				if resp.MTI != tt.response || resp.ResponseCode != "00" || resp.STAN != tt.req.STAN ||
					resp.TransmissionDateTime != tt.req.TransmissionDateTime || resp.AcquirerID != tt.req.AcquirerID ||
					resp.NetworkManagementCode != tt.req.NetworkManagementCode {
					t.Errorf("response %+v", resp)
				}
				if tt.req.MTI[1] != '8' {
					if resp.PAN != tt.req.PAN || resp.Amount != tt.req.Amount || resp.BillingAmount != tt.req.BillingAmount ||
						resp.RRN != tt.req.RRN || resp.TerminalID != tt.req.TerminalID || resp.ApprovalCode != "OK0001" ||
						resp.Original != tt.req.Original || resp.PrivateData.NetworkTransactionID != tt.req.PrivateData.NetworkTransactionID {
						t.Errorf("response does not echo the request: %+v", resp)
					}
					if tt.req.Currency != "" && !resp.Has(4) {
						t.Error("response lost DE4")
					}
				}
				for _, id := range []int{14, 22, 35, 43, 52, 55} {
					if resp.Has(id) {
						t.Errorf("response carries DE%d, which must not be echoed", id)
					}
				}
				if resp.PrivateData.PartialApproval || resp.PrivateData.CVV2 != "" {
					t.Errorf("response DE48 echoes more than the transaction id: %+v", resp.PrivateData)
				}
				if tt.req.Replacement != (ReplacementAmounts{}) && !resp.Has(95) {
					t.Error("DE95 not echoed")
				}
			})
		}
	}
}

func TestPartialApprovalWithBillingAmount(t *testing.T) {
	c := NewCodec(EBCDIC)
	req := purchase()
	frame, err := c.AppendRequest(nil, &req)
	if err != nil {
		t.Fatal(err)
	}
	var got Request
	if err := c.UnpackRequest(frame, &got); err != nil {
		t.Fatal(err)
	}
	out, err := c.AppendResponse(nil, &got, Answer{ResponseCode: ResponsePartialApproval, ApprovalCode: "PA0001", ApprovedAmount: 2000, ApprovedBillingAmount: 7500})
	if err != nil {
		t.Fatal(err)
	}
	var resp Response
	if err := c.UnpackResponse(out, &resp); err != nil {
		t.Fatal(err)
	}
	want := []AdditionalAmount{
		{AccountType: "30", AmountType: AmountTypeOriginal, Currency: "840", Sign: 'D', Amount: 2500},
		{AccountType: "30", AmountType: AmountTypeOriginal, Currency: "604", Sign: 'D', Amount: 9375},
	}
	if resp.Amount != 2000 || resp.BillingAmount != 7500 || resp.ResponseCode != "10" || len(resp.AdditionalAmounts) != 2 ||
		resp.AdditionalAmounts[0] != want[0] || resp.AdditionalAmounts[1] != want[1] {
		t.Errorf("partial approval response %+v", resp)
	}

	for _, bad := range []Answer{
		{ResponseCode: "10", ApprovedAmount: 0, ApprovedBillingAmount: 7500},
		{ResponseCode: "10", ApprovedAmount: 2600, ApprovedBillingAmount: 7500},
		{ResponseCode: "10", ApprovedAmount: 2000},
		{ResponseCode: "0"},
		{ResponseCode: "00", ApprovalCode: "TOOLONG"},
	} {
		if _, err := c.AppendResponse(nil, &got, bad); err == nil {
			t.Errorf("AppendResponse accepted %+v", bad)
		}
	}
}

func TestAppendResponseRefusesResponsesAndBuiltRequests(t *testing.T) {
	c := NewCodec(ASCII)
	req := purchase()
	if _, err := c.AppendResponse(nil, &req, Answer{ResponseCode: "00"}); err == nil {
		t.Error("answered a request that was never unpacked")
	}
	req.MTI = "0110"
	frame, _ := c.AppendRequest(nil, &req)
	var got Request
	if err := c.UnpackRequest(frame, &got); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendResponse(nil, &got, Answer{ResponseCode: "00"}); err == nil {
		t.Error("answered a response")
	}
}

func TestResponseMTI(t *testing.T) {
	for in, want := range map[string]string{
		"0100": "0110", "0101": "0110", "0120": "0130", "0121": "0130", "0200": "0210", "0220": "0230",
		"0221": "0230", "0400": "0410", "0401": "0410", "0420": "0430", "0421": "0430", "0800": "0810",
		"0820": "0830", "0102": "0112", "0103": "0112",
	} {
		if got, err := ResponseMTI(in); err != nil || got != want {
			t.Errorf("ResponseMTI(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"0110", "0130", "0840", "010", "01A0", ""} {
		if got, err := ResponseMTI(in); err == nil {
			t.Errorf("ResponseMTI(%q) = %s, want an error", in, got)
		}
	}
}

func TestSubfields(t *testing.T) {
	p, err := ParsePrivateData("0102AB9903XYZ020100303123")
	if err != nil || p != (PrivateData{NetworkTransactionID: "AB", CVV2: "123"}) {
		t.Errorf("ParsePrivateData with an unknown tag = %+v, %v", p, err)
	}
	for _, bad := range []string{"01", "01X5ABCDE", "0105ABC", "0201x", "0302AB", "0401A"} {
		if _, err := ParsePrivateData(bad); err == nil {
			t.Errorf("ParsePrivateData(%q) accepted", bad)
		}
	}
	// Lengths count characters, not bytes.
	if p, err := ParsePrivateData("0103ÑÑÑ02011"); err != nil || p.NetworkTransactionID != "ÑÑÑ" || !p.PartialApproval {
		t.Errorf("DE48 with non-ASCII text = %+v, %v", p, err)
	}

	if _, err := ParseAdditionalAmounts("0057604D00000001234"); err == nil {
		t.Error("ParseAdditionalAmounts accepted 19 characters")
	}
	if _, err := ParseAdditionalAmounts("0057604X000000012345"); err == nil {
		t.Error("ParseAdditionalAmounts accepted sign X")
	}
	if _, err := ParseOriginalData("0100"); err == nil {
		t.Error("ParseOriginalData accepted 4 digits")
	}
	r, err := ParseReplacementAmounts("000000001000000000001000000000003750")
	if err != nil || r != (ReplacementAmounts{Amount: 1000, SettlementAmount: 1000, BillingAmount: 3750}) {
		t.Errorf("DE95 without its trimmed filler = %+v, %v", r, err)
	}
}
