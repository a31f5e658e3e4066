// Command corebank runs the core banking simulator: the core's JSON API over
// HTTPS with mutual TLS on ANDES_EDGE_ADDR, its double-entry ledger in
// PostgreSQL (DATABASE_URL, schema corebank), seeded from the demo bank
// (ANDES_DEMO_FILE). See package corebank for the settings and the API.
package main

import (
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/simulators/corebank"
)

func main() {
	var cfg corebank.Config
	server.Main(&cfg, corebank.Setup(&cfg))
}
