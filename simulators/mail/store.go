// Package mail is the simulator of the mail server messaging delivers to: a small
// SMTP server (RFC 5321's minimum: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)
// that keeps what it receives in memory, and a page that shows it. It never
// relays anything anywhere.
package mail

import (
	"slices"
	"sync"
	"time"
)

// Message is one mail as received.
type Message struct {
	ID       int       `json:"id"`
	From     string    `json:"from"`
	To       []string  `json:"to"`
	Data     string    `json:"data"` // headers and body, dot-unstuffed, CRLF line ends
	Received time.Time `json:"received"`
}

// Store keeps the latest messages; the oldest go first when it is full.
type Store struct {
	mu     sync.Mutex
	max    int
	nextID int
	msgs   []Message
}

// NewStore keeps at most max messages.
func NewStore(max int) *Store { return &Store{max: max, nextID: 1} }

// Add stores m, giving it the next id, and returns the id.
func (s *Store) Add(m Message) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID = s.nextID
	s.nextID++
	s.msgs = append(s.msgs, m)
	if len(s.msgs) > s.max {
		s.msgs = slices.Delete(s.msgs, 0, len(s.msgs)-s.max)
	}
	return m.ID
}

// List returns the messages, newest first.
func (s *Store) List() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.msgs)
	slices.Reverse(out)
	return out
}
