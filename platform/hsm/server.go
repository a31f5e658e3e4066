package hsm

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("hsm: server closed")

// ServerOptions tune a Server; the zero value is usable.
type ServerOptions struct {
	// Admit, when set, runs before every known command. An error it returns
	// becomes the answer's code (see Backend for the mapping), so it is where
	// latency, injected faults and disabled commands plug in.
	Admit func(ctx context.Context, command string) error
	// MaxInFlightPerConn bounds the requests one connection may have in
	// progress; past it the server stops reading that connection, and TCP
	// pushes back on the client. Default 256.
	MaxInFlightPerConn int
	// Logger receives connection-level events. Default: discard.
	Logger *slog.Logger
}

// Server answers the protocol for a Backend on any number of connections,
// each with many requests in flight, answered as they complete.
type Server struct {
	backend     Backend
	admit       func(ctx context.Context, command string) error
	maxInFlight int
	log         *slog.Logger

	baseCtx    context.Context // parent of every request's context; cancelled by Shutdown
	cancelBase context.CancelFunc

	mu        sync.Mutex
	closing   bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	connWG    sync.WaitGroup
}

// NewServer returns a server for backend.
func NewServer(backend Backend, opts ServerOptions) *Server {
	if opts.MaxInFlightPerConn <= 0 {
		opts.MaxInFlightPerConn = 256
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		backend:     backend,
		admit:       opts.Admit,
		maxInFlight: opts.MaxInFlightPerConn,
		log:         opts.Logger,
		baseCtx:     ctx,
		cancelBase:  cancel,
		listeners:   make(map[net.Listener]struct{}),
		conns:       make(map[net.Conn]struct{}),
	}
}

// Serve accepts connections on ln until Shutdown, then returns
// ErrServerClosed. Wrap ln with tls.NewListener for TLS.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			// Running out of file descriptors and the like pass: back off and
			// keep accepting, as net/http does, rather than take the listener
			// down.
			var temp interface{ Temporary() bool }
			if errors.As(err, &temp) && temp.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if !s.track(conn) {
			conn.Close()
			return ErrServerClosed
		}
		go s.serveConn(conn)
	}
}

// Shutdown stops accepting, stops reading new requests, answers those in
// flight, and closes every connection. Requests still waiting (in an Admit
// delay, say) see their context cancelled at once and answer 99 rather than
// hold the shutdown. If ctx ends before every answer is out, Shutdown closes
// the connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	for conn := range s.conns {
		// Ends the read loop; answers in flight still go out.
		conn.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	s.cancelBase()

	drained := make(chan struct{})
	go func() {
		s.connWG.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for conn := range s.conns {
			conn.Close()
		}
		s.mu.Unlock()
		<-drained
		return ctx.Err()
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

func (s *Server) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[conn] = struct{}{}
	s.connWG.Add(1)
	return true
}

func (s *Server) untrack(conn net.Conn) {
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
	s.connWG.Done()
}

func (s *Server) serveConn(conn net.Conn) {
	defer s.untrack(conn)
	defer conn.Close()
	s.handleConn(s.baseCtx, conn)
}

