// Command auth runs the Andes OAuth2 authorization server (package auth).
package main

import (
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/auth"
)

func main() {
	var cfg auth.Config
	server.Main(&cfg, cfg.Setup)
}
