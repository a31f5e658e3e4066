// Package redisstore keeps auth's short-lived state in Redis: authorization codes,
// refresh-token families, revoked token ids and the queue of revocation events
// (TokenStore), and the login throttle (Throttle).
//
// Tokens are never stored in the clear: records are keyed by the SHA-256 of the
// code or refresh token, and the records themselves hold neither. Access tokens are
// JWTs and are not stored at all, except the ids (jti) of those issued under a
// refresh family, so that revoking the family revokes them too.
package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/andes-bank/andes/platform/redisconn"
	"github.com/andes-bank/andes/services/auth/app"
)

// ErrFamilyRevoked is returned by Create when tokens would join a family (or a
// subject) revoked meanwhile: a reused code raced the first redemption.
var ErrFamilyRevoked = fmt.Errorf("redisstore: %w", app.ErrGrantRevoked)

// Reuse describes a detected replay of a code or refresh token, for the audit.
type Reuse struct {
	Kind     string // "code" or "refresh_token"
	FamilyID string
	ClientID string
	Subject  string
	Revoked  int // access tokens revoked with the family
}

// Options configure a TokenStore.
type Options struct {
	// FamilyLifetime bounds a grant: the refresh token's absolute lifetime. The
	// tombstones of rotated refresh tokens live as long, so reuse is caught for as
	// long as the token could have been used.
	FamilyLifetime time.Duration
	// MaxAccessLifetime is the longest access-token lifetime, how long a
	// subject-wide revocation must be announced for.
	MaxAccessLifetime time.Duration
	// CodeReuseWindow is how long a redeemed code is remembered, so that a second
	// redemption revokes what the first obtained; default 15 minutes, far beyond a
	// code's life, which is when a stolen code races its rightful client.
	CodeReuseWindow time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// OnReuse is told of every detected reuse (after the family is revoked).
	OnReuse func(ctx context.Context, r Reuse)
}

// TokenStore implements go-oauth2's oauth2.TokenStore on go-redis v9, hardened:
// codes are redeemed once even under a race (GETDEL in a script), a reused code
// revokes what it issued, refresh tokens rotate into tombstones so a reused one
// revokes its family, and a refresh token is only usable by its own client.
type TokenStore struct {
	rdb  *redisconn.Client
	opts Options
}

var _ oauth2.TokenStore = (*TokenStore)(nil)

// NewTokenStore returns a store on rdb, whose prefix scopes every key.
func NewTokenStore(rdb *redisconn.Client, opts Options) *TokenStore {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FamilyLifetime <= 0 {
		opts.FamilyLifetime = 30 * 24 * time.Hour
	}
	if opts.MaxAccessLifetime <= 0 {
		opts.MaxAccessLifetime = time.Hour
	}
	if opts.CodeReuseWindow <= 0 {
		opts.CodeReuseWindow = 15 * time.Minute
	}
	return &TokenStore{rdb: rdb, opts: opts}
}

func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *TokenStore) codeKey(code string) string { return s.rdb.Key("code", digest(code)) }
func (s *TokenStore) usedKey(code string) string { return s.rdb.Key("code-used", digest(code)) }
func (s *TokenStore) refreshKey(rt string) string {
	return s.rdb.Key("rt", digest(rt))
}
func (s *TokenStore) revocationList() string { return s.rdb.Key("revocations") }

// record is a token's data as stored: no code, no refresh token, no access token.
func record(ti oauth2.TokenInfo) ([]byte, error) {
	t, ok := ti.(*models.Token)
	if !ok {
		return nil, fmt.Errorf("redisstore: unexpected token type %T", ti)
	}
	c := *t
	c.Code, c.Access, c.Refresh = "", "", ""
	return json.Marshal(&c)
}

func parseRecord(raw string) (*models.Token, error) {
	t := models.NewToken()
	if err := json.Unmarshal([]byte(raw), t); err != nil {
		return nil, fmt.Errorf("redisstore: corrupt record: %w", err)
	}
	return t, nil
}

func extension(ti oauth2.TokenInfo) map[string][]string {
	if e, ok := ti.(oauth2.ExtendableTokenInfo); ok {
		return e.GetExtension()
	}
	return nil
}

