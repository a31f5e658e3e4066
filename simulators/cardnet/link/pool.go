// Package link is the card network's side of its connections to an issuer:
// N TCP connections in the authorizer's ISO 8583 wire format (2-byte length
// header, ISO87B layout, ASCII or EBCDIC text), each signed on with an 0800
// (DE70 001), kept alive with echoes (DE70 301) on a timer, signed off
// (DE70 002) on the way out, and redialled with exponential backoff and
// jitter after a cut.
//
// Many requests travel on one connection at once. Each answer is matched to
// its request by the response MTI and the fields the issuer echoes: STAN
// (DE11), transmission date and time (DE7) and terminal (DE41). A request's
// outcome is a Call; the caller decides how long to wait for it, so the
// network can stand in on a timeout and still see an answer that comes late.
package link

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andes-bank/andes/platform/backoff"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// Network management information codes (DE70).
const (
	SignOn  = "001"
	SignOff = "002"
	Echo    = "301"
)

// Direction says which way a frame went.
type Direction int

const (
	// Outbound frames go from the network to the issuer.
	Outbound Direction = iota
	// Inbound frames come from the issuer.
	Inbound
)

func (d Direction) String() string {
	if d == Outbound {
		return "->"
	}
	return "<-"
}

// State is a connection's state.
type State int

const (
	// Down: not connected, waiting to dial (after a backoff) or cut.
	Down State = iota
	// Connected: TCP is up, sign-on not yet answered.
	Connected
	// SignedOn: the issuer accepted the sign-on; requests may flow.
	SignedOn
)

func (s State) String() string {
	switch s {
	case Connected:
		return "connected"
	case SignedOn:
		return "signed-on"
	}
	return "down"
}

