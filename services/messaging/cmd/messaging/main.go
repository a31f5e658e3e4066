// Command messaging runs the messaging service (package messaging).
package main

import (
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/messaging"
)

func main() {
	var cfg messaging.Config
	server.Main(&cfg, cfg.Setup)
}
