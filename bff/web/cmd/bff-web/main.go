// Command bff-web runs the web gateway (package web).
package main

import (
	"github.com/andes-bank/andes/bff/web"
	"github.com/andes-bank/andes/platform/server"
)

func main() {
	var cfg web.Config
	server.Main(&cfg, cfg.Setup)
}
