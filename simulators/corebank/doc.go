// Package corebank is the core banking simulator: the bank's on-premises core,
// reached only by the facade, with a double-entry ledger in PostgreSQL and a JSON
// API over HTTPS with mutual TLS (README.md has the endpoint table; package api
// has the wire shapes).
//
// # The process
//
// cmd/corebank runs it on the platform chassis (server.Main): the internal gRPC
// listener (health, reflection) and the loopback admin listener (/healthz,
// /readyz, /metrics, pprof) as every process, plus the core's HTTPS edge on
// ANDES_EDGE_ADDR, served as a task because it is mutual TLS and must close and
// reopen its listener for the "down" knob. Only the identities in
// ANDES_COREBANK_CALLERS (facade and operator) may call; /core/v2/admin/ is the
// operator's. A client without a certificate from the Andes CA fails the
// handshake.
//
// # Settings
//
//	ANDES_EDGE_ADDR                          the API's address (https)
//	DATABASE_URL                             PostgreSQL; schema corebank
//	ANDES_DEMO_FILE                          the demo bank to seed once (default deploy/demo/demo.yaml if present)
//	ANDES_COREBANK_SEED_HISTORY              seed HistoryDays of movements per account (default true)
//	ANDES_COREBANK_CALLERS                   identities allowed to call (default facade,operator)
//	ANDES_COREBANK_HOLD_TTL                  default hold lifetime (default 168h)
//	ANDES_COREBANK_DB_MAX_CONNS              pool size (default 16)
//	ANDES_COREBANK_LATENCY                   fault: added to every request (default 0s)
//	ANDES_COREBANK_ERROR_SHARE               fault: share answered 503 CB-5030 before any effect (0..1)
//	ANDES_COREBANK_TIMEOUT_AFTER_POST_SHARE  fault: share of writes that commit and get no answer (0..1)
//	ANDES_COREBANK_TIMEOUT_STALL             fault: how long such a write stalls before the connection is cut (default 30s)
//	ANDES_COREBANK_DOWN                      fault: start with the edge closed (connections refused)
//	ANDES_COREBANK_DOWN_FOR                  fault: with DOWN, reopen after this long (0s: stay down)
//
// The knobs change at run time with PUT /faults on the loopback admin listener
// (ANDES_ADMIN_ADDR, which stays up while the edge is down), or through
// Service.Knobs in tests. While "down", the process itself stays healthy
// and ready: it simulates the core being unreachable, not a sick process.
//
// # The ledger
//
// See package pgledger: every money movement is one SQL statement that locks its
// accounts in id order, decides on the locked rows, and changes the balances
// together with the balanced postings; a CHECK constraint backs the guard. Money
// enters only through opening entries against the equity account; cash-in moves
// it from an agent's account, card funding to the settlement account. Postings are
// numbered for the change feed by a sequencer after commit, in commit order.
package corebank
