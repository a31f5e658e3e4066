package paycrypto

import "crypto/subtle"

// PVV computes the Visa PIN verification value of pin for the card pan:
//
//	TSP = 11 rightmost PAN digits excluding the check digit + PVKI + 4 leftmost PIN digits
//	PVV = decimalise(3DES(PVK A, PVK B)(TSP), 4)
//
// pvki (0–9) is the PIN verification key index the issuer records with the
// PVV; Visa issuers use 0–6.
func PVV(pvk *DESKey, pan string, pvki int, pin string) (string, error) {
	if len(pin) < 4 || len(pin) > 12 || !isDigits(pin) {
		return "", ErrInvalidPIN
	}
	pvv, err := pvvDigits(pvk, pan, pvki, []byte(pin))
	return string(pvv[:]), err
}

// PVVFromPINBlock decrypts block under zpk and computes the PVV of the PIN it
// carries: how an issuer sets a PIN without ever seeing it (payShield FW).
func PVVFromPINBlock(zpk, pvk *DESKey, block PINBlock, pan string, pvki int) (string, error) {
	pin, err := DecryptPINBlock(zpk, block, pan)
	if err != nil {
		return "", err
	}
	defer clear(pin)
	pvv, err := pvvDigits(pvk, pan, pvki, pin)
	return string(pvv[:]), err
}

// VerifyPIN decrypts block under zpk and tells whether the PIN it carries
// matches the card's PVV (payShield DC/EC). A mismatch is (false, nil); an
// error means the inputs were unusable.
func VerifyPIN(zpk, pvk *DESKey, block PINBlock, pan string, pvki int, pvv string) (bool, error) {
	if len(pvv) != 4 || !isDigits(pvv) {
		return false, ErrInvalidInput
	}
	pin, err := DecryptPINBlock(zpk, block, pan)
	if err != nil {
		return false, err
	}
	defer clear(pin)
	want, err := pvvDigits(pvk, pan, pvki, pin)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(want[:], []byte(pvv)) == 1, nil
}

func pvvDigits(pvk *DESKey, pan string, pvki int, pin []byte) ([4]byte, error) {
	var pvv [4]byte
	if !validPAN(pan) {
		return pvv, ErrInvalidPAN
	}
	if pvki < 0 || pvki > 9 {
		return pvv, ErrInvalidInput
	}
	// The TSP, 16 decimal digits packed as 8 bytes of BCD.
	var digits [16]byte
	copy(digits[:11], pan[len(pan)-12:len(pan)-1])
	digits[11] = '0' + byte(pvki)
	copy(digits[12:], pin[:4])
	var tsp [8]byte
	for i := range tsp {
		tsp[i] = (digits[2*i]-'0')<<4 | (digits[2*i+1] - '0')
	}
	clear(digits[:])
	pvk.encrypt(tsp[:], tsp[:])
	decimalise(tsp, pvv[:])
	clear(tsp[:])
	return pvv, nil
}

// decimalise fills out with decimal digits taken from block the Visa way
// (PVV and CVV alike): scan the 16 hex digits left to right keeping 0–9; if
// that is not enough, scan again turning A–F into 0–5.
func decimalise(block [8]byte, out []byte) {
	n := 0
	for pass := 0; pass < 2 && n < len(out); pass++ {
		for i := 0; i < 16 && n < len(out); i++ {
			d := block[i/2] >> 4
			if i%2 == 1 {
				d = block[i/2] & 0xF
			}
			switch {
			case pass == 0 && d <= 9:
				out[n] = '0' + d
				n++
			case pass == 1 && d >= 0xA:
				out[n] = '0' + d - 0xA
				n++
			}
		}
	}
}
