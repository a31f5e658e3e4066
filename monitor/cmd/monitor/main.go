// Command monitor runs the monitor (package monitor).
package main

import (
	"github.com/andes-bank/andes/monitor"
	"github.com/andes-bank/andes/platform/server"
)

func main() {
	var cfg monitor.Config
	server.Main(&cfg, cfg.Setup)
}
