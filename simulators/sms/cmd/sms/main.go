// Command sms runs the SMS gateway simulator (package sms): an HTTP API that
// receives messages, a page and an API that list them per phone, fault knobs.
package main

import (
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/simulators/sms"
)

func main() {
	var cfg sms.Config
	server.Main(&cfg, cfg.Setup)
}
