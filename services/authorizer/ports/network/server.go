// Package network is the authorizer's edge to the card networks: ISO 8583 frames
// over TCP (package iso8583's layout), many connections, several requests in
// flight on each, answered as they complete.
//
// What a message gets:
//
//   - 0100/0101: the decision. Under overload (every decision slot taken) it gets
//     no answer at all: the network times out and stands in, which is better for the
//     cardholder than a decline caused by us. A decision that fails gets 96.
//   - 0120/0121, 0220/0221, 0400/0401, 0420/0421: an acknowledgement (00), sent only
//     once the decision statement committed. They wait for a slot rather than being
//     shed; one that cannot be recorded gets no answer, and the network repeats it.
//   - 0800: 0810 with 00 (sign-on, sign-off, echo).
//   - A frame that does not unpack: the response MTI with DE39 30 when its MTI and
//     STAN can be read; the connection stays up. A frame whose MTI and STAN cannot
//     be read, or an oversized frame, closes that connection only.
package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// Decider decides a network message.
type Decider interface {
	Decide(ctx context.Context, m *domain.NetworkMessage) (domain.Outcome, error)
}

// Options tune a Server; zero values take the defaults.
type Options struct {
	Text iso8583.TextEncoding
	// MaxInFlight bounds decisions in progress across all connections. An
	// authorization that finds none free is not answered. Default 256.
	MaxInFlight int
	// MaxInFlightPerConn bounds the requests one connection may have unanswered;
	// past it the server stops reading that connection. Default 64.
	MaxInFlightPerConn int
	// MaxFrameSize bounds a frame; a larger one closes the connection. Default
	// iso8583.DefaultMaxFrameSize.
	MaxFrameSize int
	// AuthorizationTimeout bounds one authorization's decision; the network stops
	// waiting after a few seconds anyway. Default 2 s.
	AuthorizationTimeout time.Duration
	// AdviceTimeout bounds the recording of an advice or reversal. Default 10 s.
	AdviceTimeout time.Duration
	// IdleTimeout closes a connection that sends nothing, echoes included, for this
	// long. Default 5 min.
	IdleTimeout time.Duration
	Logger      *slog.Logger
}

// Stats count what the server did, for metrics and tests.
type Stats struct {
	Frames        atomic.Int64 // frames read
	Answered      atomic.Int64 // responses written
	Shed          atomic.Int64 // authorizations left unanswered under overload
	FormatErrors  atomic.Int64 // frames answered 30
	ClosedOnError atomic.Int64 // connections closed for garbage or oversize
	Failed        atomic.Int64 // decisions that failed (96 or no acknowledgement)
	Panics        atomic.Int64
}

// Server serves the ISO 8583 edge.
type Server struct {
	decider Decider
	codec   *iso8583.Codec
	opts    Options
	log     *slog.Logger
	slots   chan struct{}
	stats   Stats

	baseCtx context.Context // decisions run under it, not under a connection
	cancel  context.CancelFunc

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup
}

// NewServer builds a server deciding with d.
func NewServer(d Decider, o Options) *Server {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 256
	}
	if o.MaxInFlightPerConn <= 0 {
		o.MaxInFlightPerConn = 64
	}
	if o.MaxFrameSize <= 0 {
		o.MaxFrameSize = iso8583.DefaultMaxFrameSize
	}
	if o.AuthorizationTimeout <= 0 {
		o.AuthorizationTimeout = 2 * time.Second
	}
	if o.AdviceTimeout <= 0 {
		o.AdviceTimeout = 10 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		decider: d, codec: iso8583.NewCodec(o.Text), opts: o, log: o.Logger,
		slots: make(chan struct{}, o.MaxInFlight), baseCtx: ctx, cancel: cancel,
		conns: make(map[*conn]struct{}),
	}
}

// Stats returns the server's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Serve accepts connections on ln until ctx ends, then stops reading, lets the
// decisions in flight finish and answer (for at most grace), and closes every
// connection. It returns nil after such a shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var acceptErr error
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				acceptErr = fmt.Errorf("network: accept: %w", err)
			}
			break
		}
		c := s.newConn(nc)
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
	s.shutdown(grace)
	return acceptErr
}

func (s *Server) shutdown(grace time.Duration) {
	s.mu.Lock()
	for c := range s.conns {
		c.stopReading()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		s.cancel() // decisions still running give up
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
	}
	s.cancel()
}