func ext(ti oauth2.TokenInfo, key string) string {
	if v := extension(ti)[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// familyEnd is when a family's grant ends (Unix ms), from its start.
func (s *TokenStore) familyEnd(ti oauth2.TokenInfo) (start, end int64, err error) {
	start, err = strconv.ParseInt(ext(ti, app.ExtFamilyCreated), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("redisstore: token without family start")
	}
	return start, start + s.opts.FamilyLifetime.Milliseconds(), nil
}

// Create stores a new code, or records the tokens of a grant. Client-credentials
// tokens belong to no family and cost no Redis round trip at all.
func (s *TokenStore) Create(ctx context.Context, ti oauth2.TokenInfo) error {
	if code := ti.GetCode(); code != "" {
		if ext(ti, app.ExtFamily) == "" {
			return errors.New("redisstore: code without a family")
		}
		rec, err := record(ti)
		if err != nil {
			return err
		}
		return s.rdb.Set(ctx, s.codeKey(code), rec, ti.GetCodeExpiresIn()).Err()
	}
	fam := ext(ti, app.ExtFamily)
	if fam == "" {
		return nil
	}
	start, end, err := s.familyEnd(ti)
	if err != nil {
		return err
	}
	jti, exp := ext(ti, app.ExtJTI), ext(ti, app.ExtExpires)
	if jti == "" || exp == "" {
		return errors.New("redisstore: access token without jti")
	}
	refresh, refreshKey, rec := "0", s.rdb.Key("rt", "none"), []byte{}
	refreshEnd := end
	if rt := ti.GetRefresh(); rt != "" {
		refresh, refreshKey = "1", s.refreshKey(rt)
		if rec, err = record(ti); err != nil {
			return err
		}
		if e := ti.GetRefreshCreateAt().Add(ti.GetRefreshExpiresIn()).UnixMilli(); ti.GetRefreshExpiresIn() > 0 && e < refreshEnd {
			refreshEnd = e
		}
	}
	ok, err := issueScript.Run(ctx, s.rdb,
		[]string{s.rdb.Key("fam", fam, "revoked"), s.rdb.Key("fam", fam, "jti"), s.rdb.Key("sub", ti.GetUserID(), "rb"), refreshKey},
		jti, exp, end, start, refresh, ti.GetClientID(), fam, ti.GetUserID(), rec, refreshEnd).Int()
	if err != nil {
		return fmt.Errorf("redisstore: issue: %w", err)
	}
	if ok != 1 {
		return ErrFamilyRevoked
	}
	if dev := ext(ti, app.ExtDevice); dev != "" {
		// Remembered so that revoking the device revokes what it obtained.
		key := s.rdb.Key("dev", dev, "fam")
		pipe := s.rdb.Pipeline()
		pipe.SAdd(ctx, key, fam)
		pipe.PExpire(ctx, key, s.opts.FamilyLifetime)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("redisstore: device grants: %w", err)
		}
	}
	return nil
}

// RevokeDevice revokes every grant a device's logins started; it returns how many
// access tokens that revoked.
func (s *TokenStore) RevokeDevice(ctx context.Context, deviceID string) (int, error) {
	fams, err := s.rdb.SMembers(ctx, s.rdb.Key("dev", deviceID, "fam")).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: device grants: %w", err)
	}
	end := s.opts.Now().Add(s.opts.FamilyLifetime).UnixMilli()
	total := 0
	for _, fam := range fams {
		n, err := revokeFamilyScript.Run(ctx, s.rdb, nil, s.rdb.Prefix(), fam, s.opts.Now().Unix(), end, s.revocationList()).Int()
		if err != nil {
			return total, fmt.Errorf("redisstore: revoke family: %w", err)
		}
		total += n
	}
	return total, nil
}

