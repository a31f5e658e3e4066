package main

import (
	"bytes"
	"strings"
	"testing"
)

func iso(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := iso8583Cmd(args, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

// An operator reads a frame the network sent: the PAN shows only its first six and
// last four digits unless asked, and JSON turns back into the same bytes.
func TestISO8583DecodeMasksAndEncodeRoundTrips(t *testing.T) {
	// MTI 0100, a bitmap with DE2 and DE3, DE2 = LL 16 + PAN in BCD, DE3 = 000000.
	frame := "0100 6000000000000000 16 4111111111111111 000000"

	masked, err := iso(t, frame, "decode")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(masked, `"411111******1111"`) || strings.Contains(masked, "4111111111111111") {
		t.Fatalf("decode did not mask the PAN:\n%s", masked)
	}
	clear, err := iso(t, frame, "decode", "-reveal")
	if err != nil || !strings.Contains(clear, `"4111111111111111"`) {
		t.Fatalf("decode -reveal: %v\n%s", err, clear)
	}

	again, err := iso(t, clear, "encode")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(frame, " ", "") + "\n"; again != want {
		t.Fatalf("encode = %q, want %q", again, want)
	}
	framed, err := iso(t, clear, "encode", "-framed")
	if err != nil || framed != "0016"+strings.ReplaceAll(frame, " ", "")+"\n" {
		t.Fatalf("encode -framed = %q, %v", framed, err)
	}
	if out, err := iso(t, framed, "decode", "-framed"); err != nil || !strings.Contains(out, "411111******1111") {
		t.Fatalf("decode -framed: %v\n%s", err, out)
	}
}

func TestISO8583RefusesBadInputClearly(t *testing.T) {
	cases := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"not hex", "01zz", []string{"decode"}, "not hex"},
		{"bad BCD", "0100 6000000000000000 16 41111111111111A1 000000", []string{"decode"}, "field 2"},
		{"short header", "0009 0100", []string{"decode", "-framed"}, "length header"},
		{"bad JSON", "{", []string{"encode"}, "iso8583"},
		{"bad encoding", "", []string{"decode", "-text", "utf8"}, "-text"},
		{"no verb", "", nil, "decode or encode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := iso(t, c.stdin, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one naming %q (output %q)", err, c.want, out)
			}
			if strings.Contains(err.Error(), "4111111111111") {
				t.Fatal("the error quotes card data")
			}
		})
	}
}
