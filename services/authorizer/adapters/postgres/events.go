package postgres

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	authorizerv1 "github.com/andes-bank/andes/gen/andes/authorizer/v1"
	eventsv1 "github.com/andes-bank/andes/gen/andes/events/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/platform/outbox"
	"github.com/andes-bank/andes/services/authorizer/domain"
)

// Administration events, written with their change through platform/outbox. (The
// decision statements write theirs themselves; see eventParts.)

const subjectPrefix = "andes.events.authorizer."

func envelope(meta domain.EventMeta, subjectName string, subjects map[string]string, payload proto.Message) (outbox.Event, error) {
	any, err := anypb.New(payload)
	if err != nil {
		return outbox.Event{}, fmt.Errorf("postgres: event: %w", err)
	}
	name := string(payload.ProtoReflect().Descriptor().FullName())
	env := &eventsv1.Envelope{
		EventId: meta.ID, Type: name, SchemaVersion: 1, OccurredAt: timestamppb.New(meta.Now),
		Source: eventSource, SubjectIds: subjects, IdempotencyKey: meta.IdempotencyKey, Payload: any,
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(env)
	if err != nil {
		return outbox.Event{}, fmt.Errorf("postgres: event: %w", err)
	}
	return outbox.Event{ID: meta.ID, Type: name, Subject: subjectPrefix + subjectName, Payload: b, OccurredAt: meta.Now}, nil
}

func cardIssuedEvent(meta domain.EventMeta, c domain.Card) (outbox.Event, error) {
	return envelope(meta, "card_issued",
		map[string]string{"card_id": c.ID, "card_account_id": c.CardAccountID, "customer_id": c.CustomerID},
		&eventsv1.CardIssued{CardId: c.ID, CardAccountId: c.CardAccountID, CustomerId: c.CustomerID, PanLast4: c.Last4, IssuedAt: timestamppb.New(c.IssuedAt)})
}

func cardStatusEvent(meta domain.EventMeta, before domain.CardStatus, c domain.Card) (outbox.Event, error) {
	return envelope(meta, "card_status_changed",
		map[string]string{"card_id": c.ID, "customer_id": c.CustomerID},
		&eventsv1.CardStatusChanged{CardId: c.ID, CustomerId: c.CustomerID, PreviousStatus: CardStatusProto(before),
			Status: CardStatusProto(c.Status), ChangedAt: timestamppb.New(meta.Now)})
}

func fundedEvent(meta domain.EventMeta, a domain.CardAccount, amount int64, reference, postingID string) (outbox.Event, error) {
	return envelope(meta, "card_account_funded",
		map[string]string{"card_account_id": a.ID, "customer_id": a.CustomerID},
		&eventsv1.CardAccountFunded{CardAccountId: a.ID, CustomerId: a.CustomerID,
			Amount:           &moneyv1.Money{AmountMinor: amount, Currency: a.Currency},
			BalanceAfter:     &moneyv1.Money{AmountMinor: a.Ledger, Currency: a.Currency},
			FundingReference: reference, PostingId: postingID})
}

// CardStatusProto maps a card status to its enum value.
func CardStatusProto(s domain.CardStatus) authorizerv1.CardStatus {
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
