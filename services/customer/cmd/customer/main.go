// Command customer runs the customer service (package customer).
package main

import (
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/customer"
)

func main() {
	var cfg customer.Config
	server.Main(&cfg, cfg.Setup)
}
