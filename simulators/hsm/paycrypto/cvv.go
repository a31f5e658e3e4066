package paycrypto

import "crypto/subtle"

// Service codes that select the CVV variant. The algorithm is one; what
// differs is the service code fed to it, so the three values of one card
// differ.
const (
	// ServiceCodeCVV2 is used for the CVV2 printed on the card.
	ServiceCodeCVV2 = "000"
	// ServiceCodeICVV is used for the iCVV in the chip's track 2 equivalent.
	ServiceCodeICVV = "999"
)

// CVV computes the Visa card verification value (CVV on the stripe, CVV2
// with ServiceCodeCVV2, iCVV with ServiceCodeICVV) under the double-length
// card verification key cvk (key A ‖ key B):
//
//	data   = PAN ‖ expiry (YYMM) ‖ service code, right-padded with 0 to 32 digits
//	r      = DES(A)(data[0:16]) XOR data[16:32]
//	r      = 3DES(A, B)(r)
//	CVV    = decimalise(r, 3)
//
// expiry is taken as 4 digits without calendar checks, as an HSM does.
func CVV(cvk *DESKey, pan, expiry, serviceCode string) (string, error) {
	cvv, err := cvvDigits(cvk, pan, expiry, serviceCode)
	return string(cvv[:]), err
}

// VerifyCVV tells whether cvv is the card's value for this expiry and service
// code (payShield CY). A mismatch is (false, nil).
func VerifyCVV(cvk *DESKey, pan, expiry, serviceCode, cvv string) (bool, error) {
	if len(cvv) != 3 || !isDigits(cvv) {
		return false, ErrInvalidInput
	}
	want, err := cvvDigits(cvk, pan, expiry, serviceCode)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(want[:], []byte(cvv)) == 1, nil
}

func cvvDigits(cvk *DESKey, pan, expiry, serviceCode string) ([3]byte, error) {
	var cvv [3]byte
	if cvk.Len() != 16 {
		return cvv, ErrKeyLength
	}
	if !validPAN(pan) {
		return cvv, ErrInvalidPAN
	}
	if len(expiry) != 4 || !isDigits(expiry) || len(serviceCode) != 3 || !isDigits(serviceCode) {
		return cvv, ErrInvalidInput
	}
	var digits [32]byte
	n := copy(digits[:], pan)
	n += copy(digits[n:], expiry)
	n += copy(digits[n:], serviceCode)
	for i := n; i < len(digits); i++ {
		digits[i] = '0'
	}
	var data [16]byte
	for i := range data {
		data[i] = (digits[2*i]-'0')<<4 | (digits[2*i+1] - '0')
	}
	clear(digits[:])
	var r [8]byte
	cvk.encryptLeft(r[:], data[:8])
	for i := range r {
		r[i] ^= data[8+i]
	}
	clear(data[:])
	cvk.encrypt(r[:], r[:])
	decimalise(r, cvv[:])
	return cvv, nil
}
