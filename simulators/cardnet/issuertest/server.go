// Package issuertest is a fake issuer for tests of the card network
// simulator and for demonstrations without the authorizer: an ISO 8583
// listener over real TCP in the authorizer's wire format (Server) and a
// small in-memory card ledger that decides like an issuer (Bank).
//
// It is not the authorizer: its rules are a few lines each and its ledger
// lives in memory. Tests of the network's behaviour (sign-on, echoes,
// matching, stand-in, advices, reversals) use it; the scenarios' tests
// against the real authorizer live beside them and skip until it exists.
package issuertest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// Handler decides requests other than network management. It returns false
// to leave a request unanswered.
type Handler interface {
	Handle(req *iso8583.Request) (iso8583.Answer, bool)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(req *iso8583.Request) (iso8583.Answer, bool)

// Handle calls f.
func (f HandlerFunc) Handle(req *iso8583.Request) (iso8583.Answer, bool) { return f(req) }

// Received is what the server saw of one request, and what it answered.
type Received struct {
	Conn           int
	MTI            string
	STAN           string
	Transmitted    string
	ManagementCode string
	TransactionID  string
	ResponseCode   string // DE39 the request carried (advices, reversals)
	Amount         int64
	Remaining      int64 // DE95
	Original       iso8583.OriginalData
	HasPINBlock    bool
	HasCVV2        bool
	// Handled is set once the request was decided and answered (or left
	// unanswered on purpose); Answer is the DE39 answered.
	Handled bool
	Answer  string
}

// Server is a fake issuer's ISO 8583 listener.
type Server struct {
	codec   *iso8583.Codec
	ln      net.Listener
	handler Handler

	mu           sync.Mutex
	conns        map[net.Conn]int
	nextConn     int
	received     []Received
	changed      chan struct{}
	refuseSignOn bool
	gates        []gate
	delay        func(*iso8583.Request) time.Duration
	closed       bool
	wg           sync.WaitGroup
}

type gate struct {
	match   func(*iso8583.Request) bool
	release chan struct{}
}

// Start listens on a free loopback port and serves h.
func Start(codec *iso8583.Codec, h Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{codec: codec, ln: ln, handler: h, conns: make(map[net.Conn]int), changed: make(chan struct{})}
	s.wg.Go(s.accept)
	return s, nil
}

// Addr is the listener's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening and closes every connection.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for _, g := range s.gates {
		closeOnce(g.release)
	}
	s.gates = nil
	s.mu.Unlock()
	_ = s.ln.Close()
	s.DropConnections()
	s.wg.Wait()
}

// DropConnections closes every open connection, as an issuer that
// restarts does; the listener stays up.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Connections returns how many connections are open.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// RefuseSignOn makes sign-ons answered with DE39 91 while on.
func (s *Server) RefuseSignOn(on bool) {
	s.mu.Lock()
	s.refuseSignOn = on
	s.mu.Unlock()
}

// SetDelay makes the server wait d(req) before answering each request that
// is not network management (nil: answer at once).
func (s *Server) SetDelay(d func(*iso8583.Request) time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Hold keeps the answers to requests that match from going out until
// release is called: a way to make an answer late without timing.
func (s *Server) Hold(match func(*iso8583.Request) bool) (release func()) {
	g := gate{match: match, release: make(chan struct{})}
	s.mu.Lock()
	s.gates = append(s.gates, g)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.gates = slices.DeleteFunc(s.gates, func(x gate) bool { return x.release == g.release })
		s.mu.Unlock()
		closeOnce(g.release)
	}
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// Received returns every request seen so far, in arrival order.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// WaitFor waits until cond holds over the requests received so far, in
// arrival order, or ctx ends. It is checked again on every arrival and every
// answer.
func (s *Server) WaitFor(ctx context.Context, cond func([]Received) bool) error {
	for {
		s.mu.Lock()
		ok := cond(s.received)
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("issuertest: condition not met: %w", ctx.Err())
		}
	}
}

// Count returns how many of rs have the MTI (and, for 0800, DE70 code when
// given) and have been handled.
func Count(rs []Received, mti string, code string) int {
	n := 0
	for _, r := range rs {
		if r.Handled && r.MTI == mti && (code == "" || r.ManagementCode == code) {
			n++
		}
	}
	return n
}

func (s *Server) accept() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.nextConn++
		id := s.nextConn
		s.conns[nc] = id
		s.mu.Unlock()
		s.wg.Go(func() { s.serve(nc, id) })
	}
}

func (s *Server) serve(nc net.Conn, id int) {
	var answering sync.WaitGroup
	defer func() {
		_ = nc.Close()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		answering.Wait() // held answers go nowhere once released
	}()
	var wmu sync.Mutex
	fw := iso8583.NewFrameWriter(nc, 0)
	fr := iso8583.NewFrameReader(nc, 0)
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			return
		}
		req := new(iso8583.Request)
		if err := s.codec.UnpackRequest(frame, req); err != nil {
			out, ferr := s.codec.AppendFormatError(nil, frame)
			if ferr != nil {
				return
			}
			wmu.Lock()
			_ = fw.WriteFrame(out)
			wmu.Unlock()
			continue
		}
		// Requests are answered concurrently, as the authorizer does, so
		// answers may overtake each other.
		at := s.record(received(id, req))
		answering.Go(func() {
			answer, ok := s.decide(req)
			if ok {
				out, err := s.codec.AppendResponse(nil, req, answer)
				if err == nil {
					wmu.Lock()
					_ = fw.WriteFrame(out)
					wmu.Unlock()
				}
			}
			s.update(at, func(r *Received) {
				r.Handled = true
				if ok {
					r.Answer = answer.ResponseCode
				}
			})
		})
	}
}

func (s *Server) decide(req *iso8583.Request) (iso8583.Answer, bool) {
	if req.MTI == "0800" {
		s.mu.Lock()
		refuse := s.refuseSignOn && req.NetworkManagementCode == "001"
		s.mu.Unlock()
		if refuse {
			return iso8583.Answer{ResponseCode: "91"}, true
		}
		return iso8583.Answer{ResponseCode: iso8583.ResponseApproved}, true
	}
	answer, ok := s.handler.Handle(req)
	s.mu.Lock()
	delay := s.delay
	var waits []chan struct{}
	for _, g := range s.gates {
		if g.match(req) {
			waits = append(waits, g.release)
		}
	}
	s.mu.Unlock()
	if delay != nil {
		time.Sleep(delay(req)) // simulated issuer latency, not a test's wait
	}
	for _, w := range waits {
		<-w
	}
	return answer, ok
}

// record notes a request as it arrives, so Received keeps arrival order,
// and returns its index.
func (s *Server) record(r Received) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, r)
	s.notify()
	return len(s.received) - 1
}

// update changes the record at index i once the request was handled.
func (s *Server) update(i int, fn func(*Received)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.received[i])
	s.notify()
}

// notify wakes WaitFor; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func received(conn int, req *iso8583.Request) Received {
	return Received{
		Conn: conn, MTI: req.MTI, STAN: req.STAN, Transmitted: req.TransmissionDateTime,
		ManagementCode: req.NetworkManagementCode, TransactionID: req.PrivateData.NetworkTransactionID,
		ResponseCode: req.ResponseCode, Amount: req.Amount, Remaining: req.Replacement.Amount,
		Original: req.Original, HasPINBlock: len(req.PINBlock) > 0, HasCVV2: req.PrivateData.CVV2 != "",
	}
}
