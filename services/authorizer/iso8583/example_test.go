package iso8583_test

import (
	"encoding/hex"
	"fmt"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// An 0800 sign-on with text in EBCDIC, answered with an 0810.
func ExampleCodec_AppendResponse() {
	codec := iso8583.NewCodec(iso8583.EBCDIC)
	frame, _ := hex.DecodeString("0800" + "8220000000000000" + "0400000000000000" + "0612153045" + "000001" + "0001")

	var req iso8583.Request
	if err := codec.UnpackRequest(frame, &req); err != nil {
		fmt.Println(err)
		return
	}
	resp, err := codec.AppendResponse(nil, &req, iso8583.Answer{ResponseCode: iso8583.ResponseApproved})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.MTI, req.NetworkManagementCode, req.STAN)
	fmt.Printf("%X\n", resp)
	// Output:
	// 0800 001 000001
	// 0810822000000200000004000000000000000612153045000001F0F00001
}

func ExampleCodec_UnpackRequest() {
	codec := iso8583.NewCodec(iso8583.ASCII)
	req := iso8583.Request{
		MTI: "0100", PAN: "4111111111111111", ProcessingCode: "000000", Amount: 12345, Currency: "604",
		TransmissionDateTime: "0612153045", STAN: "000042", TerminalID: "TERM0001",
		PrivateData: iso8583.PrivateData{NetworkTransactionID: "581234567890123", PartialApproval: true},
	}
	frame, _ := codec.AppendRequest(nil, &req)

	var got iso8583.Request
	if err := codec.UnpackRequest(frame, &got); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(iso8583.MaskPAN(got.PAN), got.Amount, got.Currency, got.PrivateData.PartialApproval)
	// Output: 411111******1111 12345 604 true
}

// A frame whose DE4 holds a letter still gets an answer: DE39 30.
func ExampleCodec_AppendFormatError() {
	codec := iso8583.NewCodec(iso8583.ASCII)
	frame, _ := hex.DecodeString("0100" + "3020000000000000" + "000000" + "00000001234A" + "000042")

	var req iso8583.Request
	err := codec.UnpackRequest(frame, &req)
	fmt.Println(err)
	resp, _ := codec.AppendFormatError(nil, frame)
	fmt.Printf("%X\n", resp)
	// Output:
	// field 4 (Amount, Transaction): invalid BCD: nibble A in byte 6
	// 011000200000020000000000423330
}

func ExampleParsePrivateData() {
	p, err := iso8583.ParsePrivateData("0115581234567890123020110303737")
	fmt.Printf("%+v %v\n", p, err)
	// Output: {NetworkTransactionID:581234567890123 PartialApproval:true CVV2:737 ECI:} <nil>
}

func ExampleCodec_DecodeJSON() {
	codec := iso8583.NewCodec(iso8583.ASCII)
	frame, _ := hex.DecodeString("0100" + "4000000000000000" + "16" + "4111111111111111")
	masked, _ := codec.DecodeJSON(frame, iso8583.JSONOptions{})
	fmt.Println(string(masked))
	// Output: {"0":"0100","1":"4000000000000000","2":"411111******1111"}
}