// handleConn reads requests until the peer goes away, a frame is garbage, or
// the server shuts down; answers each on its own goroutine; and returns once
// every answer is written (or cannot be).
func (s *Server) handleConn(ctx context.Context, conn net.Conn) {
	w := newFrameWriter(conn, s.maxInFlight, func(error) {
		conn.Close() // the peer is gone: stop reading too
	})
	slots := make(chan struct{}, s.maxInFlight)
	var inFlight sync.WaitGroup
	r := bufio.NewReaderSize(conn, 4<<10)
	for {
		payload, err := readFrame(r, headerLen+codeLen)
		if err != nil {
			if errors.Is(err, errBadFrame) || errors.Is(err, io.ErrUnexpectedEOF) {
				s.log.Warn("hsm: closing connection after a bad frame",
					"remote", conn.RemoteAddr().String(), "reason", err.Error())
			}
			break
		}
		select {
		case slots <- struct{}{}:
		case <-w.done:
		}
		if isDone(w.done) {
			break
		}
		inFlight.Add(1)
		go func() {
			defer func() {
				<-slots
				inFlight.Done()
			}()
			w.send(ctx, s.answer(ctx, payload))
		}()
	}
	inFlight.Wait()
	w.close()
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// answer turns one request payload into one response frame. It never panics:
// a panic in a backend becomes 99 for that request alone.
func (s *Server) answer(ctx context.Context, payload []byte) (frame []byte) {
	header := payload[:headerLen]
	h, ok := handlers[string(payload[headerLen:headerLen+codeLen])]
	if !ok {
		return errorFrame(header, unknownCommandResponse, CodeDisabled)
	}
	defer func() {
		if p := recover(); p != nil {
			// The panic value may quote request data: log its type only.
			s.log.Error("hsm: command panicked", "command", h.cmd.code, "panic_type", fmt.Sprintf("%T", p))
			frame = errorFrame(header, h.cmd.response, CodeInternalFailure)
		}
	}()
	if s.admit != nil {
		if err := s.admit(ctx, h.cmd.code); err != nil {
			return errorFrame(header, h.cmd.response, codeFor(err))
		}
	}
	values, err := h.cmd.request.decode(payload[headerLen+codeLen:])
	if err != nil {
		return errorFrame(header, h.cmd.response, CodeInvalidInput)
	}
	answer, err := h.serve(ctx, s.backend, values)
	if err != nil {
		return errorFrame(header, h.cmd.response, codeFor(err))
	}
	frame = newFrame(headerLen + codeLen + 2 + 64)
	frame = append(frame, header...)
	frame = append(frame, h.cmd.response...)
	frame = append(frame, CodeOK...)
	frame, err = h.cmd.answer.encode(frame, answer...)
	if err != nil {
		// The backend produced something the wire cannot carry: our bug.
		s.log.Error("hsm: answer does not fit its layout", "command", h.cmd.code)
		return errorFrame(header, h.cmd.response, CodeInternalFailure)
	}
	return finishFrame(frame)
}

func errorFrame(header []byte, response string, code ErrorCode) []byte {
	frame := newFrame(headerLen + codeLen + 2)
	frame = append(frame, header...)
	frame = append(frame, response...)
	frame = append(frame, code...)
	return finishFrame(frame)
}

// handler adapts one command's decoded fields to the Backend and its result
// back to answer fields.
type handler struct {
	cmd   *command
	serve func(ctx context.Context, b Backend, v [][]byte) ([]string, error)
}

var handlers = map[string]handler{
	cmdDiagnostics.code: {&cmdDiagnostics, serveDiagnostics},
	cmdVerifyPIN.code:   {&cmdVerifyPIN, serveVerifyPIN},
	cmdComputePVV.code:  {&cmdComputePVV, serveComputePVV},
	cmdVerifyCVV.code:   {&cmdVerifyCVV, serveVerifyCVV},
	cmdGenerateCVV.code: {&cmdGenerateCVV, serveGenerateCVV},
	cmdWrapKey.code:     {&cmdWrapKey, serveWrapKey},
	cmdUnwrapKey.code:   {&cmdUnwrapKey, serveUnwrapKey},
}

func serveDiagnostics(ctx context.Context, b Backend, _ [][]byte) ([]string, error) {
	d, err := b.Diagnostics(ctx)
	if err != nil {
		return nil, err
	}
	return []string{d.ZPKCheckValue, d.PVKCheckValue, d.CVKCheckValue, version4(d.KEKVersion), d.Firmware}, nil
}

func serveVerifyPIN(ctx context.Context, b Backend, v [][]byte) ([]string, error) {
	if string(v[1]) != pinFormatISO0 {
		return nil, ErrUnsupportedPINFormat
	}
	var r VerifyPINRequest
	hex.Decode(r.PINBlock[:], v[0]) // the layout checked it is 16 hex digits
	r.PAN, r.PVKI, r.PVV = string(v[2]), int(v[3][0]-'0'), string(v[4])
	return nil, verdict(b.VerifyPIN(ctx, r))
}

func serveComputePVV(ctx context.Context, b Backend, v [][]byte) ([]string, error) {
	if string(v[1]) != pinFormatISO0 {
		return nil, ErrUnsupportedPINFormat
	}
	var r ComputePVVRequest
	hex.Decode(r.PINBlock[:], v[0])
	r.PAN, r.PVKI = string(v[2]), int(v[3][0]-'0')
	pvv, err := b.ComputePVV(ctx, r)
	return []string{pvv}, err
}

func serveVerifyCVV(ctx context.Context, b Backend, v [][]byte) ([]string, error) {
	r := VerifyCVVRequest{CVV: string(v[0]), PAN: string(v[1]), Expiry: string(v[2]), ServiceCode: string(v[3])}
	return nil, verdict(b.VerifyCVV(ctx, r))
}

func serveGenerateCVV(ctx context.Context, b Backend, v [][]byte) ([]string, error) {
	r := GenerateCVVRequest{PAN: string(v[0]), Expiry: string(v[1]), ServiceCode: string(v[2])}
	cvv, err := b.GenerateCVV(ctx, r)
	return []string{cvv}, err
}

func serveWrapKey(ctx context.Context, b Backend, v [][]byte) ([]string, error) {
	key := make([]byte, len(v[1])/2)
	hex.Decode(key, v[1])
	defer clear(key)
	w, err := b.WrapKey(ctx, WrapKeyRequest{Label: string(v[0]), Key: key})
	if err != nil {
		return nil, err
	}
	return []string{version4(w.KEKVersion), strings.ToUpper(hex.EncodeToString(w.Wrapped))}, nil
}

func serveUnwrapKey(ctx context.Context, b Backend, v [][]byte) ([]string, error) {
	wrapped := make([]byte, len(v[1])/2)
	hex.Decode(wrapped, v[1])
	k, err := b.UnwrapKey(ctx, UnwrapKeyRequest{Label: string(v[0]), Wrapped: wrapped})
	if err != nil {
		return nil, err
	}
	defer clear(k.Key)
	return []string{version4(k.KEKVersion), strings.ToUpper(hex.EncodeToString(k.Key))}, nil
}

// verdict turns a verification's (false, nil) into the 01 answer.
func verdict(ok bool, err error) error {
	if err == nil && !ok {
		return errMismatch
	}
	return err
}

// version4 writes a KEK version as the 4-digit field; a version out of range
// yields a value the layout refuses, so it surfaces as an internal failure.
func version4(v int) string {
	if v < 0 || v > 9999 {
		return "?"
	}
	s := strconv.Itoa(v)
	return strings.Repeat("0", 4-len(s)) + s
}
