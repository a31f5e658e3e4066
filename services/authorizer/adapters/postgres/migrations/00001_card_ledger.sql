-- The authorizer's card ledger (DESIGN.md sections 8 and 10): card accounts with the
-- counters the decision reads, cards (PAN encrypted, fingerprint for lookup),
-- network life cycles with their holds, stored decisions, and balanced postings.
-- The decision statements are in ../sql; this file holds the tables and the few
-- pure functions those statements call.

-- +goose Up

-- Data keys encrypt PANs and derive the fingerprint key. Only the HSM's key-encryption
-- key can unwrap one: the database never holds a usable key.
CREATE TABLE data_keys (
    id          integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label       text        NOT NULL,              -- what the key is bound to ("authorizer/pan")
    kek_version integer     NOT NULL,              -- the KEK version that wrapped it
    wrapped     bytea       NOT NULL,              -- wrapped by the HSM (WK), label bound in
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz
);
-- One current key per label; concurrent first starts race on this and one wins.
CREATE UNIQUE INDEX data_keys_current ON data_keys (label) WHERE retired_at IS NULL;

-- A prepaid card account. Every balance and counter a decision reads lives on this
-- row, so a decision locks one row and needs no SUM() over other tables.
CREATE TABLE card_accounts (
    id               uuid        PRIMARY KEY,
    customer_id      uuid        NOT NULL,
    currency         text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),      -- ISO 4217 alpha
    currency_numeric text        NOT NULL CHECK (currency_numeric ~ '^[0-9]{3}$'), -- as DE49/DE51 carry it
    status           text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked', 'closed')),
    -- Posted balance: the sum of the account's postings. Negative only after forced posts.
    ledger           bigint      NOT NULL DEFAULT 0,
    -- Pending holds.
    held             bigint      NOT NULL DEFAULT 0 CHECK (held >= 0),
    -- What the next authorization may take.
    available        bigint      NOT NULL DEFAULT 0,
    -- What the cardholder owes after forced posts overdrew the account: greatest(0, -ledger),
    -- mirrored by postings against the receivable account.
    receivable       bigint      NOT NULL DEFAULT 0 CHECK (receivable >= 0),
    -- Rolling 30-day spend: slot i holds the spend of the latest day d <= spend_day with
    -- d % 30 = i (days since 1970-01-01); see spend_total and spend_add.
    spend_day        integer     NOT NULL DEFAULT 0,
    spend_days       bigint[]    NOT NULL DEFAULT array_fill(0::bigint, ARRAY[30]) CHECK (cardinality(spend_days) = 30),
    -- ATM withdrawals on atm_day.
    atm_day          integer     NOT NULL DEFAULT 0,
    atm_count        integer     NOT NULL DEFAULT 0 CHECK (atm_count >= 0),
    -- Consecutive wrong PINs; three block PIN transactions (DE39 75) until a PIN is set.
    pin_tries        integer     NOT NULL DEFAULT 0 CHECK (pin_tries BETWEEN 0 AND 3),
    opened_at        timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK (available = ledger - held),
    CHECK (receivable = greatest(0, -ledger))
);
CREATE INDEX card_accounts_customer ON card_accounts (customer_id);

