package iso8583

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestDecodeJSONMasksCardData(t *testing.T) {
	c := NewCodec(EBCDIC)
	frame := handmade0100EBCDIC(t)
	masked, err := c.DecodeJSON(frame, JSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"0":"0100","1":"7224040128E19000","2":"411111*********1111","3":"000000","4":12345,` +
		`"7":"0612153045","11":"123456","14":"2812","22":"051","32":"12345678901",` +
		`"35":"411111*********1111D*****************","37":"123456789012","41":"TERM0001",` +
		`"42":"MERCHANT0000001","43":"PANADERÍA LA ESQUINA     LIMA         PE",` +
		`"48":"0115581234567890123020110303***040207","49":"604","52":"****************"}`
	if string(masked) != want {
		t.Errorf("masked JSON:\n got %s\nwant %s", masked, want)
	}

	clear, err := c.DecodeJSON(frame, JSONOptions{Reveal: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"2":"4111111111111111111"`, `"35":"4111111111111111111D28121011234567890"`, `"52":"1A2B3C4D5E6F7081"`, `0303737`} {
		if !bytes.Contains(clear, []byte(s)) {
			t.Errorf("revealed JSON lacks %s: %s", s, clear)
		}
	}
	// The revealed JSON packs back into the same frame.
	packed, err := c.EncodeJSON(clear)
	if err != nil || !bytes.Equal(packed, frame) {
		t.Errorf("EncodeJSON = %X, %v\nwant %X", packed, err, frame)
	}
	if _, err := c.EncodeJSON(masked); err == nil {
		t.Error("masked JSON packed")
	}
	if _, err := c.DecodeJSON(frame[:20], JSONOptions{}); err == nil {
		t.Error("DecodeJSON of a cut frame")
	}
}

func TestMaskICC(t *testing.T) {
	// A length running past the end: where the secrets are cannot be told.
	icc, _ := hex.DecodeString("9F2608AABBCCDDEEFF0011" + "5A104111111111111111")
	if got := maskICC(icc); got != stars(2*len(icc)) {
		t.Errorf("maskICC of malformed data = %s, want all masked", got)
	}
	// PAN and track 2 equivalent masked, the one inside template 70 too.
	icc, _ = hex.DecodeString("9F2608AABBCCDDEEFF0011" + "5A084111111111111111" + "7006" + "5704411111D1")
	got := maskICC(icc)
	want := "9F2608AABBCCDDEEFF0011" + "5A08****************" + "7006" + "5704********"
	if got != want {
		t.Errorf("maskICC:\n got %s\nwant %s", got, want)
	}
}

func TestMaskPAN(t *testing.T) {
	for in, want := range map[string]string{
		"4111111111111111":    "411111******1111",
		"371449635398431":     "371449*****8431",
		"4111111111111111111": "411111*********1111",
		"12345678901":         "***********",
	} {
		if got := MaskPAN(in); got != want {
			t.Errorf("MaskPAN(%s) = %s, want %s", in, got, want)
		}
	}
	if got := maskPrivateData("0115581234567890123030473701"); got != stars(28) {
		t.Errorf("unparseable DE48 = %s, want all masked", got)
	}
}
