// Package grpcapi is card administration over gRPC (andes.authorizer.v1): protos in,
// use cases called, protos out, errors mapped once (errors.go). Writes that create
// or move something run once per idempotency key, and their first answer is
// replayed.
package grpcapi

import (
	"context"
	"encoding/base64"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	authorizerv1 "github.com/andes-bank/andes/gen/andes/authorizer/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/authorizer/app"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// Idempotent runs a write once per key and replays its stored answer.
type Idempotent interface {
	Do(ctx context.Context, caller, subject, key string, request []byte, work func(ctx context.Context) ([]byte, error)) ([]byte, bool, error)
}

// Server implements andes.authorizer.v1.AuthorizerService.
type Server struct {
	authorizerv1.UnimplementedAuthorizerServiceServer
	cards *app.Cards
	idem  Idempotent
	// caller names the calling process (the mTLS identity); tests may replace it.
	caller func(ctx context.Context) (string, error)
}

// New builds the port.
func New(cards *app.Cards, idem Idempotent) (*Server, error) {
	return &Server{cards: cards, idem: idem, caller: server.CallerName}, nil
}

var _ authorizerv1.AuthorizerServiceServer = (*Server)(nil)

// once runs an idempotent write: work returns the response to send and the one to
// store (the same but for secrets shown only once).
func (s *Server) once(ctx context.Context, key string, req proto.Message, resp proto.Message,
	work func(ctx context.Context) (send, store proto.Message, err error),
) error {
	caller, err := s.caller(ctx)
	if err != nil {
		return err
	}
	request, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return err
	}
	var sent proto.Message
	body, replayed, err := s.idem.Do(ctx, caller, "", key, request, func(ctx context.Context) ([]byte, error) {
		send, store, err := work(ctx)
		if err != nil {
			return nil, err
		}
		sent = send
		return proto.MarshalOptions{Deterministic: true}.Marshal(store)
	})
	if err != nil {
		return toStatus(err)
	}
	if !replayed && sent != nil {
		proto.Merge(resp, sent)
		return nil
	}
	return proto.Unmarshal(body, resp)
}

// OpenCardAccount opens a card account.
func (s *Server) OpenCardAccount(ctx context.Context, req *authorizerv1.OpenCardAccountRequest) (*authorizerv1.OpenCardAccountResponse, error) {
	resp := &authorizerv1.OpenCardAccountResponse{}
	err := s.once(ctx, req.GetIdempotencyKey(), req, resp, func(ctx context.Context) (proto.Message, proto.Message, error) {
		a, err := s.cards.OpenAccount(ctx, req.GetCustomerId(), req.GetCurrency())
		if err != nil {
			return nil, nil, err
		}
		out := &authorizerv1.OpenCardAccountResponse{CardAccount: accountProto(a)}
		return out, out, nil
	})
	return resp, err
}

// IssueCard issues a card; the CVV2 is in the first answer only.
func (s *Server) IssueCard(ctx context.Context, req *authorizerv1.IssueCardRequest) (*authorizerv1.IssueCardResponse, error) {
	resp := &authorizerv1.IssueCardResponse{}
	err := s.once(ctx, req.GetIdempotencyKey(), req, resp, func(ctx context.Context) (proto.Message, proto.Message, error) {
		r := app.IssueRequest{AccountID: req.GetCardAccountId(), CardholderName: req.GetCardholderName(), OperationID: req.GetIdempotencyKey()}
		if req.GetLimits() != nil {
			l := limitsDomain(req.GetLimits())
			r.Limits = &l
		}
		if req.GetChannels() != nil {
			ch := channelsDomain(req.GetChannels())
			r.Channels = &ch
		}
		card, cvv2, err := s.cards.IssueCard(ctx, r)
		if err != nil {
			return nil, nil, err
		}
		acct, err := s.cards.Account(ctx, card.CardAccountID)
		if err != nil {
			return nil, nil, err
		}
		pc := cardProto(card, acct.Currency)
		return &authorizerv1.IssueCardResponse{Card: pc, Cvv2: cvv2}, &authorizerv1.IssueCardResponse{Card: pc}, nil
	})
	return resp, err
}

// GetCard returns a card.
func (s *Server) GetCard(ctx context.Context, req *authorizerv1.GetCardRequest) (*authorizerv1.GetCardResponse, error) {
	c, err := s.cardProto(ctx, req.GetCardId())
	if err != nil {
		return nil, err
	}
	return &authorizerv1.GetCardResponse{Card: c}, nil
}

