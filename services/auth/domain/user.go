package domain

import (
	"errors"
	"regexp"
	"strings"
	"time"
)

// UserStatus is whether a customer may log in, as the bank decided it. A lockout
// after failed logins is not a status: it ends by itself and lives with the
// throttle (see Lockout).
type UserStatus string

// User statuses.
const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
)

// Errors about users and logins.
var (
	ErrUserNotFound     = errors.New("user not found")
	ErrUserExists       = errors.New("the customer or the document already has credentials")
	ErrUserDisabled     = errors.New("user disabled")
	ErrInvalidLogin     = errors.New("invalid document or password")
	ErrLocked           = errors.New("too many failed logins; locked for a while")
	ErrInvalidDocument  = errors.New("invalid identity document")
	ErrInvalidUsername  = errors.New("invalid username")
	ErrInvalidCustomer  = errors.New("invalid customer id")
	ErrIdempotencyReuse = errors.New("idempotency key reused with a different request")
)

// Document types customers log in with (andes.identity.v1.DocumentType).
const (
	DocumentDNI      = "DNI"
	DocumentCE       = "CE"
	DocumentPassport = "PASSPORT"
	DocumentRUC      = "RUC"
)

var (
	documentFormats = map[string]*regexp.Regexp{
		DocumentDNI:      regexp.MustCompile(`^[0-9]{8}$`),
		DocumentRUC:      regexp.MustCompile(`^[0-9]{11}$`),
		DocumentCE:       regexp.MustCompile(`^[A-Z0-9]{9,12}$`),
		DocumentPassport: regexp.MustCompile(`^[A-Z0-9]{6,12}$`),
	}
	usernameFormat = regexp.MustCompile(`^[a-z0-9._-]{4,32}$`)
	uuidFormat     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// CheckDocument validates a national document's number against its type.
func CheckDocument(docType, number string) error {
	re, ok := documentFormats[docType]
	if !ok || !re.MatchString(number) {
		return ErrInvalidDocument
	}
	return nil
}

// CheckCustomerID validates an Andes customer id (a lower-case UUID).
func CheckCustomerID(id string) error {
	if !uuidFormat.MatchString(id) {
		return ErrInvalidCustomer
	}
	return nil
}

// User is a customer's login: credentials keyed by the Andes customer id.
type User struct {
	CustomerID     string
	DocumentType   string
	DocumentNumber string
	Username       string // optional
	PasswordHash   string // argon2id PHC string
	Status         UserStatus
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// NewUser validates and builds a user; the password is hashed here and never kept.
func NewUser(customerID, docType, docNumber, username, password string, params PasswordParams, now time.Time) (*User, error) {
	if err := CheckCustomerID(customerID); err != nil {
		return nil, err
	}
	if err := CheckDocument(docType, docNumber); err != nil {
		return nil, err
	}
	if username != "" && !usernameFormat.MatchString(username) {
		return nil, ErrInvalidUsername
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return nil, err
	}
	// Stored times keep microseconds (PostgreSQL); so do fresh ones, so a user
	// answered now and read back later look the same.
	now = now.Truncate(time.Microsecond)
	return &User{
		CustomerID: customerID, DocumentType: docType, DocumentNumber: docNumber, Username: username,
		PasswordHash: HashPassword(password, params), Status: UserActive, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// Login is what a customer types to log in: a national document (type and number)
// or, when they chose one, a username.
type Login struct {
	DocumentType string // empty when logging in by username
	Identifier   string // the document number or the username
}

// NormalizeLogin cleans what was typed: document numbers are printed upper case
// without separators, usernames are lower case.
func NormalizeLogin(docType, identifier string) Login {
	id := strings.TrimSpace(identifier)
	if docType == "" {
		return Login{Identifier: strings.ToLower(id)}
	}
	id = strings.NewReplacer(" ", "", "-", "", ".", "").Replace(strings.ToUpper(id))
	return Login{DocumentType: docType, Identifier: id}
}
