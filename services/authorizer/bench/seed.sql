-- Cards for the decision benchmarks (BenchmarkDecision, BenchmarkDecisionVsPgbench,
-- and pgbench with authorize.sql): :ncards card accounts with ample funds and limits,
-- one active card each whose PAN fingerprint is its number as text ('1', '2', ...),
-- so that pgbench can name a card with a random integer.
INSERT INTO data_keys (label, kek_version, wrapped, created_at) VALUES ('bench', 1, '\x00', now());

INSERT INTO card_accounts (id, customer_id, currency, currency_numeric, ledger, available, opened_at, updated_at)
SELECT md5('bench-account-' || i)::uuid, md5('bench-customer-' || i)::uuid, 'PEN', '604',
       1000000000000, 1000000000000, now(), now()
  FROM generate_series(1, :ncards) AS i;

INSERT INTO cards (id, card_account_id, customer_id, pan_fingerprint, pan_ciphertext, data_key_id, first6, last4,
                   expiry, cardholder_name, status, limit_per_txn, limit_30d, limit_atm_daily,
                   pos_enabled, ecommerce_enabled, atm_enabled, international_enabled, issued_at, status_changed_at, updated_at)
SELECT md5('bench-card-' || i)::uuid, md5('bench-account-' || i)::uuid, md5('bench-customer-' || i)::uuid,
       convert_to(i::text, 'UTF8'), '\x00', (SELECT id FROM data_keys WHERE label = 'bench'), '476134', '0000',
       '2912', 'BENCH', 'active', 1000000000000, 1000000000000000, 100,
       true, true, true, true, now(), now(), now()
  FROM generate_series(1, :ncards) AS i;
