-- +goose Up
-- Partners (BaaS tenants and cash agents): the tenancy every customer query checks.
CREATE TABLE partners (
    partner_id                text PRIMARY KEY,
    display_name              text NOT NULL,
    status                    text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    settlement_account_number text NOT NULL DEFAULT '',
    created_at                timestamptz NOT NULL
);

-- The Andes customer id, its core customer number and the partner that onboarded it.
CREATE TABLE customers (
    customer_id          uuid PRIMARY KEY,
    core_customer_number text NOT NULL UNIQUE,
    partner_id           text REFERENCES partners (partner_id),
    document_type        text NOT NULL,
    document_number      text NOT NULL,
    given_names          text NOT NULL,
    family_names         text NOT NULL,
    birth_date           text NOT NULL,
    email                text NOT NULL,
    phone_number         text NOT NULL,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked', 'closed')),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    UNIQUE (document_type, document_number)
);
-- A partner's customers, newest first (ListPartnerCustomers pages on it).
CREATE INDEX customers_partner_idx ON customers (partner_id, created_at DESC, customer_id DESC)
    WHERE partner_id IS NOT NULL;

-- Which account belongs to whom: the Andes account id and the core account number.
CREATE TABLE accounts (
    account_id     uuid PRIMARY KEY,
    customer_id    uuid NOT NULL REFERENCES customers (customer_id),
    account_number text NOT NULL UNIQUE,
    type           text NOT NULL CHECK (type IN ('savings', 'checking')),
    currency       char(3) NOT NULL,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked', 'closed')),
    opened_at      timestamptz NOT NULL
);
CREATE INDEX accounts_customer_idx ON accounts (customer_id, opened_at, account_id);

-- The customer's own choices; a row appears with the customer.
CREATE TABLE preferences (
    customer_id        uuid PRIMARY KEY REFERENCES customers (customer_id),
    language           text NOT NULL DEFAULT 'es-PE',
    notify_by_email    boolean NOT NULL DEFAULT true,
    notify_by_sms      boolean NOT NULL DEFAULT false,
    default_account_id uuid REFERENCES accounts (account_id),
    updated_at         timestamptz NOT NULL
);

-- +goose Down
DROP TABLE preferences;
DROP TABLE accounts;
DROP TABLE customers;
DROP TABLE partners;
