package idempotency_test

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/andes-bank/andes/platform/idempotency"
	"github.com/andes-bank/andes/platform/outbox"
	"github.com/andes-bank/andes/platform/postgres"
)

// coreBank is the downstream the example's service calls; the consumer declares it.
type coreBank interface {
	Transfer(ctx context.Context, operationID string, amountMinor int64) (confirmation []byte, err error)
}

// transfer shows the atomic phases of a write that calls another service: claim the
// key, call downstream with this service's own operation id, then commit the
// business change, the event and the stored response in one transaction.
func transfer(ctx context.Context, pool *pgxpool.Pool, keys *idempotency.Store, core coreBank,
	caller idempotency.Scope, key string, request []byte, amountMinor int64,
) (idempotency.Response, error) {
	out, err := keys.Begin(ctx, caller, key, idempotency.FingerprintOf(request))
	if err != nil {
		return idempotency.Response{}, err // ErrMismatch → 422, ErrInProgress → 409 + Retry-After
	}
	if out.Replay != nil {
		return *out.Replay, nil
	}
	lease := out.Lease

	confirmation, err := core.Transfer(ctx, lease.OperationID, amountMinor)
	// (A definitive refusal from the core would be stored with Complete like a
	// success, so that its retries replay it.)
	if err != nil {
		// The request may have reached the core: park the key for the reconciler,
		// which will ask the core about lease.OperationID.
		if perr := keys.MarkPending(context.WithoutCancel(ctx), pool, lease); perr != nil {
			err = errors.Join(err, perr)
		}
		return idempotency.Response{}, err
	}

	resp := idempotency.Response{Code: 0, Body: confirmation}
	err = postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE operations SET state = 'done' WHERE id = $1`, lease.OperationID); err != nil {
			return err
		}
		if err := outbox.Write(ctx, tx, outbox.Event{
			ID:         outbox.NewID(),
			Type:       "andes.events.v1.TransferCompleted",
			Subject:    "andes.events.transfers",
			Payload:    confirmation, // the andes.events.v1.Envelope bytes in a real service
			OccurredAt: time.Now(),
		}); err != nil {
			return err
		}
		return keys.Complete(ctx, tx, lease, resp)
	})
	return resp, err
}

func Example() {
	// A service wires the store once, after migrating its schema:
	//
	//	pool, _ := postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL, Schema: "controller"})
	//	_ = postgres.Migrate(ctx, pool, "controller", migrations, idempotency.Migrations(), outbox.Migrations())
	//	keys := idempotency.New(pool, idempotency.Options{})
	//
	// and runs each write through a function shaped like transfer above.
	_ = transfer
}
