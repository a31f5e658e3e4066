package domain

import "time"

// AuditAction is what an audit event is about (andes.events.v1.AuthAction).
type AuditAction string

// Audit actions.
const (
	ActionLogin              AuditAction = "login"
	ActionDeviceLogin        AuditAction = "device_login"
	ActionTokenIssued        AuditAction = "token_issued"
	ActionTokenRefreshed     AuditAction = "token_refreshed"
	ActionTokenRevoked       AuditAction = "token_revoked"
	ActionDeviceBound        AuditAction = "device_bound"
	ActionDeviceRevoked      AuditAction = "device_revoked"
	ActionStepUpSent         AuditAction = "step_up_sent"
	ActionStepUpVerified     AuditAction = "step_up_verified"
	ActionUserDisabled       AuditAction = "user_disabled"
	ActionUserEnabled        AuditAction = "user_enabled"
	ActionCredentialsCreated AuditAction = "credentials_created"
)

// AuditEvent records who did what, when, with what outcome and from where. It never
// holds a secret: no password, code or token, only their ids (a jti).
type AuditEvent struct {
	At         time.Time
	Action     AuditAction
	Success    bool
	Failure    string // a short code: "invalid_password", "locked", "pkce_mismatch"
	CustomerID string
	ClientID   string
	OriginIP   string
	UserAgent  string // truncated to 200 characters
	Detail     string // e.g. "jti=...", "family=...", "device=..."
}

// SigningKeyRecord is an access-token signing key as stored: the private key sealed,
// the public key in the clear.
type SigningKeyRecord struct {
	KID       string
	Alg       string
	SealedKey []byte
	PublicKey []byte
	CreatedAt time.Time
}