-- A card. The PAN exists here only encrypted (AES-256-GCM under a data key) and as a
-- keyed HMAC-SHA256 fingerprint, the lookup key of every network message.
CREATE TABLE cards (
    id                    uuid        PRIMARY KEY,
    card_account_id       uuid        NOT NULL REFERENCES card_accounts,
    customer_id           uuid        NOT NULL,
    pan_fingerprint       bytea       NOT NULL UNIQUE,
    pan_ciphertext        bytea       NOT NULL,      -- nonce ‖ AES-256-GCM(PAN), card id as additional data
    data_key_id           integer     NOT NULL REFERENCES data_keys,
    first6                text        NOT NULL CHECK (first6 ~ '^[0-9]{6}$'),
    last4                 text        NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
    expiry                text        NOT NULL CHECK (expiry ~ '^[0-9]{4}$'),  -- YYMM, as DE14 carries it
    cardholder_name       text        NOT NULL,
    status                text        NOT NULL CHECK (status IN ('inactive', 'active', 'blocked', 'lost', 'expired', 'closed')),
    status_reason         text        NOT NULL DEFAULT '',
    pvv                   text        CHECK (pvv ~ '^[0-9]{4}$'),               -- Visa PVV; NULL until a PIN is set
    pvki                  smallint    NOT NULL DEFAULT 1 CHECK (pvki BETWEEN 0 AND 9),
    limit_per_txn         bigint      NOT NULL CHECK (limit_per_txn > 0),
    limit_30d             bigint      NOT NULL CHECK (limit_30d > 0),
    limit_atm_daily       integer     NOT NULL CHECK (limit_atm_daily >= 0),
    pos_enabled           boolean     NOT NULL,
    ecommerce_enabled     boolean     NOT NULL,
    atm_enabled           boolean     NOT NULL,
    international_enabled boolean     NOT NULL,
    blocked_mccs          text[]      NOT NULL DEFAULT '{}',
    issued_at             timestamptz NOT NULL,
    status_changed_at     timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX cards_account ON cards (card_account_id, issued_at DESC);
CREATE INDEX cards_customer ON cards (customer_id, issued_at DESC);

-- A network life cycle: an authorization with its incremental authorizations,
-- completion and reversals, linked by the network transaction id (DE48 tag 01) or,
-- when the network sends none, by the first message's STAN, DE7 and acquirer (what
-- DE90 of a reversal names). The hold lives here.
CREATE TABLE card_transactions (
    id              uuid        PRIMARY KEY,
    card_id         uuid        NOT NULL REFERENCES cards,
    card_account_id uuid        NOT NULL REFERENCES card_accounts,
    -- Network transaction id, or orig_key when there is none. Unique per card: two
    -- messages that would each start the life cycle collide here, and the loser is
    -- decided again on a fresh snapshot (an early reversal racing its original).
    lc_key          text        NOT NULL,
    orig_key        text        NOT NULL,               -- STAN ‖ DE7 ‖ acquirer id without leading zeros
    kind            text        NOT NULL CHECK (kind IN ('debit', 'credit')),
    status          text        NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'expired', 'early_reversal')),
    preauth         boolean     NOT NULL DEFAULT false,
    atm             boolean     NOT NULL DEFAULT false,
    approved_amount bigint      NOT NULL DEFAULT 0 CHECK (approved_amount >= 0), -- authorized in total, increments included
    hold_amount     bigint      NOT NULL DEFAULT 0 CHECK (hold_amount >= 0),     -- still held (status pending)
    posted_amount   bigint      NOT NULL DEFAULT 0 CHECK (posted_amount >= 0),   -- posted (status posted)
    -- The final amount of a reversal that came before its original: the late original
    -- holds no more than this.
    reversal_final  bigint,
    spend_day       integer     NOT NULL DEFAULT 0,     -- the day its spend was counted on
    expires_at      timestamptz,                        -- when a pending hold lapses
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (card_id, lc_key)
);
CREATE INDEX card_transactions_orig ON card_transactions (card_id, orig_key);
CREATE INDEX card_transactions_expiry ON card_transactions (expires_at) WHERE status = 'pending';

