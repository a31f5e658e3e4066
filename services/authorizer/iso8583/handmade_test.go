package iso8583

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	moov "github.com/moov-io/iso8583"
)

// The frames in this file are written byte by byte from the ISO87BPackager
// field table, not produced by this package, so the codec is checked against
// the layout rather than against itself.

// unhex joins hex pieces, ignoring spaces, and fails the test on bad hex.
func unhex(t testing.TB, pieces ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(pieces, ""), " ", ""))
	if err != nil {
		t.Fatalf("test frame: %v", err)
	}
	return b
}

// handmade0100EBCDIC is an authorization with a 19-digit PAN, text in IBM-1047.
func handmade0100EBCDIC(t testing.TB) []byte {
	return unhex(t,
		"0100",                    // MTI, BCD
		"7224040128E19000",        // bitmap: 2 3 4 7 11 14 22 32 35 37 41 42 43 48 49 52
		"19 41111111111111111110", // DE2 LLNUM: 19 digits, a 0 nibble pads on the right
		"000000",                  // DE3 processing code: purchase
		"000000012345",            // DE4 123.45
		"0612153045",              // DE7 06-12 15:30:45
		"123456",                  // DE11 STAN
		"2812",                    // DE14 expiry 2028-12
		"0051",                    // DE22 n3, a 0 nibble pads on the left
		"11 123456789010",         // DE32 LLNUM: 11 digits
		"37 4111111111111111111D281210112345678900", // DE35 track 2: 37 nibbles, separator D, pad 0
		"F1F2F3F4F5F6F7F8F9F0F1F2",                  // DE37 "123456789012"
		"E3C5D9D4F0F0F0F1",                          // DE41 "TERM0001"
		"D4C5D9C3C8C1D5E3F0F0F0F0F0F0F1",            // DE42 "MERCHANT0000001"
		// DE43 "PANADERÍA LA ESQUINA     LIMA         PE" (Í is 0x75 in IBM-1047)
		"D7C1D5C1C4C5D975C140D3C140C5E2D8E4C9D5C1 4040404040 D3C9D4C1404040404040404040 D7C5",
		// DE48 LLL 037: 01/15 581234567890123, 02/01 1, 03/03 737, 04/02 07
		"0037 F0F1F1F5F5F8F1F2F3F4F5F6F7F8F9F0F1F2F3 F0F2F0F1F1 F0F3F0F3F7F3F7 F0F4F0F2F0F7",
		"F6F0F4",           // DE49 "604"
		"1A2B3C4D5E6F7081", // DE52 PIN block, binary
	)
}

// handmade0100ASCII is the same authorization with a 15-digit PAN, odd
// DE32 and track 2 lengths, text in ASCII (ISO 8859-1).
func handmade0100ASCII(t testing.TB) []byte {
	return unhex(t,
		"0100",
		"7224040128E19000",
		"15 3714496353984310", // DE2: 15 digits
		"000000",
		"000000012345",
		"0612153045",
		"123456",
		"2812",
		"0051",
		"07 12345670",                     // DE32: 7 digits
		"27 371449635398431D281210112340", // DE35: 27 nibbles
		"313233343536373839303132",        // DE37
		"414D455830303032",                // DE41 "AMEX0002"
		"4D45524348414E5430303030303031",  // DE42
		"50414E41444552CD41204C412045535155494E41 2020202020 4C494D41202020202020202020 5045", // DE43, Í is 0xCD
		"0037 30313135353831323334353637383930313233 3032303131 30333033373337 303430323037",
		"363034",
		"1A2B3C4D5E6F7081",
	)
}

func handmadeRequest(pan, acquirer, track2, terminal string) Request {
	return Request{
		MTI:                  "0100",
		PAN:                  pan,
		ProcessingCode:       "000000",
		Amount:               12345,
		TransmissionDateTime: "0612153045",
		STAN:                 "123456",
		Expiry:               "2812",
		POSEntryMode:         "051",
		AcquirerID:           acquirer,
		Track2:               track2,
		RRN:                  "123456789012",
		TerminalID:           terminal,
		MerchantID:           "MERCHANT0000001",
		MerchantNameLocation: "PANADERÍA LA ESQUINA     LIMA         PE",
		PrivateData:          PrivateData{NetworkTransactionID: "581234567890123", PartialApproval: true, CVV2: "737", ECI: "07"},
		Currency:             "604",
		PINBlock:             []byte{0x1A, 0x2B, 0x3C, 0x4D, 0x5E, 0x6F, 0x70, 0x81},
	}
}

