// Command migrator runs the migrator (package migrator).
package main

import (
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/migrator"
)

func main() {
	var cfg migrator.Config
	server.Main(&cfg, cfg.Setup)
}
