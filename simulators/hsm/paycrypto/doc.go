// Package paycrypto is the payment cryptography of the HSM simulator, pure and
// free of I/O:
//
//   - DES and Triple DES keys ([DESKey]), shown only by their key check value;
//   - ISO 9564-1 format 0 PIN blocks ([EncryptPINBlock], [DecryptPINBlock]),
//     encrypted under a zone PIN key (ZPK) shared with the card network;
//   - Visa PIN verification values ([PVV], [VerifyPIN], [PVVFromPINBlock]);
//   - Visa CVV, CVV2 and iCVV ([CVV], [VerifyCVV]);
//   - wrapping of data keys under a versioned key-encryption key ([KEKRing]).
//
// Clear PINs exist only inside this package, as byte slices that are zeroed
// after use; callers hand in encrypted PIN blocks and get answers. Verification
// values are compared in constant time.
//
// Errors are sentinels ([ErrInvalidPINBlock], [ErrInvalidInput], ...) that
// never carry the secret that caused them.
package paycrypto
