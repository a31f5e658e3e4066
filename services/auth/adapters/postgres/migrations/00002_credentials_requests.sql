-- CreateCredentials is idempotent on (caller, idempotency key): the request that
-- created a user is remembered on the user, so a retry answers the same user and
-- a different request with the same key is told apart.

-- +goose Up
ALTER TABLE users ADD COLUMN created_by_key text;      -- "<caller>/<idempotency key>"
ALTER TABLE users ADD COLUMN request_fingerprint bytea; -- SHA-256 of the request, password excluded
CREATE UNIQUE INDEX users_created_by_key ON users (created_by_key) WHERE created_by_key IS NOT NULL;

-- +goose Down
DROP INDEX users_created_by_key;
ALTER TABLE users DROP COLUMN request_fingerprint;
ALTER TABLE users DROP COLUMN created_by_key;
