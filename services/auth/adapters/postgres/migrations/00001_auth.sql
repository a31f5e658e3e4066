-- auth's own tables (DESIGN.md section 3: auth owns clients, credentials, devices and
-- their keys). Secrets and passwords are stored only hashed; signing keys only sealed.

-- +goose Up
CREATE TABLE clients (
    id            text        PRIMARY KEY,
    name          text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('web', 'mobile', 'partner', 'agent', 'internal')),
    -- HMAC-SHA256 of the secret under the server pepper; NULL for public clients.
    secret_hash   bytea       CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
    redirect_uris text[]      NOT NULL DEFAULT '{}',
    scopes        text[]      NOT NULL DEFAULT '{}',
    partner_id    text        NOT NULL DEFAULT '',
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- Customers' logins, keyed by the Andes customer id (the sub of their tokens).
CREATE TABLE users (
    customer_id     uuid        PRIMARY KEY,
    document_type   text        NOT NULL,
    document_number text        NOT NULL,
    username        text        UNIQUE,
    password_hash   text        NOT NULL,  -- argon2id PHC string
    status          text        NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (document_type, document_number)
);

-- Access-token signing keys. The newest is the current one; older ones stay
-- published in the JWKS until every token they signed has expired.
CREATE TABLE signing_keys (
    kid         text        PRIMARY KEY,
    alg         text        NOT NULL,
    private_key bytea       NOT NULL,  -- AES-256-GCM sealed under a key derived from the pepper
    public_key  bytea       NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX signing_keys_created ON signing_keys (created_at DESC);

-- Phones bound to customers for device ("fingerprint") login.
CREATE TABLE devices (
    device_id      uuid        PRIMARY KEY,
    customer_id    uuid        NOT NULL REFERENCES users (customer_id),
    display_name   text        NOT NULL,
    platform       text        NOT NULL,
    public_key     bytea       NOT NULL,  -- PKIX DER of the P-256 key
    key_thumbprint text        NOT NULL UNIQUE,  -- RFC 7638, base64url
    status         text        NOT NULL CHECK (status IN ('active', 'revoked')),
    bound_at       timestamptz NOT NULL,
    last_used_at   timestamptz,
    revoked_at     timestamptz,
    revoke_reason  text        NOT NULL DEFAULT ''
);
CREATE INDEX devices_customer ON devices (customer_id, bound_at DESC);

-- Who did what, when, with what outcome, from where: every login attempt, token
-- issue, revocation and device change.
CREATE TABLE audit_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    action      text        NOT NULL,
    success     boolean     NOT NULL,
    failure     text        NOT NULL DEFAULT '',
    customer_id text        NOT NULL DEFAULT '',
    client_id   text        NOT NULL DEFAULT '',
    origin_ip   text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    detail      text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_customer ON audit_events (customer_id, at) WHERE customer_id <> '';

-- +goose Down
DROP TABLE audit_events;
DROP TABLE devices;
DROP TABLE signing_keys;
DROP TABLE users;
DROP TABLE clients;
