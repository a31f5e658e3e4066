// Package checkdigit computes the check digits of numbers people type: ISO 7064
// MOD 97-10 for account numbers (as in IBAN) and Luhn for card numbers.
package checkdigit

import "errors"

// ErrNotDigits is returned for input that is not all ASCII digits.
var ErrNotDigits = errors.New("checkdigit: not all digits")

// Mod97 returns the two ISO 7064 MOD 97-10 check digits to append to digits.
func Mod97(digits string) (string, error) {
	rem, err := mod97(digits + "00")
	if err != nil {
		return "", err
	}
	check := 98 - rem
	return string([]byte{byte('0' + check/10), byte('0' + check%10)}), nil
}

// ValidMod97 reports whether number ends in its correct MOD 97-10 check digits.
func ValidMod97(number string) bool {
	if len(number) < 3 {
		return false
	}
	rem, err := mod97(number)
	return err == nil && rem == 1
}

func mod97(digits string) (int, error) {
	if digits == "" {
		return 0, ErrNotDigits
	}
	rem := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, ErrNotDigits
		}
		rem = (rem*10 + int(c-'0')) % 97
	}
	return rem, nil
}

// Luhn returns the Luhn check digit to append to digits.
func Luhn(digits string) (byte, error) {
	sum, err := luhnSum(digits, true)
	if err != nil {
		return 0, err
	}
	return byte('0' + (10-sum%10)%10), nil
}

// ValidLuhn reports whether number ends in its correct Luhn check digit.
func ValidLuhn(number string) bool {
	if len(number) < 2 {
		return false
	}
	sum, err := luhnSum(number, false)
	return err == nil && sum%10 == 0
}

// luhnSum doubles every second digit from the right; doubleFirst says whether the
// rightmost digit given is doubled (true when the check digit is not yet appended).
func luhnSum(digits string, doubleFirst bool) (int, error) {
	if digits == "" {
		return 0, ErrNotDigits
	}
	sum := 0
	double := doubleFirst
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, ErrNotDigits
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum, nil
}
