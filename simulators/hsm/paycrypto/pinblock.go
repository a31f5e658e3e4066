package paycrypto

import (
	"encoding/hex"
	"log/slog"
)

// PINBlock is an 8-byte PIN block as it travels: encrypted under a zone PIN
// key. It prints as a placeholder, never as its bytes: the handbook forbids PIN
// blocks in logs even when encrypted.
type PINBlock [8]byte

// ParsePINBlock reads 16 hexadecimal characters.
func ParsePINBlock(s string) (PINBlock, error) {
	var b PINBlock
	if len(s) != 2*len(b) {
		return b, ErrInvalidInput
	}
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return PINBlock{}, ErrInvalidInput
	}
	return b, nil
}

// String hides the block.
func (PINBlock) String() string { return "PINBlock(redacted)" }

// GoString hides the block from %#v as well.
func (b PINBlock) GoString() string { return b.String() }

// LogValue hides the block from slog.
func (b PINBlock) LogValue() slog.Value { return slog.StringValue(b.String()) }

// ClearPINBlock builds the clear ISO 9564-1 format 0 block (also known as ANSI
// X9.8, VISA-1, payShield format 01) for pin and pan:
//
//	PIN field      0 L P P P P P/F ... F   (L = PIN length, F fill)
//	account field  0 0 0 0 A1 ... A12      (12 rightmost PAN digits, check digit excluded)
//	block          PIN field XOR account field
//
// Only simulators and tests need a clear block; production code hands the
// HSM encrypted blocks.
func ClearPINBlock(pin, pan string) ([8]byte, error) {
	var block [8]byte
	account, err := accountField(pan)
	if err != nil {
		return block, err
	}
	if len(pin) < 4 || len(pin) > 12 || !isDigits(pin) {
		return block, ErrInvalidPIN
	}
	var field [16]byte // one nibble per byte
	field[0] = 0
	field[1] = byte(len(pin))
	for i := 2; i < 16; i++ {
		field[i] = 0xF
		if i-2 < len(pin) {
			field[i] = pin[i-2] - '0'
		}
	}
	for i := range block {
		block[i] = (field[2*i]<<4 | field[2*i+1]) ^ account[i]
	}
	clear(field[:])
	return block, nil
}

// EncryptPINBlock builds the format 0 block for pin and pan and encrypts it
// under zpk: what a terminal or acquirer puts in ISO 8583 field 52. The card
// network simulator and tests use it with the zone PIN key they share with the
// HSM.
func EncryptPINBlock(zpk *DESKey, pin, pan string) (PINBlock, error) {
	clearBlock, err := ClearPINBlock(pin, pan)
	if err != nil {
		return PINBlock{}, err
	}
	var out PINBlock
	zpk.encrypt(out[:], clearBlock[:])
	clear(clearBlock[:])
	return out, nil
}

// DecryptPINBlock decrypts block under zpk and returns the clear PIN as ASCII
// digits. The caller must clear() the result once done with it.
//
// A block encrypted under another key, or built for another PAN, almost always
// fails the format checks and gives ErrInvalidPINBlock (or ErrInvalidPIN when
// only the length nibble is out of range), as payShield answers 20 or 24.
func DecryptPINBlock(zpk *DESKey, block PINBlock, pan string) ([]byte, error) {
	account, err := accountField(pan)
	if err != nil {
		return nil, err
	}
	var clearBlock [8]byte
	zpk.decrypt(clearBlock[:], block[:])
	defer clear(clearBlock[:])
	for i := range clearBlock {
		clearBlock[i] ^= account[i]
	}
	nibble := func(i int) byte {
		if i%2 == 0 {
			return clearBlock[i/2] >> 4
		}
		return clearBlock[i/2] & 0xF
	}
	if nibble(0) != 0 {
		return nil, ErrInvalidPINBlock
	}
	n := int(nibble(1))
	if n < 4 || n > 12 {
		return nil, ErrInvalidPIN
	}
	pin := make([]byte, n)
	for i := 2; i < 16; i++ {
		d := nibble(i)
		switch {
		case i-2 < n && d <= 9:
			pin[i-2] = '0' + d
		case i-2 >= n && d == 0xF:
		default:
			clear(pin)
			return nil, ErrInvalidPINBlock
		}
	}
	return pin, nil
}

// accountField is the format 0 account field: four zero nibbles and the 12
// rightmost PAN digits excluding the check digit, left-padded with zeros when
// the PAN is short.
func accountField(pan string) ([8]byte, error) {
	var field [8]byte
	if !validPAN(pan) {
		return field, ErrInvalidPAN
	}
	body := pan[:len(pan)-1] // without the check digit
	if len(body) > 12 {
		body = body[len(body)-12:]
	}
	// 16 nibbles, right-aligned digits, leading zeros.
	offset := 16 - len(body)
	for i := 0; i < len(body); i++ {
		pos := offset + i
		d := body[i] - '0'
		if pos%2 == 0 {
			field[pos/2] |= d << 4
		} else {
			field[pos/2] |= d
		}
	}
	return field, nil
}

func validPAN(pan string) bool {
	return len(pan) >= 12 && len(pan) <= 19 && isDigits(pan)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
