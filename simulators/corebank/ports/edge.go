package ports

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/andes-bank/andes/simulators/corebank/faults"
)

// Edge serves the API over HTTPS with mutual TLS on one address, and closes and
// reopens its listener as the "down" knob says: while down, connections to the
// address are refused, as with a core that is off.
type Edge struct {
	Handler http.Handler
	// TLS must require client certificates (pki.Credentials.ServerConfig).
	TLS             *tls.Config
	Knobs           *faults.Knobs
	Logger          *slog.Logger
	ShutdownTimeout time.Duration
}

// Serve serves on ln, and later on ln's address each time the edge comes back
// up, until ctx ends; then it drains requests in flight for ShutdownTimeout.
func (e *Edge) Serve(ctx context.Context, ln net.Listener) error {
	addr := ln.Addr().String()
	for {
		s, changed := e.Knobs.Settings()
		if s.Down {
			if ln != nil {
				ln.Close()
				ln = nil
				e.Logger.Warn("edge down (fault knob): refusing connections", "addr", addr, "for", s.DownFor)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
				continue
			}
		}
		if ln == nil {
			var err error
			if ln, err = listen(ctx, addr); err != nil {
				return err
			}
			e.Logger.Info("edge up again", "addr", addr)
		}
		down, err := e.serveUntilDown(ctx, ln)
		ln = nil // closed by the server
		if err != nil || !down {
			return err
		}
	}
}

// downGrace is how long requests in flight may finish when the edge goes down.
const downGrace = 250 * time.Millisecond

// serveUntilDown serves one listener until ctx ends (down false) or the knob
// says down (down true: every connection is cut at once, answers in flight are lost).
func (e *Edge) serveUntilDown(ctx context.Context, ln net.Listener) (bool, error) {
	srv := &http.Server{
		Handler:           e.Handler,
		TLSConfig:         e.TLS.Clone(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(e.Logger.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	for {
		_, changed := e.Knobs.Settings()
		select {
		case err := <-served:
			return false, fmt.Errorf("edge: %w", err)
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), e.ShutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				srv.Close()
			}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				return false, fmt.Errorf("edge: %w", err)
			}
			return false, nil
		case <-changed:
			if !e.Knobs.Current().Down {
				continue
			}
			// The listener closes at once; requests in flight get a moment, so
			// the operator's own "down" call is answered, then are cut.
			sctx, cancel := context.WithTimeout(context.Background(), downGrace)
			if err := srv.Shutdown(sctx); err != nil {
				srv.Close()
			}
			cancel()
			<-served
			return true, nil
		}
	}
}

// listen rebinds the edge's address; right after a close the port may still be
// settling, so it tries for a few seconds.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lastErr error
	for range 50 {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("edge: reopen %s: %w", addr, lastErr)
}
