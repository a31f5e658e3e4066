// Package hsm is the payment HSM simulator: it holds the card keys and
// answers the host command protocol of its users (platform/hsm) with the cryptography
// of package paycrypto.
//
// # Keys
//
// Keys come from the environment, as hexadecimal, or from a file named by the
// _FILE variant of the same variable (one or the other, not both):
//
//	ANDES_HSM_ZPK   zone PIN key shared with the card network: 16, 32 or 48 hex
//	ANDES_HSM_PVK   PIN verification key pair A‖B: 32 hex
//	ANDES_HSM_CVK   card verification key pair A‖B: 32 hex
//	ANDES_HSM_KEK   key-encryption key, AES-256: 64 hex (version 1), or
//	                "version:hex,version:hex,..." with the current one first,
//	                to keep retired versions for unwrapping after a rotation
//
// A key left unset takes its development default (DevZPK, DevPVK, DevCVK,
// DevKEK as version 1), which `make up` and the tests rely on; the process
// logs a warning with the key check values when it does. The card network
// simulator builds PIN blocks under the same ZPK with
// paycrypto.EncryptPINBlock.
//
// # Fault knobs
//
//	ANDES_HSM_LATENCY            added to every command, e.g. "20ms"
//	ANDES_HSM_ERROR_SHARE        share of commands answered 99, 0 to 1
//	ANDES_HSM_DISABLED_COMMANDS  command codes answered 68, e.g. "CY,CW"
//
// They are changed at run time through Faults.Handler, which the process
// mounts on its admin listener.
package hsm
