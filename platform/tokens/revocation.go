package tokens

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/andes-bank/andes/gen/andes/events/v1"
)

// Where auth announces revocations: a JetStream stream whose messages are kept as
// long as the longest access token lives, so a verifier that starts replays every
// revocation that can still matter.
const (
	DefaultRevocationStream  = "AUTH_REVOCATIONS"
	DefaultRevocationSubject = "auth.revocations"
)

// Feed names the stream and subject prefix of revocations (tests prefix both).
type Feed struct {
	Stream  string // e.g. AUTH_REVOCATIONS
	Subject string // e.g. auth.revocations: messages go to <Subject>.token and <Subject>.subject
}

// DefaultFeed is the platform's revocation feed.
var DefaultFeed = Feed{Stream: DefaultRevocationStream, Subject: DefaultRevocationSubject}

// StreamConfig is the stream auth creates. maxAge is the longest access-token
// lifetime plus a margin for clock skew.
func (f Feed) StreamConfig(maxAge time.Duration) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        f.Stream,
		Description: "Access tokens and subjects revoked by auth (andes.events.v1.TokenRevoked, SubjectTokensRevoked).",
		Subjects:    []string{f.Subject + ".>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      maxAge,
		Storage:     jetstream.FileStorage,
		Duplicates:  2 * time.Minute,
	}
}

// RevokedToken is one token revoked until it expires.
type RevokedToken struct {
	JTI     string
	Expires time.Time
}

// RevokedSubject is every token of a subject issued before a time.
type RevokedSubject struct {
	Subject string
	Before  time.Time
	Expires time.Time // when the last token it concerns expires
}

// TokenRevokedMsg builds the message auth publishes for a revoked token: an
// andes.events.v1.Envelope around a TokenRevoked, with a message id that makes a
// repeated publish a duplicate.
func (f Feed) TokenRevokedMsg(r RevokedToken, source string, now time.Time) (*nats.Msg, error) {
	payload := &eventsv1.TokenRevoked{Jti: r.JTI, ExpiresAt: timestamppb.New(r.Expires)}
	return f.message(f.Subject+".token", "rev-token-"+r.JTI, payload, source, now, nil)
}

// SubjectRevokedMsg builds the message for a subject's revoked tokens.
func (f Feed) SubjectRevokedMsg(r RevokedSubject, source string, now time.Time) (*nats.Msg, error) {
	payload := &eventsv1.SubjectTokensRevoked{Subject: r.Subject, IssuedBefore: timestamppb.New(r.Before), ExpiresAt: timestamppb.New(r.Expires)}
	id := "rev-subject-" + r.Subject + "-" + strconv.FormatInt(r.Before.UnixMilli(), 10)
	return f.message(f.Subject+".subject", id, payload, source, now, map[string]string{"customer_id": r.Subject})
}

func (f Feed) message(subject, id string, payload proto.Message, source string, now time.Time, ids map[string]string) (*nats.Msg, error) {
	anyp, err := anypb.New(payload)
	if err != nil {
		return nil, err
	}
	env := &eventsv1.Envelope{
		EventId:       id,
		Type:          string(payload.ProtoReflect().Descriptor().FullName()),
		SchemaVersion: 1,
		OccurredAt:    timestamppb.New(now),
		Source:        source,
		SubjectIds:    ids,
		Payload:       anyp,
	}
	data, err := proto.Marshal(env)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, id)
	msg.Header.Set("Andes-Event-Type", env.Type)
	return msg, nil
}

// RevocationSet holds what auth revoked, each entry until the tokens it concerns
// have expired anyway.
type RevocationSet struct {
	now func() time.Time

	mu       sync.RWMutex
	tokens   map[string]time.Time // jti → expiry
	subjects map[string]RevokedSubject
	synced   chan struct{}
	once     sync.Once
}

// NewRevocationSet returns an empty set. now is the clock (time.Now when nil).
func NewRevocationSet(now func() time.Time) *RevocationSet {
	if now == nil {
		now = time.Now
	}
	return &RevocationSet{now: now, tokens: map[string]time.Time{}, subjects: map[string]RevokedSubject{}, synced: make(chan struct{})}
}

// RevokeToken adds a token id.
func (s *RevocationSet) RevokeToken(r RevokedToken) {
	if !r.Expires.After(s.now()) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Expires.After(s.tokens[r.JTI]) {
		s.tokens[r.JTI] = r.Expires
	}
}

// RevokeSubject adds (or moves forward) a subject's revoked-before time.
func (s *RevocationSet) RevokeSubject(r RevokedSubject) {
	if !r.Expires.After(s.now()) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.subjects[r.Subject]
	if !ok || r.Before.After(cur.Before) {
		cur.Subject, cur.Before = r.Subject, r.Before
	}
	if r.Expires.After(cur.Expires) {
		cur.Expires = r.Expires
	}
	s.subjects[r.Subject] = cur
}

