// Command authorizer is the card authorizer: ISO 8583 from the card networks on its
// edge listener, card administration on its internal gRPC listener. See package
// authorizer for its configuration.
package main

import (
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/services/authorizer"
)

func main() {
	var cfg authorizer.Config
	server.Main(&cfg, cfg.Setup)
}