func (s *Server) cardProto(ctx context.Context, id string) (*authorizerv1.Card, error) {
	c, err := s.cards.Card(ctx, id)
	if err != nil {
		return nil, toStatus(err)
	}
	return s.withCurrency(ctx, c)
}

func (s *Server) withCurrency(ctx context.Context, c domain.Card) (*authorizerv1.Card, error) {
	a, err := s.cards.Account(ctx, c.CardAccountID)
	if err != nil {
		return nil, toStatus(err)
	}
	return cardProto(c, a.Currency), nil
}

// ListCards pages through cards.
func (s *Server) ListCards(ctx context.Context, req *authorizerv1.ListCardsRequest) (*authorizerv1.ListCardsResponse, error) {
	size := pageSize(req.GetPageSize(), 50, 100)
	after, err := decodeToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	cards, err := s.cards.ListCards(ctx, req.GetCustomerId(), req.GetCardAccountId(), after, size+1)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &authorizerv1.ListCardsResponse{}
	if len(cards) > size {
		cards = cards[:size]
		resp.NextPageToken = encodeToken(cards[size-1].ID)
	}
	currencies := map[string]string{}
	for _, c := range cards {
		cur, ok := currencies[c.CardAccountID]
		if !ok {
			a, err := s.cards.Account(ctx, c.CardAccountID)
			if err != nil {
				return nil, toStatus(err)
			}
			cur, currencies[c.CardAccountID] = a.Currency, a.Currency
		}
		resp.Cards = append(resp.Cards, cardProto(c, cur))
	}
	return resp, nil
}

// SetPin sets a card's PIN from an encrypted PIN block.
func (s *Server) SetPin(ctx context.Context, req *authorizerv1.SetPinRequest) (*authorizerv1.SetPinResponse, error) {
	resp := &authorizerv1.SetPinResponse{}
	err := s.once(ctx, req.GetIdempotencyKey(), req, resp, func(ctx context.Context) (proto.Message, proto.Message, error) {
		c, err := s.cards.SetPIN(ctx, req.GetCardId(), req.GetEncryptedPinBlock())
		if err != nil {
			return nil, nil, err
		}
		pc, err := s.withCurrency(ctx, c)
		if err != nil {
			return nil, nil, err
		}
		out := &authorizerv1.SetPinResponse{Card: pc}
		return out, out, nil
	})
	return resp, err
}

// BlockCard blocks a card.
func (s *Server) BlockCard(ctx context.Context, req *authorizerv1.BlockCardRequest) (*authorizerv1.BlockCardResponse, error) {
	c, err := s.cards.Block(ctx, req.GetCardId(), req.GetReason())
	if err != nil {
		return nil, toStatus(err)
	}
	pc, err := s.withCurrency(ctx, c)
	return &authorizerv1.BlockCardResponse{Card: pc}, err
}

// UnblockCard unblocks a card.
func (s *Server) UnblockCard(ctx context.Context, req *authorizerv1.UnblockCardRequest) (*authorizerv1.UnblockCardResponse, error) {
	c, err := s.cards.Unblock(ctx, req.GetCardId())
	if err != nil {
		return nil, toStatus(err)
	}
	pc, err := s.withCurrency(ctx, c)
	return &authorizerv1.UnblockCardResponse{Card: pc}, err
}

// ReportCardLost reports a card lost or stolen.
func (s *Server) ReportCardLost(ctx context.Context, req *authorizerv1.ReportCardLostRequest) (*authorizerv1.ReportCardLostResponse, error) {
	c, err := s.cards.ReportLost(ctx, req.GetCardId(), req.GetStolen())
	if err != nil {
		return nil, toStatus(err)
	}
	pc, err := s.withCurrency(ctx, c)
	return &authorizerv1.ReportCardLostResponse{Card: pc}, err
}