// Revoked reports whether a token is revoked by its id or its subject.
func (s *RevocationSet) Revoked(jti, subject string, issuedAt time.Time) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.tokens[jti]; ok {
		return true
	}
	if r, ok := s.subjects[subject]; ok && issuedAt.Before(r.Before) {
		return true
	}
	return false
}

// Sweep forgets entries whose tokens have all expired.
func (s *RevocationSet) Sweep() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for jti, exp := range s.tokens {
		if !exp.After(now) {
			delete(s.tokens, jti)
		}
	}
	for sub, r := range s.subjects {
		if !r.Expires.After(now) {
			delete(s.subjects, sub)
		}
	}
}

// Len is the number of entries, for metrics and tests.
func (s *RevocationSet) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tokens) + len(s.subjects)
}

// MarkSynced declares the set complete (Follow does it once it has replayed the
// stream); for a set filled some other way.
func (s *RevocationSet) MarkSynced() { s.once.Do(func() { close(s.synced) }) }

// Synced reports whether the set has caught up.
func (s *RevocationSet) Synced() bool {
	select {
	case <-s.synced:
		return true
	default:
		return false
	}
}

// WaitSynced waits until the set has caught up or ctx ends.
func (s *RevocationSet) WaitSynced(ctx context.Context) error {
	select {
	case <-s.synced:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tokens: waiting for the revocation feed: %w", ctx.Err())
	}
}

// Apply decodes one feed message into the set.
func (s *RevocationSet) Apply(data []byte) error {
	var env eventsv1.Envelope
	if err := proto.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("tokens: revocation: %w", err)
	}
	msg, err := env.GetPayload().UnmarshalNew()
	if err != nil {
		return fmt.Errorf("tokens: revocation: %w", err)
	}
	switch m := msg.(type) {
	case *eventsv1.TokenRevoked:
		s.RevokeToken(RevokedToken{JTI: m.GetJti(), Expires: m.GetExpiresAt().AsTime()})
	case *eventsv1.SubjectTokensRevoked:
		s.RevokeSubject(RevokedSubject{Subject: m.GetSubject(), Before: m.GetIssuedBefore().AsTime(), Expires: m.GetExpiresAt().AsTime()})
	default:
		return fmt.Errorf("tokens: revocation: unexpected %s", env.GetType())
	}
	return nil
}

// Follow keeps the set up to date from the feed until ctx ends: it replays the
// stream from its start (what it holds is exactly what may still matter), marks
// the set synced once it has caught up, then applies new revocations as they come.
// It waits for the stream to exist (auth creates it) and resumes after NATS
// outages; onError, which may be nil, hears of problems.
func (s *RevocationSet) Follow(ctx context.Context, js jetstream.JetStream, feed Feed, onError func(error)) error {
	report := func(err error) {
		if onError != nil && ctx.Err() == nil {
			onError(err)
		}
	}
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for ctx.Err() == nil {
		err := s.follow(ctx, js, feed, sweep.C)
		if err != nil {
			report(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (s *RevocationSet) follow(ctx context.Context, js jetstream.JetStream, feed Feed, sweep <-chan time.Time) error {
	stream, err := js.Stream(ctx, feed.Stream)
	if err != nil {
		return fmt.Errorf("tokens: revocation stream %s: %w", feed.Stream, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("tokens: revocation stream %s: %w", feed.Stream, err)
	}
	last := info.State.LastSeq
	// An ordered consumer: ephemeral, in order, recreated by the client after a
	// gap; exactly a replay-then-follow reader.
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{feed.Subject + ".>"},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("tokens: revocation consumer: %w", err)
	}
	if ci, err := cons.Info(ctx); err == nil && ci.NumPending == 0 {
		s.MarkSynced()
	}
	msgs, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("tokens: revocation consumer: %w", err)
	}
	defer msgs.Stop()
	next := make(chan jetstream.Msg)
	errs := make(chan error, 1)
	go func() {
		for {
			m, err := msgs.Next()
			if err != nil {
				errs <- err
				return
			}
			select {
			case next <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return fmt.Errorf("tokens: revocation feed: %w", err)
		case <-sweep:
			s.Sweep()
		case m := <-next:
			// A message we cannot read is skipped: stopping would freeze the set.
			_ = s.Apply(m.Data())
			if md, err := m.Metadata(); err == nil && md.Sequence.Stream >= last {
				s.MarkSynced()
			}
		}
	}
}
