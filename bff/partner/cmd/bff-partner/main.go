// Command bff-partner runs the partner gateway (package partner).
package main

import (
	"github.com/andes-bank/andes/bff/partner"
	"github.com/andes-bank/andes/platform/server"
)

func main() {
	var cfg partner.Config
	server.Main(&cfg, cfg.Setup)
}