// Options configure a Pool.
type Options struct {
	// Addr is the issuer's ISO 8583 listener (ANDES_AUTHORIZER_EDGE_ADDR).
	Addr string
	// Codec packs and unpacks messages in the listener's text encoding.
	Codec *iso8583.Codec
	// Conns is the number of connections, at least 1.
	Conns int
	// AcquirerID is DE32 of network management messages.
	AcquirerID string
	// EchoInterval is the time between echoes on each connection; an echo
	// that goes unanswered closes the connection. Zero means 30s, negative
	// disables echoes.
	EchoInterval time.Duration
	// ManagementTimeout bounds the wait for an 0810 (default 5s).
	ManagementTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before redialling (defaults
	// 100ms and 5s); it doubles after each failure, with jitter.
	MinBackoff, MaxBackoff time.Duration
	// MaxInFlight bounds the requests waiting for answers on one connection
	// (default 1024).
	MaxInFlight int
	// MaxFrameSize bounds frames both ways (default iso8583.DefaultMaxFrameSize).
	MaxFrameSize int
	// Now is the clock for DE7 and send times (default time.Now).
	Now func() time.Time
	// Dial opens a connection (default a net.Dialer with a 5s timeout).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// OnFrame, when set, sees every message (without its length header) as
	// it is written or read, synchronously: it must not keep msg.
	OnFrame func(dir Direction, conn int, msg []byte)
	// OnState, when set, sees every connection state change.
	OnState func(conn int, s State, err error)
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

func (o *Options) setDefaults() error {
	if o.Addr == "" {
		return errors.New("link: no issuer address")
	}
	if o.Codec == nil {
		return errors.New("link: no codec")
	}
	if o.Conns <= 0 {
		o.Conns = 1
	}
	if o.EchoInterval == 0 {
		o.EchoInterval = 30 * time.Second
	}
	if o.ManagementTimeout <= 0 {
		o.ManagementTimeout = 5 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 1024
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Dial == nil {
		d := &net.Dialer{Timeout: 5 * time.Second}
		o.Dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Stats counts what happened on the pool's connections.
type Stats struct {
	Dials, DialFailures, SignOns, SignOnFailures, Echoes, EchoFailures, SignOffs int64
	// Unmatched answers had no call waiting (late after a timeout, or
	// unknown); Malformed frames did not unpack.
	Unmatched, Malformed int64
}

type counters struct {
	dials, dialFailures, signOns, signOnFailures, echoes, echoFailures, signOffs, unmatched, malformed atomic.Int64
}

// Pool holds the connections to one issuer.
type Pool struct {
	opts   Options
	logger *slog.Logger
	stats  counters
	stan   atomic.Uint32
	next   atomic.Uint32

	mu          sync.Mutex
	conns       []*conn       // by slot; nil while down
	ready       chan struct{} // closed and replaced whenever a connection signs on or goes down
	cut         bool
	restore     chan struct{} // closed when a cut ends
	onUnmatched func(conn int, resp *iso8583.Response)
}

// New returns a pool; Run connects it.
func New(o Options) (*Pool, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	p := &Pool{
		opts:    o,
		logger:  o.Logger,
		conns:   make([]*conn, o.Conns),
		ready:   make(chan struct{}),
		restore: make(chan struct{}),
	}
	close(p.restore)
	// STANs start from the clock so that runs against one issuer database
	// do not repeat each other's first STANs within a day.
	p.stan.Store(uint32(o.Now().UnixNano()/1e6) % 900000)
	return p, nil
}

// OnUnmatched sets a function told about every answer no call waited for.
func (p *Pool) OnUnmatched(fn func(conn int, resp *iso8583.Response)) {
	p.mu.Lock()
	p.onUnmatched = fn
	p.mu.Unlock()
}

// Codec is the pool's codec.
func (p *Pool) Codec() *iso8583.Codec { return p.opts.Codec }

// NextSTAN returns the next system trace audit number (DE11), 000001 to
// 999999, wrapping.
func (p *Pool) NextSTAN() string {
	n := p.stan.Add(1)%999999 + 1
	return fmt.Sprintf("%06d", n)
}

// Stamp gives req a STAN and a transmission date and time (DE7, UTC) when
// it has none.
func (p *Pool) Stamp(req *iso8583.Request) {
	if req.STAN == "" {
		req.STAN = p.NextSTAN()
	}
	if req.TransmissionDateTime == "" {
		req.TransmissionDateTime = p.opts.Now().UTC().Format("0102150405")
	}
}

// Run keeps every connection up until ctx ends, then signs each off and
// closes it. It returns nil after a clean stop.
func (p *Pool) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := range p.opts.Conns {
		wg.Go(func() { p.keep(ctx, i) })
	}
	wg.Wait()
	return nil
}

// Send stamps req (see Stamp) and sends it on the next signed-on connection
// with room, round robin. The Call gives the answer; the caller decides how
// long to wait.
func (p *Pool) Send(req *iso8583.Request) (*Call, error) {
	p.Stamp(req)
	p.mu.Lock()
	conns := p.conns
	n := len(conns)
	start := int(p.next.Add(1))
	var picked *conn
	anyUp := false
	for i := range n {
		c := conns[(start+i)%n]
		if c == nil || !c.signedOn.Load() {
			continue
		}
		anyUp = true
		if c.inFlight.Load() < int64(p.opts.MaxInFlight) {
			picked = c
			break
		}
	}
	p.mu.Unlock()
	switch {
	case picked != nil:
		return picked.send(req)
	case anyUp:
		return nil, ErrBusy
	}
	return nil, ErrNotConnected
}

// Exchange sends req and waits up to timeout for the answer.
func (p *Pool) Exchange(ctx context.Context, req *iso8583.Request, timeout time.Duration) (*iso8583.Response, error) {
	call, err := p.Send(req)
	if err != nil {
		return nil, err
	}
	return call.Wait(ctx, timeout)
}

// Ready returns how many connections are signed on.
func (p *Pool) Ready() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.conns {
		if c != nil && c.signedOn.Load() {
			n++
		}
	}
	return n
}

// WaitReady waits until at least n connections are signed on or ctx ends.
func (p *Pool) WaitReady(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		changed := p.ready
		p.mu.Unlock()
		if p.Ready() >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d signed-on connections (%d up): %w", n, p.Ready(), ctx.Err())
		}
	}
}

// Cut pulls the cable: every connection closes at once, without a sign-off,
// failing the calls in flight, and none is redialled until Restore.
func (p *Pool) Cut() {
	p.mu.Lock()
	if !p.cut {
		p.cut = true
		p.restore = make(chan struct{})
	}
	conns := append([]*conn(nil), p.conns...)
	p.mu.Unlock()
	for _, c := range conns {
		if c != nil {
			c.close(fmt.Errorf("%w: cable cut", ErrConnectionLost))
		}
	}
}

// Restore ends a cut: the connections redial at once.
func (p *Pool) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		p.cut = false
		close(p.restore)
	}
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	s := &p.stats
	return Stats{
		Dials: s.dials.Load(), DialFailures: s.dialFailures.Load(), SignOns: s.signOns.Load(),
		SignOnFailures: s.signOnFailures.Load(), Echoes: s.echoes.Load(), EchoFailures: s.echoFailures.Load(),
		SignOffs: s.signOffs.Load(), Unmatched: s.unmatched.Load(), Malformed: s.malformed.Load(),
	}
}

func (p *Pool) now() time.Time { return p.opts.Now() }

func (p *Pool) observeFrame(dir Direction, conn int, msg []byte) {
	if p.opts.OnFrame != nil {
		p.opts.OnFrame(dir, conn, msg)
	}
}

