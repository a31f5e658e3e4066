package hsm

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// ErrClientClosed is returned by calls on a closed Client.
var ErrClientClosed = errors.New("hsm: client closed")

// errTooManyAbandoned: so many callers gave up waiting that the connection is
// presumed stuck; it is closed and the next call dials afresh.
var errTooManyAbandoned = errors.New("hsm: too many requests left unanswered; connection reset")

// defaultMaxInFlight bounds requests in flight on one connection. It must stay
// well below the 65,536 distinct headers.
const defaultMaxInFlight = 1024

// Client talks to the HSM over one connection, with many requests in flight
// at once: each gets a header of its own and answers are matched by header,
// in whatever order they come. It is safe for concurrent use. When the
// connection breaks, calls in flight fail and the next call dials again;
// calls are never retried behind the caller's back.
//
// Each call ends when its context does. A request whose caller gave up keeps
// its header until the answer arrives, so a late answer is never mistaken for
// another request's.
type Client struct {
	addr        string
	dial        func(ctx context.Context) (net.Conn, error)
	maxInFlight int

	dialing chan struct{} // a one-slot lock that honours contexts

	mu     sync.Mutex
	conn   *clientConn
	closed bool
}

var _ Backend = (*Client)(nil)

// Dial connects to the HSM at addr, over TLS when tlsConfig is not nil.
func Dial(ctx context.Context, addr string, tlsConfig *tls.Config) (*Client, error) {
	c := &Client{
		addr:        addr,
		maxInFlight: defaultMaxInFlight,
		dialing:     make(chan struct{}, 1),
	}
	c.dial = func(ctx context.Context) (net.Conn, error) {
		if tlsConfig != nil {
			d := tls.Dialer{Config: tlsConfig}
			return d.DialContext(ctx, "tcp", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	if _, err := c.connection(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes the connection; calls in flight fail with ErrClientClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	cc := c.conn
	c.conn = nil
	c.mu.Unlock()
	if cc != nil {
		cc.fail(ErrClientClosed)
	}
	return nil
}

// Diagnostics sends NC.
func (c *Client) Diagnostics(ctx context.Context) (Diagnostics, error) {
	v, err := c.call(ctx, &cmdDiagnostics)
	if err != nil {
		return Diagnostics{}, err
	}
	version, _ := strconv.Atoi(string(v[3]))
	return Diagnostics{
		ZPKCheckValue: string(v[0]),
		PVKCheckValue: string(v[1]),
		CVKCheckValue: string(v[2]),
		KEKVersion:    version,
		Firmware:      string(v[4]),
	}, nil
}

// VerifyPIN sends DC: does the PIN in the block match the PVV?
func (c *Client) VerifyPIN(ctx context.Context, r VerifyPINRequest) (bool, error) {
	_, err := c.call(ctx, &cmdVerifyPIN,
		hexUpper(r.PINBlock[:]), pinFormatISO0, r.PAN, strconv.Itoa(r.PVKI), r.PVV)
	return matched(err)
}

// ComputePVV sends FW: the PVV of the PIN in the block.
func (c *Client) ComputePVV(ctx context.Context, r ComputePVVRequest) (string, error) {
	v, err := c.call(ctx, &cmdComputePVV,
		hexUpper(r.PINBlock[:]), pinFormatISO0, r.PAN, strconv.Itoa(r.PVKI))
	if err != nil {
		return "", err
	}
	return string(v[0]), nil
}

// VerifyCVV sends CY: is the CVV (CVV2, iCVV) right?
func (c *Client) VerifyCVV(ctx context.Context, r VerifyCVVRequest) (bool, error) {
	_, err := c.call(ctx, &cmdVerifyCVV, r.CVV, r.PAN, r.Expiry, r.ServiceCode)
	return matched(err)
}

// GenerateCVV sends CW: the card's CVV for this service code.
func (c *Client) GenerateCVV(ctx context.Context, r GenerateCVVRequest) (string, error) {
	v, err := c.call(ctx, &cmdGenerateCVV, r.PAN, r.Expiry, r.ServiceCode)
	if err != nil {
		return "", err
	}
	return string(v[0]), nil
}

// WrapKey sends WK: the data key wrapped under the current KEK.
func (c *Client) WrapKey(ctx context.Context, r WrapKeyRequest) (WrappedKey, error) {
	v, err := c.call(ctx, &cmdWrapKey, r.Label, hexUpper(r.Key))
	if err != nil {
		return WrappedKey{}, err
	}
	version, _ := strconv.Atoi(string(v[0]))
	wrapped, _ := hex.DecodeString(string(v[1])) // the layout checked it
	return WrappedKey{KEKVersion: version, Wrapped: wrapped}, nil
}

// UnwrapKey sends UK: the data key inside a wrapped key.
func (c *Client) UnwrapKey(ctx context.Context, r UnwrapKeyRequest) (DataKey, error) {
	v, err := c.call(ctx, &cmdUnwrapKey, r.Label, hexUpper(r.Wrapped))
	if err != nil {
		return DataKey{}, err
	}
	version, _ := strconv.Atoi(string(v[0]))
	key, _ := hex.DecodeString(string(v[1]))
	clear(v[1])
	return DataKey{KEKVersion: version, Key: key}, nil
}

// matched reads a verification's answer: 00 is a match, 01 a mismatch.
func matched(err error) (bool, error) {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeVerificationFailed {
		return false, nil
	}
	return err == nil, err
}

// call sends one command and returns the fields of its 00 answer, or an
// *Error for any other code. Values are checked against the layout before
// anything is sent.
func (c *Client) call(ctx context.Context, cmd *command, values ...string) ([][]byte, error) {
	fields, err := cmd.request.encode(nil, values...)
	if err != nil {
		return nil, err
	}
	cc, err := c.connection(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := cc.roundTrip(ctx, cmd.code, fields)
	if err != nil {
		return nil, err
	}
	if len(resp) < codeLen+2 || string(resp[:codeLen]) != cmd.response {
		return nil, fmt.Errorf("hsm: %s: unexpected response code %q", cmd.code, printable(resp[:min(len(resp), codeLen)]))
	}
	code := ErrorCode(resp[codeLen : codeLen+2])
	if code != CodeOK {
		return nil, &Error{Command: cmd.code, Code: code}
	}
	v, err := cmd.answer.decode(resp[codeLen+2:])
	if err != nil {
		return nil, fmt.Errorf("hsm: %s: malformed answer: %w", cmd.code, err)
	}
	return v, nil
}

// connection returns the live connection, dialling one if there is none.
func (c *Client) connection(ctx context.Context) (*clientConn, error) {
	if cc, err := c.current(); cc != nil || err != nil {
		return cc, err
	}
	select {
	case c.dialing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.dialing }()
	// Another caller may have dialled while this one waited.
	if cc, err := c.current(); cc != nil || err != nil {
		return cc, err
	}
	nc, err := c.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("hsm: dial %s: %w", c.addr, err)
	}
	cc := newClientConn(nc, c.maxInFlight)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cc.fail(ErrClientClosed)
		return nil, ErrClientClosed
	}
	c.conn = cc
	return cc, nil
}

func (c *Client) current() (*clientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClientClosed
	}
	if c.conn != nil && !isDone(c.conn.dead) {
		return c.conn, nil
	}
	return nil, nil
}

// clientConn is one connection and the requests in flight on it.
type clientConn struct {
	nc    net.Conn
	w     *frameWriter
	slots chan struct{} // bounds requests in flight, abandoned ones included

	mu           sync.Mutex
	pending      map[[headerLen]byte]*pendingCall
	next         uint16
	abandoned    int
	maxAbandoned int

	dead     chan struct{} // closed when the connection is unusable
	err      error         // why; set before dead is closed
	failOnce sync.Once
}

type pendingCall struct {
	answer    chan []byte // buffered: the reader never blocks on a caller
	abandoned bool
}

func newClientConn(nc net.Conn, maxInFlight int) *clientConn {
	cc := &clientConn{
		nc:           nc,
		slots:        make(chan struct{}, maxInFlight),
		pending:      make(map[[headerLen]byte]*pendingCall),
		maxAbandoned: maxInFlight / 2,
		dead:         make(chan struct{}),
	}
	cc.w = newFrameWriter(nc, maxInFlight, func(err error) {
		cc.fail(fmt.Errorf("hsm: connection lost: %w", err))
	})
	go cc.readLoop()
	return cc
}

// roundTrip sends one request and returns the response after its header.
func (cc *clientConn) roundTrip(ctx context.Context, code string, fields []byte) ([]byte, error) {
	select {
	case cc.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-cc.dead:
		return nil, cc.err
	}
	call := &pendingCall{answer: make(chan []byte, 1)}
	cc.mu.Lock()
	header := cc.freeHeader()
	cc.pending[header] = call
	cc.mu.Unlock()

	frame := newFrame(headerLen + codeLen + len(fields))
	frame = append(frame, header[:]...)
	frame = append(frame, code...)
	frame = finishFrame(append(frame, fields...))
	if !cc.w.send(ctx, frame) {
		// Never queued, so no answer can come: free the header now.
		cc.mu.Lock()
		delete(cc.pending, header)
		cc.mu.Unlock()
		<-cc.slots
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		<-cc.dead
		return nil, cc.err
	}

	select {
	case resp := <-call.answer:
		return resp, nil
	case <-ctx.Done():
		cc.abandon(header, call)
		return nil, ctx.Err()
	case <-cc.dead:
		select {
		case resp := <-call.answer: // answered just before the end
			return resp, nil
		default:
			return nil, cc.err
		}
	}
}

// freeHeader picks the next header not in use. Called with mu held; there are
// never more than maxInFlight pending, far fewer than the 65,536 headers, so
// the loop ends quickly.
func (cc *clientConn) freeHeader() [headerLen]byte {
	for {
		cc.next++
		var h [headerLen]byte
		hex.Encode(h[:], []byte{byte(cc.next >> 8), byte(cc.next)})
		if _, busy := cc.pending[h]; !busy {
			return h
		}
	}
}

// abandon records that nobody waits for this answer any more; the header
// stays reserved until the answer comes. Many abandoned requests mean the
// server has stopped answering this connection: drop it.
func (cc *clientConn) abandon(header [headerLen]byte, call *pendingCall) {
	cc.mu.Lock()
	if cc.pending[header] != call {
		cc.mu.Unlock()
		return // answered meanwhile
	}
	call.abandoned = true
	cc.abandoned++
	tooMany := cc.abandoned > cc.maxAbandoned
	cc.mu.Unlock()
	if tooMany {
		cc.fail(errTooManyAbandoned)
	}
}

func (cc *clientConn) readLoop() {
	r := bufio.NewReaderSize(cc.nc, 16<<10)
	for {
		payload, err := readFrame(r, headerLen+codeLen+2)
		if err != nil {
			cc.fail(fmt.Errorf("hsm: connection lost: %w", err))
			return
		}
		var header [headerLen]byte
		copy(header[:], payload)
		cc.mu.Lock()
		call, ok := cc.pending[header]
		if ok {
			delete(cc.pending, header)
			if call.abandoned {
				cc.abandoned--
			}
		}
		cc.mu.Unlock()
		if !ok {
			continue // not a header of ours: nothing to match it with
		}
		<-cc.slots
		call.answer <- payload[headerLen:]
	}
}

// fail makes the connection unusable: calls waiting on it return err.
func (cc *clientConn) fail(err error) {
	cc.failOnce.Do(func() {
		cc.err = err
		close(cc.dead)
		cc.nc.Close()
		cc.w.stop()
	})
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// printable quotes bytes for an error message without passing control bytes.
func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E {
			return '?'
		}
		return r
	}, string(b))
}
