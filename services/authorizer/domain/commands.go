package domain

import "time"

// Writes of card administration, as the use cases hand them to the card ledger.

// NewAccount is a card account to open.
type NewAccount struct {
	ID, CustomerID string
	Currency       Currency
	Now            time.Time
}

// EventMeta is what the event of a write needs besides the write itself; no event
// is written without an id.
type EventMeta struct {
	ID             string
	IdempotencyKey string // this service's operation id for the request that caused it
	Now            time.Time
}

// Funding is a credit to a card account from the program funding account.
type Funding struct {
	AccountID string
	Amount    int64
	Reference string // the core transaction that paid for it
	PostingID string
	Now       time.Time
	Event     EventMeta // CardAccountFunded
}

// CardRecord is a card as stored: the card, its PAN's fingerprint and its PAN
// encrypted under the vault's data key.
type CardRecord struct {
	Card          Card
	Fingerprint   []byte
	PANCiphertext []byte
	DataKeyID     int
}

// StatusChange moves a card from one of the allowed statuses to another.
type StatusChange struct {
	CardID string
	From   []CardStatus
	To     CardStatus
	Reason string
	Event  EventMeta // CardStatusChanged, with the time of the change
}
