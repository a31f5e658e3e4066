-- Idempotency keys of one service, in that service's schema (see package idempotency).

-- +goose Up
CREATE TABLE idempotency_keys (
    caller        text        NOT NULL,  -- the calling identity (client id, SPIFFE name)
    subject       text        NOT NULL,  -- the end user the call acts for; '' for none
    key           text        NOT NULL,  -- the caller's idempotency key
    request_hash  bytea       NOT NULL,  -- SHA-256 of the request bytes
    status        text        NOT NULL CHECK (status IN ('in_progress', 'done', 'pending_outcome')),
    -- Stable for the key's whole life, even when a stale lease is taken over: the
    -- id this service passes downstream as its own idempotency key.
    operation_id  uuid        NOT NULL,
    -- The current holder's token; a worker whose lease was taken over cannot
    -- complete. NULL once done, or while a pending outcome waits for a reconciler.
    lease         uuid,
    response_code integer,
    response      bytea,
    created_at    timestamptz NOT NULL,
    locked_at     timestamptz,
    completed_at  timestamptz,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (caller, subject, key)
);

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
CREATE INDEX idempotency_keys_pending ON idempotency_keys (created_at) WHERE status = 'pending_outcome';

-- +goose Down
DROP TABLE idempotency_keys;
