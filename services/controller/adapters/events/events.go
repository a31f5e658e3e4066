// Package events builds the controller's events (andes.events.v1) in their
// envelope, for the outbox: TransferCompleted, TransferFailed and
// CashMovementCompleted, on subjects <prefix><name>
// (andes.events.controller.transfer_completed, ...).
package events

import (
	"time"

	"github.com/google/uuid"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	errorsv1 "github.com/andes-bank/andes/gen/andes/errors/v1"
	eventsv1 "github.com/andes-bank/andes/gen/andes/events/v1"
	moneyv1 "github.com/andes-bank/andes/gen/andes/money/v1"
	"github.com/andes-bank/andes/services/controller/app"
	"github.com/andes-bank/andes/services/controller/domain"
)

// Factory builds events. Prefix starts their NATS subjects
// ("andes.events.controller."); Reason maps a FAILED operation's wire reason to
// its enum.
type Factory struct {
	Prefix string
	Reason func(string) errorsv1.Reason
}

var _ app.EventFactory = Factory{}

func money(m domain.Money) *moneyv1.Money {
	return &moneyv1.Money{AmountMinor: m.Minor, Currency: m.Currency}
}

func at(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Events implements app.EventFactory.
func (f Factory) Events(op *domain.Operation) ([]app.Event, error) {
	subjects := map[string]string{"operation_id": op.ID, "customer_id": op.CustomerID}
	var (
		payload proto.Message
		name    string
	)
	switch {
	case op.Status == domain.StatusFailed && op.Type == domain.TypeTransfer:
		payload, name = &eventsv1.TransferFailed{OperationId: op.ID, CustomerId: op.CustomerID, Amount: money(op.Amount),
			Reason: f.Reason(op.FailureReason)}, "transfer_failed"
	case op.Status == domain.StatusFailed:
		// A failed cash operation moved nothing and has no event of its own in
		// andes.events.v1; its record says why.
		return nil, nil
	case op.Type == domain.TypeTransfer:
		subjects["account_id"] = op.SourceAccountID
		payload, name = &eventsv1.TransferCompleted{OperationId: op.ID, CustomerId: op.CustomerID, SourceAccountId: op.SourceAccountID,
			DestinationAccountNumber: op.DestinationAccountNumber, DestinationCustomerId: op.DestinationCustomerID,
			Amount: money(op.Amount), Description: op.Description, CoreTransactionId: op.CoreTransactionID,
			PostedAt: at(op.ResolvedAt)}, "transfer_completed"
	default:
		dir := eventsv1.CashDirection_CASH_DIRECTION_IN
		if op.Type == domain.TypeCashOut {
			dir = eventsv1.CashDirection_CASH_DIRECTION_OUT
		}
		subjects["account_id"], subjects["partner_id"] = op.AccountID, op.AgentPartnerID
		payload, name = &eventsv1.CashMovementCompleted{OperationId: op.ID, Direction: dir, CustomerId: op.CustomerID,
			AccountId: op.AccountID, AgentPartnerId: op.AgentPartnerID, Amount: money(op.Amount), AgentReference: op.AgentReference,
			CoreTransactionId: op.CoreTransactionID, PostedAt: at(op.ResolvedAt)}, "cash_movement_completed"
	}
	any, err := anypb.New(payload)
	if err != nil {
		return nil, err
	}
	// UUIDv7, as the envelope asks: time-ordered ids keep the outbox index compact.
	id := uuid.Must(uuid.NewV7()).String()
	typ := string(payload.ProtoReflect().Descriptor().FullName())
	env := &eventsv1.Envelope{EventId: id, Type: typ, SchemaVersion: 1, OccurredAt: timestamppb.New(op.ResolvedAt),
		Source: "controller", SubjectIds: subjects, IdempotencyKey: op.ID, Payload: any}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(env)
	if err != nil {
		return nil, err
	}
	return []app.Event{{ID: id, Type: typ, Subject: f.Prefix + name, Payload: b, OccurredAt: op.ResolvedAt}}, nil
}