func TestUnpackHandmade0100(t *testing.T) {
	tests := []struct {
		name  string
		text  TextEncoding
		frame func(testing.TB) []byte
		want  Request
	}{
		{"EBCDIC, 19-digit PAN", EBCDIC, handmade0100EBCDIC,
			handmadeRequest("4111111111111111111", "12345678901", "4111111111111111111D28121011234567890", "TERM0001")},
		{"ASCII, 15-digit PAN", ASCII, handmade0100ASCII,
			handmadeRequest("371449635398431", "1234567", "371449635398431D28121011234", "AMEX0002")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCodec(tt.text)
			frame := tt.frame(t)
			var got Request
			if err := c.UnpackRequest(frame, &got); err != nil {
				t.Fatalf("UnpackRequest: %v", err)
			}
			assertRequest(t, &got, &tt.want)
			for _, id := range []int{2, 3, 4, 7, 11, 14, 22, 32, 35, 37, 41, 42, 43, 48, 49, 52} {
				if !got.Has(id) {
					t.Errorf("Has(%d) = false", id)
				}
			}
			if got.Has(6) || got.Has(12) {
				t.Error("Has reports fields the frame does not carry")
			}

			// moov, with the spec of the same layout, reads the same values.
			m := moov.NewMessage(c.Spec())
			if err := m.Unpack(frame); err != nil {
				t.Fatalf("moov Unpack: %v", err)
			}
			for id, want := range map[int]string{
				0: "0100", 2: tt.want.PAN, 22: "051", 32: tt.want.AcquirerID, 35: tt.want.Track2,
				41: tt.want.TerminalID, 43: "PANADER\xcdA LA ESQUINA     LIMA         PE",
				48: "0115581234567890123020110303737040207", 49: "604",
			} {
				if s, _ := m.GetString(id); s != want {
					t.Errorf("moov field %d = %q, want %q", id, s, want)
				}
			}
			if s, _ := m.GetString(4); s != "12345" {
				t.Errorf("moov field 4 = %q", s)
			}
			if b, _ := m.GetBytes(52); !bytes.Equal(b, tt.want.PINBlock) {
				t.Errorf("moov field 52 = %X", b)
			}

			// And both write the hand-made bytes back.
			packed, err := c.AppendRequest(nil, &tt.want)
			if err != nil {
				t.Fatalf("AppendRequest: %v", err)
			}
			if !bytes.Equal(packed, frame) {
				t.Errorf("AppendRequest:\n got %X\nwant %X", packed, frame)
			}
			repacked, err := m.Pack()
			if err != nil {
				t.Fatalf("moov Pack: %v", err)
			}
			if !bytes.Equal(repacked, frame) {
				t.Errorf("moov Pack:\n got %X\nwant %X", repacked, frame)
			}
		})
	}
}

// assertRequest compares the exported fields of two requests, treating nil
// and empty slices alike.
func assertRequest(t *testing.T, got, want *Request) {
	t.Helper()
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range g.NumField() {
		f := g.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		gv, wv := g.Field(i), w.Field(i)
		if gv.Kind() == reflect.Slice && gv.Len() == 0 && wv.Len() == 0 {
			continue
		}
		if !reflect.DeepEqual(gv.Interface(), wv.Interface()) {
			t.Errorf("%s = %+v, want %+v", f.Name, gv.Interface(), wv.Interface())
		}
	}
}

