// Package edge serves the edge listeners of the simulators, through which Andes
// reaches them as it would reach the real parties: HTTPS with the process's own
// certificate from the dev PKI (it names localhost and 127.0.0.1 besides the
// SPIFFE id, so plain TLS clients accept it), and an honest 501 for what a
// simulator does not do yet.
package edge

import (
	"crypto/tls"
	"encoding/json"
	"net/http"

	"github.com/andes-bank/andes/platform/server"
)

// ServeHTTPS serves h over TLS on addr from start to shutdown. Clients are not
// asked for a certificate: these are the public HTTPS APIs of outside parties.
func ServeHTTPS(p *server.Process, name, addr string, h http.Handler) {
	cfg := p.Credentials.ServerConfig().Clone()
	cfg.ClientAuth, cfg.ClientCAs, cfg.VerifyConnection = tls.NoClientCert, nil, nil
	p.ServeHTTPS(name, addr, h, cfg)
}

// NotBuilt answers every request 501 Not Implemented with a JSON body naming the
// simulator and the missing feature, so a caller's failure says what is absent
// instead of looking like a bug.
func NotBuilt(process, feature string) http.Handler {
	body, _ := json.Marshal(map[string]string{
		"error":   "not_implemented",
		"process": process,
		"message": feature + " is not built yet",
	})
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotImplemented)
		_, _ = w.Write(append(body, '\n'))
	})
}
