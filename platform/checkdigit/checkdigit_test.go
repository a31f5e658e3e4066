package checkdigit_test

import (
	"testing"

	"github.com/andes-bank/andes/platform/checkdigit"
)

func TestMod97MatchesIBAN(t *testing.T) {
	// GB82 WEST 1234 5698 7654 32: the IBAN check rearranges letters to digits
	// (W=32 E=14 S=28 T=29, G=16 B=11) and moves the country code to the end.
	if !checkdigit.ValidMod97("3214282912345698765432161182") {
		t.Fatal("the published example IBAN does not validate")
	}
	if got, err := checkdigit.Mod97("32142829123456987654321611"); err != nil || got != "82" {
		t.Fatalf("Mod97 = %q, %v; want the IBAN's 82", got, err)
	}
	if checkdigit.ValidMod97("3214282912345698765432161183") {
		t.Fatal("a changed digit still validates")
	}
	if _, err := checkdigit.Mod97("12a4"); err == nil {
		t.Fatal("letters accepted")
	}
}

func TestLuhn(t *testing.T) {
	cases := []struct {
		number string
		valid  bool
	}{
		{"4111111111111111", true},
		{"4111111111111112", false},
		{"79927398713", true},
		{"5500000000000004", true},
		{"", false},
		{"4111-1111", false},
	}
	for _, c := range cases {
		if got := checkdigit.ValidLuhn(c.number); got != c.valid {
			t.Errorf("ValidLuhn(%q) = %v, want %v", c.number, got, c.valid)
		}
	}
	d, err := checkdigit.Luhn("7992739871")
	if err != nil || d != '3' {
		t.Fatalf("Luhn(7992739871) = %c, %v; want 3", d, err)
	}
}