// SetCardLimits replaces a card's limits.
func (s *Server) SetCardLimits(ctx context.Context, req *authorizerv1.SetCardLimitsRequest) (*authorizerv1.SetCardLimitsResponse, error) {
	card, err := s.cards.Card(ctx, req.GetCardId())
	if err != nil {
		return nil, toStatus(err)
	}
	acct, err := s.cards.Account(ctx, card.CardAccountID)
	if err != nil {
		return nil, toStatus(err)
	}
	for _, m := range []*moneyv1.Money{req.GetLimits().GetPerTransaction(), req.GetLimits().GetRolling_30Days()} {
		if m != nil && m.GetAmountMinor() != 0 && m.GetCurrency() != acct.Currency {
			return nil, toStatus(domain.ErrCurrency)
		}
	}
	c, err := s.cards.SetLimits(ctx, req.GetCardId(), limitsDomain(req.GetLimits()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &authorizerv1.SetCardLimitsResponse{Card: cardProto(c, acct.Currency)}, nil
}

// SetCardChannels replaces a card's channels.
func (s *Server) SetCardChannels(ctx context.Context, req *authorizerv1.SetCardChannelsRequest) (*authorizerv1.SetCardChannelsResponse, error) {
	c, err := s.cards.SetChannels(ctx, req.GetCardId(), channelsDomain(req.GetChannels()))
	if err != nil {
		return nil, toStatus(err)
	}
	pc, err := s.withCurrency(ctx, c)
	return &authorizerv1.SetCardChannelsResponse{Card: pc}, err
}

// FundCardAccount credits a card account from program funding.
func (s *Server) FundCardAccount(ctx context.Context, req *authorizerv1.FundCardAccountRequest) (*authorizerv1.FundCardAccountResponse, error) {
	resp := &authorizerv1.FundCardAccountResponse{}
	err := s.once(ctx, req.GetIdempotencyKey(), req, resp, func(ctx context.Context) (proto.Message, proto.Message, error) {
		a, postingID, err := s.cards.Fund(ctx, req.GetCardAccountId(), req.GetAmount().GetAmountMinor(), req.GetAmount().GetCurrency(),
			req.GetFundingReference(), req.GetIdempotencyKey())
		if err != nil {
			return nil, nil, err
		}
		out := &authorizerv1.FundCardAccountResponse{CardAccount: accountProto(a), PostingId: postingID}
		return out, out, nil
	})
	return resp, err
}

// GetCardAccount returns a card account with its balances.
func (s *Server) GetCardAccount(ctx context.Context, req *authorizerv1.GetCardAccountRequest) (*authorizerv1.GetCardAccountResponse, error) {
	a, err := s.cards.Account(ctx, req.GetCardAccountId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &authorizerv1.GetCardAccountResponse{CardAccount: accountProto(a)}, nil
}

// ListAuthorizations pages through decisions, newest first.
func (s *Server) ListAuthorizations(ctx context.Context, req *authorizerv1.ListAuthorizationsRequest) (*authorizerv1.ListAuthorizationsResponse, error) {
	size := pageSize(req.GetPageSize(), 50, 200)
	after, err := decodeToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	var since time.Time
	if req.GetSince() != nil {
		since = req.GetSince().AsTime()
	}
	list, err := s.cards.ListAuthorizations(ctx, req.GetCardId(), req.GetCardAccountId(), since, after, size+1)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &authorizerv1.ListAuthorizationsResponse{}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = encodeToken(list[size-1].ID)
	}
	for _, a := range list {
		resp.Authorizations = append(resp.Authorizations, authorizationProto(a))
	}
	return resp, nil
}

func pageSize(asked int32, def, most int) int {
	switch {
	case asked <= 0:
		return def
	case int(asked) > most:
		return most
	}
	return int(asked)
}

func encodeToken(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeToken(t string) (string, error) {
	if t == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) != 36 {
		return "", errorDomain.InvalidField("page_token", "not a token this service issued")
	}
	return string(b), nil
}

func money(amount int64, currency string) *moneyv1.Money {
	return &moneyv1.Money{AmountMinor: amount, Currency: currency}
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func accountProto(a domain.CardAccount) *authorizerv1.CardAccount {
	status := authorizerv1.CardAccountStatus_CARD_ACCOUNT_STATUS_ACTIVE
	switch a.Status {
	case domain.AccountBlocked:
		status = authorizerv1.CardAccountStatus_CARD_ACCOUNT_STATUS_BLOCKED
	case domain.AccountClosed:
		status = authorizerv1.CardAccountStatus_CARD_ACCOUNT_STATUS_CLOSED
	}
	return &authorizerv1.CardAccount{
		CardAccountId: a.ID, CustomerId: a.CustomerID, Currency: a.Currency, Status: status,
		LedgerBalance: money(a.Ledger, a.Currency), AvailableBalance: money(a.Available, a.Currency),
		Held: money(a.Held, a.Currency), OpenedAt: ts(a.OpenedAt), UpdatedAt: ts(a.UpdatedAt),
	}
}

func cardProto(c domain.Card, currency string) *authorizerv1.Card {
	expiry := ""
	if len(c.Expiry) == 4 {
		expiry = "20" + c.Expiry[:2] + "-" + c.Expiry[2:]
	}
	return &authorizerv1.Card{
		CardId: c.ID, CardAccountId: c.CardAccountID, CustomerId: c.CustomerID, MaskedPan: c.MaskedPAN(),
		ExpiryMonth: expiry, CardholderName: c.CardholderName, Status: statusProto(c.Status), PinSet: c.PINSet,
		Limits: &authorizerv1.CardLimits{
			PerTransaction: money(c.Limits.PerTransaction, currency), Rolling_30Days: money(c.Limits.Rolling30Days, currency),
			DailyAtmCount: c.Limits.DailyATMCount,
		},
		Channels: &authorizerv1.CardChannels{
			PosEnabled: c.Channels.POS, EcommerceEnabled: c.Channels.ECommerce, AtmEnabled: c.Channels.ATM,
			InternationalEnabled: c.Channels.International, BlockedMccs: c.Channels.BlockedMCCs,
		},
		IssuedAt: ts(c.IssuedAt), StatusChangedAt: ts(c.StatusChangedAt),
	}
}

func statusProto(s domain.CardStatus) authorizerv1.CardStatus {
	switch s {
	case domain.CardInactive:
		return authorizerv1.CardStatus_CARD_STATUS_INACTIVE
	case domain.CardActive:
		return authorizerv1.CardStatus_CARD_STATUS_ACTIVE
	case domain.CardBlocked:
		return authorizerv1.CardStatus_CARD_STATUS_BLOCKED
	case domain.CardLost:
		return authorizerv1.CardStatus_CARD_STATUS_LOST
	case domain.CardExpired:
		return authorizerv1.CardStatus_CARD_STATUS_EXPIRED
	case domain.CardClosed:
		return authorizerv1.CardStatus_CARD_STATUS_CLOSED
	}
	return authorizerv1.CardStatus_CARD_STATUS_UNSPECIFIED
}

func limitsDomain(l *authorizerv1.CardLimits) domain.Limits {
	return domain.Limits{
		PerTransaction: l.GetPerTransaction().GetAmountMinor(),
		Rolling30Days:  l.GetRolling_30Days().GetAmountMinor(),
		DailyATMCount:  l.GetDailyAtmCount(),
	}
}

func channelsDomain(c *authorizerv1.CardChannels) domain.Channels {
	return domain.Channels{
		POS: c.GetPosEnabled(), ECommerce: c.GetEcommerceEnabled(), ATM: c.GetAtmEnabled(),
		International: c.GetInternationalEnabled(), BlockedMCCs: c.GetBlockedMccs(),
	}
}

func authorizationProto(a domain.Authorization) *authorizerv1.Authorization {
	txnCurrency := a.TransactionCurrency
	if c, ok := domain.CurrencyByNumeric(txnCurrency); ok {
		txnCurrency = c.Alpha
	}
	return &authorizerv1.Authorization{
		AuthorizationId: a.ID, CardId: a.CardID, CardAccountId: a.CardAccountID,
		MessageClass:         authorizerv1.MessageClass(a.Class),
		NetworkTransactionId: a.NetworkTransactionID, RetrievalReference: a.RRN,
		Decision: authorizerv1.Decision(a.Decision), DeclineReason: authorizerv1.DeclineReason(a.DeclineReason),
		ResponseCode:    a.ResponseCode,
		RequestedAmount: money(a.RequestedAmount, a.Currency), ApprovedAmount: money(a.ApprovedAmount, a.Currency),
		TransactionAmount: money(a.TransactionAmount, txnCurrency),
		Merchant:          &authorizerv1.Merchant{MerchantId: a.MerchantID, Name: a.MerchantName, Mcc: a.MCC, Country: a.MerchantCountry},
		HoldStatus:        authorizerv1.HoldStatus(a.HoldStatus), HeldAmount: money(a.HeldAmount, a.Currency),
		TransmittedAt: ts(transmitted(a.Transmitted, a.DecidedAt)), DecidedAt: ts(a.DecidedAt),
	}
}

// transmitted turns DE7 (MMDDhhmmss, UTC, no year) into a time, taking the year
// that puts it nearest the decision.
func transmitted(de7 string, decided time.Time) time.Time {
	t, err := time.Parse("0102150405", de7)
	if err != nil || decided.IsZero() {
		return time.Time{}
	}
	best := time.Time{}
	for _, y := range []int{decided.Year() - 1, decided.Year(), decided.Year() + 1} {
		c := time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
		if best.IsZero() || absDur(c.Sub(decided)) < absDur(best.Sub(decided)) {
			best = c
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