func (p *Pool) observeUnmatched(conn int, resp *iso8583.Response) {
	p.mu.Lock()
	fn := p.onUnmatched
	p.mu.Unlock()
	if fn != nil {
		fn(conn, resp)
	}
}

// setConn publishes slot's connection (nil when down) and wakes WaitReady.
func (p *Pool) setConn(slot int, c *conn, s State, err error) {
	p.mu.Lock()
	p.conns[slot] = c
	close(p.ready)
	p.ready = make(chan struct{})
	p.mu.Unlock()
	if p.opts.OnState != nil {
		p.opts.OnState(slot, s, err)
	}
}

// keep is one connection slot's life: wait out a cut, dial, sign on, echo,
// and start again after any failure, backing off.
func (p *Pool) keep(ctx context.Context, slot int) {
	retry := backoff.Policy{Base: p.opts.MinBackoff, Max: p.opts.MaxBackoff}
	failures := 0
	for ctx.Err() == nil {
		p.mu.Lock()
		restore := p.restore
		p.mu.Unlock()
		select {
		case <-restore:
		case <-ctx.Done():
			return
		}
		err := p.session(ctx, slot)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errSignedOn) {
			failures = 0 // it worked for a while: start over from the shortest wait
		}
		// Jitter keeps N connections from redialling in lockstep.
		wait := retry.Equal(failures)
		p.logger.Warn("issuer connection lost", "conn", slot, "err", err, "retry_in", wait)
		if !backoff.Sleep(ctx, wait) {
			return
		}
		failures++
	}
}

// errSignedOn wraps the end of a session that had signed on, so keep resets
// its backoff.
var errSignedOn = errors.New("session ended after sign-on")

// session dials once and serves the connection until it fails or ctx ends.
func (p *Pool) session(ctx context.Context, slot int) error {
	p.stats.dials.Add(1)
	nc, err := p.opts.Dial(ctx, p.opts.Addr)
	if err != nil {
		p.stats.dialFailures.Add(1)
		return fmt.Errorf("dial %s: %w", p.opts.Addr, err)
	}
	p.mu.Lock()
	cut := p.cut
	p.mu.Unlock()
	if cut { // the cable was pulled while dialling
		_ = nc.Close()
		return errors.New("cable cut")
	}
	c := newConn(slot, p, nc)
	go c.readLoop()
	p.setConn(slot, c, Connected, nil)
	defer func() {
		<-c.readDone
		p.setConn(slot, nil, Down, c.closeErr())
	}()

	if err := p.manage(ctx, c, SignOn); err != nil {
		p.stats.signOnFailures.Add(1)
		c.close(fmt.Errorf("sign-on: %w", err))
		return fmt.Errorf("sign-on: %w", err)
	}
	p.stats.signOns.Add(1)
	c.signedOn.Store(true)
	p.setConn(slot, c, SignedOn, nil)

	var tick <-chan time.Time
	if p.opts.EchoInterval > 0 {
		t := time.NewTicker(p.opts.EchoInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			c.signedOn.Store(false)
			p.setConn(slot, c, Connected, nil)
			if err := p.manage(context.WithoutCancel(ctx), c, SignOff); err == nil {
				p.stats.signOffs.Add(1)
			}
			c.close(errors.New("link: signed off"))
			return nil
		case <-c.readDone:
			return fmt.Errorf("%w: %w", errSignedOn, c.closeErr())
		case <-tick:
			if err := p.manage(ctx, c, Echo); err != nil {
				if ctx.Err() != nil {
					continue // the sign-off above handles it
				}
				p.stats.echoFailures.Add(1)
				c.close(fmt.Errorf("echo: %w", err))
				continue
			}
			p.stats.echoes.Add(1)
		}
	}
}

// manage sends an 0800 with code and waits for an 0810 with DE39 00.
func (p *Pool) manage(ctx context.Context, c *conn, code string) error {
	req := &iso8583.Request{MTI: "0800", AcquirerID: p.opts.AcquirerID, NetworkManagementCode: code}
	p.Stamp(req)
	call, err := c.send(req)
	if err != nil {
		return err
	}
	resp, err := call.Wait(ctx, p.opts.ManagementTimeout)
	if err != nil {
		return err
	}
	if resp.ResponseCode != iso8583.ResponseApproved {
		return fmt.Errorf("issuer answered DE70 %s with DE39 %q", code, resp.ResponseCode)
	}
	return nil
}

// Describe names a network management code for printing.
func Describe(code string) string {
	switch code {
	case SignOn:
		return "sign-on"
	case SignOff:
		return "sign-off"
	case Echo:
		return "echo"
	}
	return "network management " + strconv.Quote(code)
}