// GetByCode redeems a code: the first call returns it and no later call ever does.
// A later call is reuse: it revokes every token the code produced and returns nil,
// which go-oauth2 answers as invalid_grant.
func (s *TokenStore) GetByCode(ctx context.Context, code string) (oauth2.TokenInfo, error) {
	if code == "" {
		return nil, nil
	}
	res, err := takeCodeScript.Run(ctx, s.rdb, []string{s.codeKey(code), s.usedKey(code)}, s.opts.CodeReuseWindow.Milliseconds()).Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: redeem code: %w", err)
	}
	state, _ := res[0].(int64)
	raw, _ := res[1].(string)
	switch state {
	case 1:
		t, err := parseRecord(raw)
		if err != nil {
			return nil, err
		}
		t.Code = code
		return t, nil
	case 2:
		t, err := parseRecord(raw)
		if err != nil {
			return nil, err
		}
		n, err := s.RevokeFamily(ctx, t)
		if err != nil {
			return nil, err
		}
		if s.opts.OnReuse != nil {
			s.opts.OnReuse(ctx, Reuse{Kind: "code", FamilyID: ext(t, app.ExtFamily), ClientID: t.ClientID, Subject: t.UserID, Revoked: n})
		}
	}
	return nil, nil
}

// RevokeFamily revokes every token of the grant ti belongs to; it returns how many
// live access tokens that revoked (0 when it was revoked already).
func (s *TokenStore) RevokeFamily(ctx context.Context, ti oauth2.TokenInfo) (int, error) {
	fam := ext(ti, app.ExtFamily)
	_, end, err := s.familyEnd(ti)
	if fam == "" || err != nil {
		return 0, errors.New("redisstore: token without family")
	}
	n, err := revokeFamilyScript.Run(ctx, s.rdb, nil, s.rdb.Prefix(), fam, s.opts.Now().Unix(), end, s.revocationList()).Int()
	if err != nil {
		return 0, fmt.Errorf("redisstore: revoke family: %w", err)
	}
	return n, nil
}

// RemoveByCode does nothing: GetByCode already consumed the code atomically, and
// the used record must stay to detect reuse.
func (s *TokenStore) RemoveByCode(context.Context, string) error { return nil }

// RemoveByAccess does nothing: access tokens are JWTs, revoked by jti (RevokeJTI).
func (s *TokenStore) RemoveByAccess(context.Context, string) error { return nil }

// RemoveByRefresh does nothing: a rotated refresh token stays as a tombstone so its
// reuse is recognized; GetByRefresh already turned it into one.
func (s *TokenStore) RemoveByRefresh(context.Context, string) error { return nil }

// GetByAccess returns nothing: access tokens are verified as JWTs, never looked up.
func (s *TokenStore) GetByAccess(context.Context, string) (oauth2.TokenInfo, error) { return nil, nil }

// GetByRefresh claims a refresh token for rotation by the client of the request's
// app.Exchange. Only a live token of that client is returned, once: a rotated one
// is reuse and revokes its family; another client's token is refused untouched.
// Within one request the claimed token is returned again, as go-oauth2 loads it
// more than once.
func (s *TokenStore) GetByRefresh(ctx context.Context, refresh string) (oauth2.TokenInfo, error) {
	x := app.ExchangeFrom(ctx)
	if refresh == "" || x == nil || x.ClientID == "" {
		// Outside an authenticated token request no one may rotate a token.
		return nil, nil
	}
	memo := "rt:" + digest(refresh)
	if v, ok := x.Recall(memo); ok {
		if v == nil {
			return nil, nil
		}
		return v.(*models.Token), nil
	}
	res, err := claimRefreshScript.Run(ctx, s.rdb, []string{s.refreshKey(refresh)},
		x.ClientID, s.rdb.Prefix(), s.opts.Now().Unix(), s.revocationList()).Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: claim refresh token: %w", err)
	}
	state, _ := res[0].(int64)
	var t *models.Token
	switch state {
	case 1:
		if t, err = parseRecord(res[1].(string)); err != nil {
			return nil, err
		}
		t.Refresh = refresh
	case 2:
		if s.opts.OnReuse != nil {
			r := Reuse{Kind: "refresh_token", FamilyID: res[1].(string), Subject: res[2].(string), ClientID: res[3].(string)}
			s.opts.OnReuse(ctx, r)
		}
	}
	if t == nil {
		x.Remember(memo, nil)
		return nil, nil
	}
	x.Remember(memo, t)
	return t, nil
}

