package domain

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id cost parameters. They are stored with each hash,
// so raising them later only affects new hashes.
type PasswordParams struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultPasswordParams follow OWASP's password storage cheat sheet minimum for
// argon2id (19 MiB, 2 passes, 1 lane): tens of milliseconds here, on the login path
// only, never on the client-credentials path.
var DefaultPasswordParams = PasswordParams{Time: 2, Memory: 19 * 1024, Threads: 1}

// Password length rules follow NIST SP 800-63B: long passphrases allowed, no
// composition rules.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

// Errors about passwords.
var (
	ErrWeakPassword    = fmt.Errorf("password must have %d to %d characters", MinPasswordLen, MaxPasswordLen)
	ErrMalformedHash   = errors.New("malformed password hash")
	ErrInvalidPassword = errors.New("invalid password")
)

// CheckPasswordPolicy enforces the length rules.
func CheckPasswordPolicy(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLen || n > MaxPasswordLen {
		return ErrWeakPassword
	}
	return nil
}

// HashPassword returns the PHC string of an argon2id hash:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(password string, p PasswordParams) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails on Linux
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// VerifyPassword checks a password against a PHC string from HashPassword, in
// constant time. It answers ErrInvalidPassword or ErrMalformedHash.
func VerifyPassword(password, encoded string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return ErrMalformedHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 {
		return ErrMalformedHash
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return ErrMalformedHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrInvalidPassword
	}
	return nil
}

// DummyPasswordHash is verified against when the login names nobody, so that an
// unknown document costs the same time as a wrong password and reveals nothing.
const DummyPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$SDRzulswwZFlOxVo2WS5aw$JiR9dMKoTMip+M9FNeg/OpeFYKp1Oso5jtltXp6h51c"
