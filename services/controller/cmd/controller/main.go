// Command controller runs the controller (package controller).
package main

import (
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/controller"
)

func main() {
	var cfg controller.Config
	server.Main(&cfg, cfg.Setup)
}