// PeekRefresh reads a refresh token without rotating it; nil when unknown.
func (s *TokenStore) PeekRefresh(ctx context.Context, refresh string) (*app.RefreshState, error) {
	res, err := peekRefreshScript.Run(ctx, s.rdb, []string{s.refreshKey(refresh)}, s.rdb.Prefix()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: read refresh token: %w", err)
	}
	if len(res) == 0 {
		return nil, nil
	}
	st := &app.RefreshState{ClientID: res[1], FamilyID: res[2], Subject: res[3], Active: res[0] == "live" && res[5] == "0"}
	if res[4] != "" {
		t, err := parseRecord(res[4])
		if err != nil {
			return nil, err
		}
		st.Scope = t.Scope
		st.IssuedAt = t.RefreshCreateAt
		if t.RefreshExpiresIn > 0 {
			st.ExpiresAt = t.RefreshCreateAt.Add(t.RefreshExpiresIn)
		}
	}
	if !st.ExpiresAt.IsZero() && !s.opts.Now().Before(st.ExpiresAt) {
		st.Active = false
	}
	return st, nil
}

// RevokeRefresh revokes the family of a refresh token of clientID (RFC 7009).
// It reports false when the token is unknown or belongs to another client.
func (s *TokenStore) RevokeRefresh(ctx context.Context, refresh, clientID string) (bool, error) {
	info, err := s.PeekRefresh(ctx, refresh)
	if err != nil || info == nil || info.ClientID != clientID {
		return false, err
	}
	// A tombstone has no record left; its family's end is not needed exactly: the
	// longest a family can live is enough for the revoked marker.
	end := s.opts.Now().Add(s.opts.FamilyLifetime).UnixMilli()
	if _, err := revokeFamilyScript.Run(ctx, s.rdb, nil, s.rdb.Prefix(), info.FamilyID, s.opts.Now().Unix(), end, s.revocationList()).Int(); err != nil {
		return false, fmt.Errorf("redisstore: revoke family: %w", err)
	}
	return true, nil
}

// RevokeJTI revokes one access token until its expiry and queues the event for
// verifiers. It reports whether it was newly revoked.
func (s *TokenStore) RevokeJTI(ctx context.Context, jti string, expires time.Time) (bool, error) {
	if !expires.After(s.opts.Now()) {
		return false, nil
	}
	n, err := revokeJTIScript.Run(ctx, s.rdb, []string{s.rdb.Key("jti", jti), s.revocationList()}, jti, expires.Unix()).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: revoke token: %w", err)
	}
	return n == 1, nil
}

// RevokeSubject revokes every token of a subject issued until now: refresh
// families started before now stop rotating, and verifiers refuse access tokens
// issued before. It returns the revoked-before time in force.
func (s *TokenStore) RevokeSubject(ctx context.Context, subject string) (time.Time, error) {
	now := s.opts.Now()
	keep := max(s.opts.FamilyLifetime, s.opts.MaxAccessLifetime)
	ms, err := revokeSubjectScript.Run(ctx, s.rdb, []string{s.rdb.Key("sub", subject, "rb"), s.revocationList()},
		subject, now.UnixMilli(), keep.Milliseconds(), now.Add(s.opts.MaxAccessLifetime).Unix()).Int64()
	if err != nil {
		return time.Time{}, fmt.Errorf("redisstore: revoke subject: %w", err)
	}
	return time.UnixMilli(ms), nil
}

// Revoked reports whether an access token is revoked: by its jti, or by its
// subject's revoked-before time. One round trip.
func (s *TokenStore) Revoked(ctx context.Context, jti, subject string, issuedAt time.Time) (bool, error) {
	vals, err := s.rdb.MGet(ctx, s.rdb.Key("jti", jti), s.rdb.Key("sub", subject, "rb")).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: revoked: %w", err)
	}
	if vals[0] != nil {
		return true, nil
	}
	if rb, ok := vals[1].(string); ok {
		ms, _ := strconv.ParseInt(rb, 10, 64)
		// Access tokens carry iat to the millisecond, so a token issued just after
		// a "log out everywhere" is not caught by it.
		return issuedAt.UnixMilli() < ms, nil
	}
	return false, nil
}
