// Command onboarding runs the onboarding service (package onboarding).
package main

import (
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/onboarding"
)

func main() {
	var cfg onboarding.Config
	server.Main(&cfg, cfg.Setup)
}
