package domain

import (
	"errors"
	"fmt"

	"github.com/andes-bank/andes/platform/checkdigit"
)

// PANLength is the length of the card numbers Andes issues.
const PANLength = 16

// NewPAN builds a card number from the program's BIN (6 or 8 digits), an account
// number of the remaining length but one, and the Luhn check digit. serial must
// have exactly that many digits.
func NewPAN(bin, serial string) (string, error) {
	if len(bin) != 6 && len(bin) != 8 {
		return "", errors.New("BIN must have 6 or 8 digits")
	}
	if len(bin)+len(serial)+1 != PANLength {
		return "", fmt.Errorf("serial must have %d digits", PANLength-1-len(bin))
	}
	body := bin + serial
	check, err := checkdigit.Luhn(body)
	if err != nil {
		return "", err
	}
	return body + string(check), nil
}

// MaskPAN shows first 6 and last 4 digits, the most PCI DSS allows to display.
func MaskPAN(pan string) string {
	if len(pan) < 13 {
		return "****"
	}
	b := []byte(pan)
	for i := 6; i < len(b)-4; i++ {
		b[i] = '*'
	}
	return string(b)
}