// conn is one network connection: a reader that dispatches each frame to its own
// goroutine, and a writer that sends responses as they come.
type conn struct {
	s        *Server
	nc       net.Conn
	inFlight chan struct{} // this connection's unanswered requests
	out      chan []byte   // framed responses
	done     chan struct{} // closed when the connection is finished with
	closing  atomic.Bool
	work     sync.WaitGroup
}

func (s *Server) newConn(nc net.Conn) *conn {
	return &conn{
		s: s, nc: nc,
		inFlight: make(chan struct{}, s.opts.MaxInFlightPerConn),
		out:      make(chan []byte, s.opts.MaxInFlightPerConn+1),
		done:     make(chan struct{}),
	}
}

// stopReading makes the reader return; requests in flight are still answered.
func (c *conn) stopReading() {
	c.closing.Store(true)
	if tc, ok := c.nc.(interface{ CloseRead() error }); ok {
		_ = tc.CloseRead()
	} else {
		_ = c.nc.SetReadDeadline(time.Now())
	}
}

func (c *conn) serve() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	c.work.Wait() // every request read gets its chance to answer
	close(c.done)
	<-writerDone
	c.nc.Close()
}

func (c *conn) readLoop() {
	defer func() {
		if r := recover(); r != nil {
			c.s.stats.Panics.Add(1)
			c.s.log.Error("network: reader panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	fr := iso8583.NewFrameReader(c.nc, c.s.opts.MaxFrameSize)
	for {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.s.opts.IdleTimeout))
		frame, err := fr.ReadFrame()
		if err != nil {
			if errors.Is(err, iso8583.ErrFrameTooLarge) {
				c.s.stats.ClosedOnError.Add(1)
				c.s.log.Warn("network: oversized frame; closing the connection", "remote", c.nc.RemoteAddr().String())
			} else if !errors.Is(err, io.EOF) && !c.closing.Load() {
				c.s.log.Info("network: connection ended", "remote", c.nc.RemoteAddr().String(), "err", err)
			}
			return
		}
		c.s.stats.Frames.Add(1)
		if !c.dispatch(frame) {
			c.s.stats.ClosedOnError.Add(1)
			return
		}
	}
}

// dispatch handles one frame; false closes the connection.
func (c *conn) dispatch(frame []byte) bool {
	req := new(iso8583.Request)
	if err := c.s.codec.UnpackRequest(frame, req); err != nil {
		resp, ferr := c.s.codec.AppendFormatError(make([]byte, 2, 64), frame)
		if ferr != nil {
			c.s.log.Warn("network: unreadable frame; closing the connection", "remote", c.nc.RemoteAddr().String(), "err", err)
			return false
		}
		c.s.stats.FormatErrors.Add(1)
		c.s.log.Info("network: frame answered with a format error", "err", err)
		c.send(resp)
		return true
	}
	family, known := domain.FamilyOf(req.MTI)
	if !known {
		if _, err := iso8583.ResponseMTI(req.MTI); err != nil {
			return true // a response or notification sent to us: nothing to answer
		}
		resp, err := c.s.codec.AppendFormatError(make([]byte, 2, 64), frame)
		if err == nil {
			c.s.stats.FormatErrors.Add(1)
			c.send(resp)
		}
		return true
	}
	if family == domain.FamilyNetwork {
		c.answer(req, iso8583.Answer{ResponseCode: domain.CodeApproved})
		return true
	}

	// One slot on the connection: when they are all taken, stop reading and let
	// TCP push back on the network.
	select {
	case c.inFlight <- struct{}{}:
	case <-c.s.baseCtx.Done():
		return false
	}
	if family.MustAcknowledge() {
		select {
		case c.s.slots <- struct{}{}:
		case <-c.s.baseCtx.Done():
			<-c.inFlight
			return false
		}
	} else {
		select {
		case c.s.slots <- struct{}{}:
		default:
			<-c.inFlight
			c.s.stats.Shed.Add(1)
			return true
		}
	}
	c.work.Add(1)
	go c.decide(req, family)
	return true
}

func (c *conn) decide(req *iso8583.Request, family domain.Family) {
	defer c.work.Done()
	defer func() { <-c.inFlight }()
	defer func() { <-c.s.slots }()
	defer func() {
		if r := recover(); r != nil {
			c.s.stats.Panics.Add(1)
			c.s.log.Error("network: decision panicked", "mti", req.MTI, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	timeout := c.s.opts.AuthorizationTimeout
	if family.MustAcknowledge() {
		timeout = c.s.opts.AdviceTimeout
	}
	ctx, cancel := context.WithTimeout(c.s.baseCtx, timeout)
	defer cancel()
	m := message(req)
	out, err := c.s.decider.Decide(ctx, m)
	if err != nil {
		c.s.stats.Failed.Add(1)
		c.s.log.Error("network: decision failed", "mti", req.MTI, "stan", req.STAN, "err", err)
		if family.MustAcknowledge() {
			return // unacknowledged: the network repeats it
		}
		if ctx.Err() != nil {
			return // too late to matter: the network has stood in
		}
		c.answer(req, iso8583.Answer{ResponseCode: domain.CodeSystemError})
		return
	}
	a := iso8583.Answer{ResponseCode: out.Code, ApprovalCode: out.ApprovalCode}
	switch {
	case family.MustAcknowledge():
		a = iso8583.Answer{ResponseCode: domain.CodeApproved}
	case out.Code == domain.CodePartialApproval:
		a.ApprovedAmount, a.ApprovedBillingAmount = domain.PartialAmounts(m, out.Approved)
	}
	c.answer(req, a)
}

func (c *conn) answer(req *iso8583.Request, a iso8583.Answer) {
	resp, err := c.s.codec.AppendResponse(make([]byte, 2, 256), req, a)
	if err != nil {
		c.s.log.Error("network: building the response", "mti", req.MTI, "err", err)
		return
	}
	c.send(resp)
}

// send queues a response built behind 2 reserved bytes for the length header.
func (c *conn) send(resp []byte) {
	n := len(resp) - 2
	resp[0], resp[1] = byte(n>>8), byte(n)
	select {
	case c.out <- resp:
	case <-c.done:
	}
}

func (c *conn) writeLoop() {
	buf := make([]byte, 0, 4096)
	for {
		var first []byte
		select {
		case first = <-c.out:
		case <-c.done:
			// Answers queued before the end still go out.
			for {
				select {
				case r := <-c.out:
					buf = append(buf, r...)
				default:
					c.flush(buf)
					return
				}
			}
		}
		// Batch whatever else is ready into one write.
		buf = append(buf[:0], first...)
	batch:
		for len(buf) < 32<<10 {
			select {
			case r := <-c.out:
				buf = append(buf, r...)
			default:
				break batch
			}
		}
		if !c.flush(buf) {
			// The peer is gone: keep draining so senders never block.
			for {
				select {
				case <-c.out:
				case <-c.done:
					return
				}
			}
		}
		buf = buf[:0]
	}
}

func (c *conn) flush(buf []byte) bool {
	if len(buf) == 0 {
		return true
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(buf); err != nil {
		c.nc.Close()
		return false
	}
	c.s.stats.Answered.Add(int64(countFrames(buf)))
	return true
}

func countFrames(buf []byte) int {
	n := 0
	for len(buf) >= 2 {
		size := int(buf[0])<<8 | int(buf[1])
		buf = buf[min(len(buf), 2+size):]
		n++
	}
	return n
}

// message copies the fields a decision reads out of the request.
func message(r *iso8583.Request) *domain.NetworkMessage {
	m := &domain.NetworkMessage{
		MTI: r.MTI, PAN: r.PAN, ProcessingCode: r.ProcessingCode,
		Amount: r.Amount, Currency: r.Currency,
		Transmission: r.TransmissionDateTime, STAN: r.STAN, Expiry: r.Expiry, MCC: r.MCC,
		AcquirerCountry: r.AcquirerCountry, POSEntryMode: r.POSEntryMode, POSCondition: r.POSCondition,
		AcquirerID: r.AcquirerID, Track2: r.Track2, RRN: r.RRN, ApprovalCode: r.ApprovalCode,
		ResponseCode: r.ResponseCode, TerminalID: r.TerminalID, MerchantID: r.MerchantID,
		MerchantName:         r.MerchantNameLocation,
		NetworkTransactionID: r.PrivateData.NetworkTransactionID, PartialApproval: r.PrivateData.PartialApproval,
		CVV2: r.PrivateData.CVV2, ECI: r.PrivateData.ECI, PINBlock: r.PINBlock,
		Original: domain.OriginalData{
			MTI: r.Original.MTI, STAN: r.Original.STAN, Transmission: r.Original.TransmissionDateTime,
			AcquirerID: r.Original.AcquirerID,
		},
		FinalAmount: r.Replacement.Amount, FinalBilling: r.Replacement.BillingAmount,
	}
	if r.Has(6) && r.BillingCurrency != "" {
		m.BillingAmount, m.BillingCurrency = r.BillingAmount, r.BillingCurrency
	}
	return m
}