-- Stored decisions: what was asked and answered, never the frame.
CREATE TABLE authorizations (
    id                     uuid        PRIMARY KEY,
    -- SHA-256 of the message family, the PAN fingerprint, DE11, DE7, DE32 and DE37: a
    -- duplicate or a repeat (0101, 0121, 0221, 0401, 0421) has the same key and gets
    -- the stored decision back.
    dup_key                bytea       NOT NULL UNIQUE,
    card_id                uuid        REFERENCES cards,          -- NULL: unknown card (14)
    card_account_id        uuid        REFERENCES card_accounts,
    transaction_id         uuid        REFERENCES card_transactions,
    mti                    text        NOT NULL,
    message_class          smallint    NOT NULL,                  -- andes.authorizer.v1.MessageClass
    processing_code        text        NOT NULL,
    network_transaction_id text        NOT NULL DEFAULT '',
    stan                   text        NOT NULL,
    transmitted            text        NOT NULL,                  -- DE7 MMDDhhmmss
    acquirer_id            text        NOT NULL,
    rrn                    text        NOT NULL,
    decision               smallint    NOT NULL,                  -- andes.authorizer.v1.Decision
    decline_reason         smallint    NOT NULL DEFAULT 0,        -- andes.authorizer.v1.DeclineReason
    response_code          text        NOT NULL,                  -- DE39 sent (the network's, for stand-in advices)
    approval_code          text        NOT NULL DEFAULT '',
    currency               text        NOT NULL DEFAULT '',       -- the card account's, alpha
    requested_amount       bigint      NOT NULL DEFAULT 0,        -- in the card account's currency
    approved_amount        bigint      NOT NULL DEFAULT 0,
    transaction_amount     bigint      NOT NULL DEFAULT 0,        -- DE4
    transaction_currency   text        NOT NULL DEFAULT '',       -- DE49, numeric
    mcc                    text        NOT NULL DEFAULT '',
    merchant_id            text        NOT NULL DEFAULT '',
    merchant_name          text        NOT NULL DEFAULT '',
    merchant_country       text        NOT NULL DEFAULT '',
    terminal_id            text        NOT NULL DEFAULT '',
    available_after        bigint,
    decided_at             timestamptz NOT NULL
);
CREATE INDEX authorizations_card ON authorizations (card_id, decided_at DESC, id);
CREATE INDEX authorizations_account ON authorizations (card_account_id, decided_at DESC, id);

-- Double entry: each row debits one account and credits another by the same amount,
-- so postings balance by construction. 'card' is the row's card account; the others
-- are the program's accounts in the card ledger.
CREATE TABLE postings (
    id               uuid        PRIMARY KEY,
    card_account_id  uuid        NOT NULL REFERENCES card_accounts,
    authorization_id uuid        REFERENCES authorizations,
    debit            text        NOT NULL CHECK (debit IN ('card', 'program_funding', 'merchant_settlement', 'receivable')),
    credit           text        NOT NULL CHECK (credit IN ('card', 'program_funding', 'merchant_settlement', 'receivable')),
    amount           bigint      NOT NULL CHECK (amount > 0),
    currency         text        NOT NULL,
    reference        text        NOT NULL DEFAULT '',         -- funding reference, network transaction id
    posted_at        timestamptz NOT NULL,
    CHECK (debit <> credit)
);
CREATE INDEX postings_account ON postings (card_account_id, posted_at);

-- Rolling 30-day spend without SUM() over history: 30 daily slots on the account row.
-- Slot j holds the day last_day - ((last_day - j) mod 30); it counts while that day is
-- within the 30 days ending today.
-- +goose StatementBegin
CREATE FUNCTION spend_total(days bigint[], last_day integer, today integer) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(v), 0)::bigint
      FROM unnest(days) WITH ORDINALITY AS s(v, i)
     WHERE today - (last_day - (((last_day - (i::integer - 1)) % 30) + 30) % 30) < 30
$$;
-- +goose StatementEnd

-- spend_add moves the window to today and adds amount (negative for a reversal) to
-- the slot of day, if that day is still in the window; a slot never goes below zero.
-- +goose StatementBegin
CREATE FUNCTION spend_add(days bigint[], last_day integer, today integer, day integer, amount bigint) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(
               CASE WHEN j = ((day % 30) + 30) % 30 AND today - day < 30 AND day <= greatest(last_day, today)
                    THEN greatest(kept + amount, 0) ELSE kept END
               ORDER BY j)
      FROM (SELECT j, CASE WHEN greatest(last_day, today) - (last_day - (((last_day - j) % 30) + 30) % 30) < 30
                           THEN days[j + 1] ELSE 0 END AS kept
              FROM generate_series(0, 29) AS j) s
$$;
-- +goose StatementEnd

-- Protocol buffer encoding, so that each decision statement writes its outbox event
-- (an andes.events.v1.Envelope around an AuthorizationDecided) itself, in one
-- function call. Field numbers are those of proto/andes/events/v1 (envelope.proto,
-- card_events.proto) and money.proto. The Go side passes what it knows before the
-- decision, already encoded: the envelope's head (event id, type, schema version,
-- occurred at, source, idempotency key) and the payload's fixed part (transaction
-- amount, merchant name, MCC, decided at).

