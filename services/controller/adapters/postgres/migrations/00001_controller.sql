-- +goose Up
-- An operation's details travel as one JSON document; the columns beside it are
-- what queries select and order by.
CREATE TABLE operations (
    operation_id uuid PRIMARY KEY,
    customer_id  text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    created_at   timestamptz NOT NULL,
    resolved_at  timestamptz,
    data         jsonb       NOT NULL
);
CREATE INDEX operations_by_customer ON operations (customer_id, created_at DESC, operation_id DESC);

-- The money that left a customer's accounts on a business day, per currency: the
-- counter the daily limit reads, changed only by a guarded UPDATE (never a SUM).
CREATE TABLE daily_usage (
    customer_id   text   NOT NULL,
    currency      text   NOT NULL,
    business_date text   NOT NULL,
    used_minor    bigint NOT NULL CHECK (used_minor >= 0),
    PRIMARY KEY (customer_id, currency, business_date)
);

-- Accounts a customer has paid: payments to them need no step-up.
CREATE TABLE beneficiaries (
    customer_id        text        NOT NULL,
    account_number     text        NOT NULL,
    masked_holder_name text        NOT NULL,
    currency           text        NOT NULL,
    first_paid_at      timestamptz NOT NULL,
    last_paid_at       timestamptz NOT NULL,
    PRIMARY KEY (customer_id, account_number)
);
CREATE INDEX beneficiaries_recent ON beneficiaries (customer_id, last_paid_at DESC, account_number);

-- +goose Down
DROP TABLE beneficiaries;
DROP TABLE daily_usage;
DROP TABLE operations;
