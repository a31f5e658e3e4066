// Command facade runs the facade (package facade).
package main

import (
	"github.com/andes-bank/andes/facade"
	"github.com/andes-bank/andes/platform/server"
)

func main() {
	var cfg facade.Config
	server.Main(&cfg, cfg.Setup)
}
