package domain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// DeviceStatus is whether a device may log in with its key.
type DeviceStatus string

// Device statuses.
const (
	DeviceActive  DeviceStatus = "active"
	DeviceRevoked DeviceStatus = "revoked"
)

// Device platforms (andes.auth.v1.DevicePlatform).
const (
	PlatformAndroid = "android"
	PlatformIOS     = "ios"
)

// Errors about devices.
var (
	ErrDeviceNotFound   = errors.New("device not found")
	ErrDeviceRevoked    = errors.New("device revoked")
	ErrDeviceKey        = errors.New("device key must be an EC P-256 public key")
	ErrDeviceExists     = errors.New("this key is already bound to a device")
	ErrDeviceSignature  = errors.New("device signature does not verify")
	ErrDeviceChallenge  = errors.New("device challenge unknown, used or expired")
	ErrInvalidDevice    = errors.New("invalid device name or platform")
	ErrPasswordRequired = errors.New("binding a device needs a fresh password login")
	// ErrBadPageToken is a page token the device list did not make.
	ErrBadPageToken = errors.New("invalid page token")
)

// Device is a phone bound to a customer: its P-256 key signs a one-time challenge
// instead of the password ("fingerprint" login, the key unlocked by the phone's
// biometrics).
type Device struct {
	ID           string
	CustomerID   string
	DisplayName  string
	Platform     string
	PublicKey    *ecdsa.PublicKey
	Thumbprint   string // RFC 7638 JWK thumbprint, base64url
	Status       DeviceStatus
	BoundAt      time.Time
	LastUsedAt   time.Time
	RevokedAt    time.Time
	RevokeReason string
}

// CheckDeviceInfo validates what the app says about the phone.
func CheckDeviceInfo(name, platform string) error {
	if n := len([]rune(name)); n < 1 || n > 60 || (platform != PlatformAndroid && platform != PlatformIOS) {
		return ErrInvalidDevice
	}
	return nil
}

// ParseDeviceJWK reads the device's public key from a JWK (kty EC, crv P-256),
// the form mobile key stores export.
func ParseDeviceJWK(kty, crv, x, y string) (*ecdsa.PublicKey, error) {
	if kty != "EC" || crv != "P-256" {
		return nil, ErrDeviceKey
	}
	xb, err1 := base64.RawURLEncoding.DecodeString(x)
	yb, err2 := base64.RawURLEncoding.DecodeString(y)
	if err1 != nil || err2 != nil || len(xb) != 32 || len(yb) != 32 {
		return nil, ErrDeviceKey
	}
	raw := append(append([]byte{4}, xb...), yb...)
	// ParseUncompressedPublicKey checks the point is on the curve.
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return nil, ErrDeviceKey
	}
	return pub, nil
}

// DeviceThumbprint is the RFC 7638 thumbprint of a P-256 key.
func DeviceThumbprint(pub *ecdsa.PublicKey) string {
	raw, _ := pub.Bytes() // a key from ParseDeviceJWK or ParseDeviceKey is valid
	x := base64.RawURLEncoding.EncodeToString(raw[1:33])
	y := base64.RawURLEncoding.EncodeToString(raw[33:])
	sum := sha256.Sum256([]byte(fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":%q,"y":%q}`, x, y)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// MarshalDeviceKey and ParseDeviceKey store the key as PKIX DER.
func MarshalDeviceKey(pub *ecdsa.PublicKey) ([]byte, error) { return x509.MarshalPKIXPublicKey(pub) }

// ParseDeviceKey reads a stored key.
func ParseDeviceKey(der []byte) (*ecdsa.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, ErrDeviceKey
	}
	return pub, nil
}

// DeviceLoginMessage is what a device signs to log in: the one-time challenge bound
// to the PKCE challenge of the authorization request it answers, so a captured
// signature is useless for any other request.
func DeviceLoginMessage(challenge, codeChallenge string) []byte {
	return []byte("andes-device-login\x00" + challenge + "\x00" + codeChallenge)
}

// VerifyDeviceSignature checks an ES256 signature (JWS form: r‖s, 64 bytes,
// base64url) or an ASN.1 DER one, as Android and iOS key stores produce.
func VerifyDeviceSignature(pub *ecdsa.PublicKey, msg []byte, sig string) error {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return ErrDeviceSignature
	}
	digest := sha256.Sum256(msg)
	if len(raw) == 64 {
		r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
		if ecdsa.Verify(pub, digest[:], r, s) {
			return nil
		}
		return ErrDeviceSignature
	}
	if ecdsa.VerifyASN1(pub, digest[:], raw) {
		return nil
	}
	return ErrDeviceSignature
}
