-- The transactional outbox of one service, in that service's schema (see package outbox).

-- +goose Up
CREATE TABLE outbox (
    -- Allocation order, which is not commit order; the relay's ordering argument is
    -- in the package documentation.
    seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           text        NOT NULL UNIQUE,  -- the envelope's event id; Nats-Msg-Id
    event_type   text        NOT NULL,
    subject      text        NOT NULL,         -- the NATS subject it is published on
    payload      bytea       NOT NULL,         -- andes.events.v1.Envelope bytes
    headers      jsonb       NOT NULL DEFAULT '{}',
    occurred_at  timestamptz NOT NULL,
    published_at timestamptz
);

-- The relay reads only what is left to publish; the index stays as small as the backlog.
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- +goose Down
DROP TABLE outbox;
