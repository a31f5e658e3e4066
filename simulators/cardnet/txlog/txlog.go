// Package txlog is the network's own transaction log: what each merchant
// asked, who decided (the issuer or stand-in), what the merchant was told,
// and what became of the advices and reversals the network owes the issuer.
// It lives in memory, bounded, and dumps as JSON. Card numbers appear only
// masked, with a keyed reference to group entries by card.
package txlog

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Kinds of entries.
const (
	KindAuthorization = "authorization" // 0100 from a merchant
	KindAdvice        = "advice"        // 0120 / 0220 the network owes the issuer
	KindReversal      = "reversal"      // 0420 the network owes the issuer
)

// Who decided an authorization.
const (
	SourceIssuer  = "issuer"
	SourceStandIn = "stand-in"
)

// Delivery states of advices and reversals.
const (
	Queued       = "queued"
	Acknowledged = "acknowledged"
	Rejected     = "rejected" // answered with a format error: repeating cannot help
	Abandoned    = "abandoned"
)

// Entry is one line of the log.
type Entry struct {
	ID             int64         `json:"id"`
	At             time.Time     `json:"at"`
	Kind           string        `json:"kind"`
	MTI            string        `json:"mti"`
	STAN           string        `json:"stan,omitempty"`
	Transmitted    string        `json:"transmitted,omitempty"` // DE7
	RRN            string        `json:"rrn,omitempty"`
	TransactionID  string        `json:"transaction_id,omitempty"`
	Card           string        `json:"card"`     // masked PAN
	CardRef        string        `json:"card_ref"` // keyed hash of the PAN
	ProcessingCode string        `json:"processing_code,omitempty"`
	Amount         int64         `json:"amount"`
	Currency       string        `json:"currency,omitempty"`
	Remaining      int64         `json:"remaining,omitempty"` // DE95 of a partial reversal
	Source         string        `json:"source,omitempty"`
	ResponseCode   string        `json:"response_code,omitempty"`
	ApprovalCode   string        `json:"approval_code,omitempty"`
	ApprovedAmount int64         `json:"approved_amount,omitempty"`
	Reason         string        `json:"reason,omitempty"`
	Latency        time.Duration `json:"latency_ns,omitempty"`
	// LateResponseCode is the issuer's answer that came after stand-in.
	LateResponseCode string `json:"late_response_code,omitempty"`
	// Delivery is the state of an advice or reversal.
	Delivery string `json:"delivery,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	AckCode  string `json:"ack_code,omitempty"`
	// RelatesTo is the entry an advice or reversal is about.
	RelatesTo int64 `json:"relates_to,omitempty"`
}

// Log is the transaction log. It keeps at most its capacity of entries,
// dropping the oldest.
type Log struct {
	mu      sync.Mutex
	cap     int
	entries []*Entry
	byID    map[int64]*Entry
	next    int64
	dropped int64
}

// New returns a log keeping up to capacity entries (default 100,000).
func New(capacity int) *Log {
	if capacity <= 0 {
		capacity = 100_000
	}
	return &Log{cap: capacity, byID: make(map[int64]*Entry)}
}

// Add appends e, giving it an id, and returns the id.
func (l *Log) Add(e Entry) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	e.ID = l.next
	if len(l.entries) == l.cap {
		delete(l.byID, l.entries[0].ID)
		l.entries = l.entries[1:]
		l.dropped++
	}
	stored := &e
	l.entries = append(l.entries, stored)
	l.byID[e.ID] = stored
	return e.ID
}

// Update changes entry id under the log's lock; a dropped entry is skipped.
func (l *Log) Update(id int64, fn func(*Entry)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.byID[id]; e != nil {
		fn(e)
	}
}

// Get returns a copy of entry id.
func (l *Log) Get(id int64) (Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.byID[id]; e != nil {
		return *e, true
	}
	return Entry{}, false
}

// Entries returns a copy of the log, oldest first.
func (l *Log) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Entry, len(l.entries))
	for i, e := range l.entries {
		out[i] = *e
	}
	return out
}

// WriteJSON writes the log as one JSON document.
func (l *Log) WriteJSON(w io.Writer) error {
	entries := l.Entries()
	l.mu.Lock()
	dropped := l.dropped
	l.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Dropped int64   `json:"dropped"`
		Entries []Entry `json:"entries"`
	}{dropped, entries})
}