-- +goose StatementBegin
CREATE FUNCTION pb_varint(v bigint) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    out bytea;
BEGIN
    IF v >= 0 AND v < 128 THEN
        RETURN set_byte('\x00'::bytea, 0, v::integer);
    END IF;
    out := '\x'::bytea;
    -- Nine groups of seven bits hold any non-negative int64. A negative one is sent
    -- as its 64-bit two's complement: nine groups, then the sign bit; >> is an
    -- arithmetic shift, so the low seven bits of each group are right either way.
    FOR i IN 1..9 LOOP
        IF v >= 0 AND v < 128 THEN
            RETURN out || set_byte('\x00'::bytea, 0, v::integer);
        END IF;
        out := out || set_byte('\x00'::bytea, 0, ((v & 127) | 128)::integer);
        v := v >> 7;
    END LOOP;
    RETURN out || '\x01'::bytea;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION authorization_decided_event(
    head bytea, fixed bytea, authorization_id uuid, card_id uuid, card_account_id uuid, customer_id uuid,
    message_class integer, response_code text, decision integer, approved bigint, currency text, available bigint
) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    p bytea := '\x'::bytea;  -- AuthorizationDecided
    m bytea;                 -- a Money
    cur bytea := convert_to(coalesce(currency, ''), 'UTF8');
    e bytea;
    ids text[] := ARRAY['card_id', card_id::text, 'card_account_id', card_account_id::text, 'customer_id', customer_id::text];
    entry bytea;
BEGIN
    -- A UUID's text is 36 bytes (0x24): strings of known length need no varint.
    IF authorization_id IS NOT NULL THEN p := p || '\x0a24'::bytea || convert_to(authorization_id::text, 'UTF8'); END IF;
    IF card_id IS NOT NULL THEN p := p || '\x1224'::bytea || convert_to(card_id::text, 'UTF8'); END IF;
    IF card_account_id IS NOT NULL THEN p := p || '\x1a24'::bytea || convert_to(card_account_id::text, 'UTF8'); END IF;
    IF customer_id IS NOT NULL THEN p := p || '\x2224'::bytea || convert_to(customer_id::text, 'UTF8'); END IF;
    IF message_class <> 0 THEN p := p || '\x28'::bytea || pb_varint(message_class); END IF;
    IF response_code <> '' THEN p := p || '\x32'::bytea || pb_varint(octet_length(response_code)) || convert_to(response_code, 'UTF8'); END IF;
    IF decision <> 0 THEN p := p || '\x38'::bytea || pb_varint(decision); END IF;
    -- approved_amount (8): Money{amount_minor = 1, currency = 2}
    m := CASE WHEN approved <> 0 THEN '\x08'::bytea || pb_varint(approved) ELSE '\x'::bytea END;
    IF length(cur) > 0 THEN m := m || '\x12'::bytea || pb_varint(length(cur)) || cur; END IF;
    p := p || '\x42'::bytea || pb_varint(length(m)) || m || fixed;
    -- available_after (12)
    IF available IS NOT NULL THEN
        m := CASE WHEN available <> 0 THEN '\x08'::bytea || pb_varint(available) ELSE '\x'::bytea END;
        IF length(cur) > 0 THEN m := m || '\x12'::bytea || pb_varint(length(cur)) || cur; END IF;
        p := p || '\x62'::bytea || pb_varint(length(m)) || m;
    END IF;
    -- Any{type_url = 1, value = 2}
    p := '\x0a'::bytea || pb_varint(length('type.googleapis.com/andes.events.v1.AuthorizationDecided'))
         || convert_to('type.googleapis.com/andes.events.v1.AuthorizationDecided', 'UTF8')
         || '\x12'::bytea || pb_varint(length(p)) || p;
    e := head;
    -- subject_ids (6): map entries {key = 1, value = 2}
    FOR i IN 1..3 LOOP
        IF ids[2 * i] IS NOT NULL THEN
            entry := '\x0a'::bytea || pb_varint(octet_length(ids[2 * i - 1])) || convert_to(ids[2 * i - 1], 'UTF8')
                     || '\x1224'::bytea || convert_to(ids[2 * i], 'UTF8');
            e := e || '\x32'::bytea || pb_varint(length(entry)) || entry;
        END IF;
    END LOOP;
    -- payload (9)
    RETURN e || '\x4a'::bytea || pb_varint(length(p)) || p;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION authorization_decided_event(bytea, bytea, uuid, uuid, uuid, uuid, integer, text, integer, bigint, text, bigint);
DROP FUNCTION pb_varint(bigint);
DROP FUNCTION spend_add(bigint[], integer, integer, integer, bigint);
DROP FUNCTION spend_total(bigint[], integer, integer);
DROP TABLE postings;
DROP TABLE authorizations;
DROP TABLE card_transactions;
DROP TABLE cards;
DROP TABLE card_accounts;
DROP TABLE data_keys;
