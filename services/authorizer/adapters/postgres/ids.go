package postgres

import "github.com/google/uuid"

// uuidArg passes an id to a uuid parameter; ids come from this process or have
// been validated by the port, so a malformed one is a bug and finds nothing.
func uuidArg(s string) uuid.UUID {
	u, _ := uuid.Parse(s)
	return u
}

// NewID returns a time-ordered (version 7) UUID, so the indexes on ids stay compact.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }
