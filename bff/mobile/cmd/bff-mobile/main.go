// Command bff-mobile runs the mobile gateway (package mobile).
package main

import (
	"github.com/andes-bank/andes/bff/mobile"
	"github.com/andes-bank/andes/platform/server"
)

func main() {
	var cfg mobile.Config
	server.Main(&cfg, cfg.Setup)
}
