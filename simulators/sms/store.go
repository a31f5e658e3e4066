package sms

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// Message is one SMS the gateway accepted.
type Message struct {
	ID         string    `json:"id"`
	To         string    `json:"to"`
	Sender     string    `json:"sender,omitempty"`
	Text       string    `json:"text"`
	Status     string    `json:"status"`
	ReceivedAt time.Time `json:"received_at"`
}

// MaxMessages is how many messages the gateway remembers.
const MaxMessages = 10000

// Errors of Send.
var (
	ErrInvalid  = errors.New("invalid message")
	ErrMismatch = errors.New("idempotency key already used with another message")
)

var phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// Store keeps messages in memory, newest last.
type Store struct {
	now func() time.Time

	mu    sync.RWMutex
	msgs  []Message
	byKey map[string]keyed
	seq   int
}

type keyed struct {
	fingerprint [32]byte
	msg         Message
}

// NewStore returns an empty store.
func NewStore(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, byKey: map[string]keyed{}}
}

// Send accepts a message once per idempotency key; it reports whether the answer
// is a replay of an earlier send.
func (s *Store) Send(key, to, sender, text string) (Message, bool, error) {
	switch {
	case key == "" || len(key) > 255:
		return Message{}, false, fmt.Errorf("%w: Idempotency-Key must have 1 to 255 characters", ErrInvalid)
	case !phonePattern.MatchString(to):
		return Message{}, false, fmt.Errorf("%w: to must be an E.164 number (+51987654321)", ErrInvalid)
	case text == "" || utf8.RuneCountInString(text) > 480:
		return Message{}, false, fmt.Errorf("%w: text must have 1 to 480 characters", ErrInvalid)
	case utf8.RuneCountInString(sender) > 11:
		return Message{}, false, fmt.Errorf("%w: sender must have at most 11 characters", ErrInvalid)
	}
	fp := sha256.Sum256([]byte(to + "\x00" + sender + "\x00" + text))
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.byKey[key]; ok {
		if k.fingerprint != fp {
			return Message{}, false, ErrMismatch
		}
		return k.msg, true, nil
	}
	s.seq++
	m := Message{ID: fmt.Sprintf("msg_%08d", s.seq), To: to, Sender: sender, Text: text, Status: "delivered", ReceivedAt: s.now().UTC()}
	s.msgs = append(s.msgs, m)
	s.byKey[key] = keyed{fingerprint: fp, msg: m}
	if len(s.msgs) > MaxMessages {
		drop := s.msgs[0]
		s.msgs = slices.Delete(s.msgs, 0, 1)
		for k, v := range s.byKey {
			if v.msg.ID == drop.ID {
				delete(s.byKey, k)
			}
		}
	}
	return m, false, nil
}

// List returns the messages to a phone (all when to is empty), newest first.
func (s *Store) List(to string) []Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []Message{}
	for i := len(s.msgs) - 1; i >= 0; i-- {
		if to == "" || s.msgs[i].To == to {
			out = append(out, s.msgs[i])
		}
	}
	return out
}

// Get returns one message.
func (s *Store) Get(id string) (Message, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, m := range s.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}