func TestAppendResponseHandmade(t *testing.T) {
	tests := []struct {
		name   string
		text   TextEncoding
		frame  func(testing.TB) []byte
		answer Answer
		want   []string
	}{
		{
			name: "EBCDIC approval", text: EBCDIC, frame: handmade0100EBCDIC,
			answer: Answer{ResponseCode: "00", ApprovalCode: "A1B2C3"},
			want: []string{
				"0110",
				"722000010EC18000", // 2 3 4 7 11 32 37 38 39 41 42 48 49
				"19 41111111111111111110",
				"000000",
				"000000012345",
				"0612153045",
				"123456",
				"11 123456789010",
				"F1F2F3F4F5F6F7F8F9F0F1F2",
				"C1F1C2F2C3F3", // DE38 "A1B2C3"
				"F0F0",         // DE39 "00"
				"E3C5D9D4F0F0F0F1",
				"D4C5D9C3C8C1D5E3F0F0F0F0F0F0F1",
				"0019 F0F1F1F5F5F8F1F2F3F4F5F6F7F8F9F0F1F2F3", // DE48: the transaction id alone, no CVV2
				"F6F0F4",
			},
		},
		{
			name: "ASCII partial approval", text: ASCII, frame: handmade0100ASCII,
			answer: Answer{ResponseCode: "10", ApprovalCode: "A1B2C3", ApprovedAmount: 10000},
			want: []string{
				"0110",
				"722000010EC18400", // as above plus 54
				"15 3714496353984310",
				"000000",
				"000000010000", // DE4: the approved 100.00
				"0612153045",
				"123456",
				"07 12345670",
				"313233343536373839303132",
				"413142324333", // DE38
				"3130",         // DE39 "10"
				"414D455830303032",
				"4D45524348414E5430303030303031",
				"0019 30313135353831323334353637383930313233",
				"363034",
				// DE54: account 00, amount type 57, currency 604, D, the requested 123.45
				"0020 3030 3537 363034 44 303030303030303132333435",
			},
		},
		{
			name: "EBCDIC decline", text: EBCDIC, frame: handmade0100EBCDIC,
			answer: Answer{ResponseCode: "51"},
			want: []string{
				"0110",
				"722000010AC18000", // no DE38
				"19 41111111111111111110", "000000", "000000012345", "0612153045", "123456",
				"11 123456789010", "F1F2F3F4F5F6F7F8F9F0F1F2",
				"F5F1", // DE39 "51"
				"E3C5D9D4F0F0F0F1", "D4C5D9C3C8C1D5E3F0F0F0F0F0F0F1",
				"0019 F0F1F1F5F5F8F1F2F3F4F5F6F7F8F9F0F1F2F3", "F6F0F4",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCodec(tt.text)
			var req Request
			if err := c.UnpackRequest(tt.frame(t), &req); err != nil {
				t.Fatal(err)
			}
			got, err := c.AppendResponse(nil, &req, tt.answer)
			if err != nil {
				t.Fatalf("AppendResponse: %v", err)
			}
			if want := unhex(t, tt.want...); !bytes.Equal(got, want) {
				t.Errorf("0110:\n got %X\nwant %X", got, want)
			}
			// moov reads the response too.
			if err := moov.NewMessage(c.Spec()).Unpack(got); err != nil {
				t.Errorf("moov Unpack of the response: %v", err)
			}
		})
	}
}

func TestNetworkManagementHandmade(t *testing.T) {
	for _, tt := range []struct {
		text TextEncoding
		de39 string
	}{{ASCII, "3030"}, {EBCDIC, "F0F0"}} {
		t.Run(tt.text.String(), func(t *testing.T) {
			c := NewCodec(tt.text)
			frame := unhex(t,
				"0800",
				"8220000000000000", // 1 (secondary bitmap) 7 11
				"0400000000000000", // 70
				"0612153045",       // DE7
				"000001",           // DE11
				"0001",             // DE70 001 sign-on, n3 left-padded
			)
			var req Request
			if err := c.UnpackRequest(frame, &req); err != nil {
				t.Fatal(err)
			}
			if req.MTI != "0800" || req.NetworkManagementCode != "001" || req.STAN != "000001" {
				t.Fatalf("0800 read as %+v", req)
			}
			got, err := c.AppendResponse(nil, &req, Answer{ResponseCode: ResponseApproved})
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, "0810", "8220000002000000", "0400000000000000", "0612153045", "000001", tt.de39, "0001")
			if !bytes.Equal(got, want) {
				t.Errorf("0810:\n got %X\nwant %X", got, want)
			}
		})
	}
}
