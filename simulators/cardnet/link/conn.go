package link

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// writeTimeout bounds one frame write: an issuer that stops reading must not
// hold the sender forever. The connection is closed when it passes.
const writeTimeout = 5 * time.Second

// conn is one TCP connection to the issuer: one reader goroutine matching
// answers to the calls waiting on it; writes combined (see write).
type conn struct {
	id    int
	pool  *Pool
	nc    net.Conn
	codec *iso8583.Codec

	wmu      sync.Mutex
	buf      []byte // the message being packed
	out      []byte // framed messages waiting for the writing sender
	spare    []byte // the other of the two buffers out alternates between
	flushing bool   // a sender is writing; it writes what others queue meanwhile

	mu      sync.Mutex
	pending map[key]*Call
	closed  bool
	err     error // why it closed

	signedOn atomic.Bool
	inFlight atomic.Int64
	readDone chan struct{}
}

func newConn(id int, p *Pool, nc net.Conn) *conn {
	return &conn{
		id:       id,
		pool:     p,
		nc:       nc,
		codec:    p.opts.Codec,
		pending:  make(map[key]*Call),
		readDone: make(chan struct{}),
	}
}

// send registers a call for req's answer and writes req.
func (c *conn) send(req *iso8583.Request) (*Call, error) {
	respMTI, err := iso8583.ResponseMTI(req.MTI)
	if err != nil {
		return nil, err
	}
	call := &Call{
		key:  key{mti: respMTI, stan: req.STAN, transmitted: req.TransmissionDateTime, terminal: req.TerminalID},
		conn: c,
		done: make(chan struct{}),
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrConnectionLost
	}
	if _, dup := c.pending[call.key]; dup {
		c.mu.Unlock()
		return nil, ErrDuplicateKey
	}
	c.pending[call.key] = call
	c.mu.Unlock()
	c.inFlight.Add(1)

	c.wmu.Lock()
	c.buf, err = c.codec.AppendRequest(c.buf[:0], req)
	if err == nil {
		c.pool.observeFrame(Outbound, c.id, c.buf)
		call.sent = c.pool.now()
		err = c.write(c.buf)
	}
	c.wmu.Unlock()
	if err != nil {
		call.finish(nil, err)
		if errors.Is(err, ErrConnectionLost) {
			c.close(err)
		}
		return nil, err
	}
	return call, nil
}

// forget removes a finished call from the pending set.
func (c *conn) forget(call *Call) {
	c.mu.Lock()
	if c.pending[call.key] == call {
		delete(c.pending, call.key)
		c.inFlight.Add(-1)
	}
	c.mu.Unlock()
}

// readLoop reads frames until the connection fails, answering the issuer's
// own network management requests and handing answers to their calls.
func (c *conn) readLoop() {
	defer close(c.readDone)
	fr := iso8583.NewFrameReader(c.nc, c.pool.opts.MaxFrameSize)
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			c.close(fmt.Errorf("%w: %w", ErrConnectionLost, err))
			return
		}
		c.pool.observeFrame(Inbound, c.id, frame)
		if len(frame) >= 2 && isRequestMTI(frame[1]) {
			c.answerIssuerRequest(frame)
			continue
		}
		resp := new(iso8583.Response)
		if err := c.codec.UnpackResponse(frame, resp); err != nil {
			c.pool.stats.malformed.Add(1)
			c.pool.logger.Warn("issuer answer does not unpack", "conn", c.id, "err", err)
			continue
		}
		k := key{mti: resp.MTI, stan: resp.STAN, transmitted: resp.TransmissionDateTime, terminal: resp.TerminalID}
		c.mu.Lock()
		call := c.pending[k]
		c.mu.Unlock()
		if call == nil || !call.finish(resp, nil) {
			c.pool.stats.unmatched.Add(1)
			c.pool.observeUnmatched(c.id, resp)
		}
	}
}

// isRequestMTI tells a request or advice (function digit 0 or 2) from an
// answer by the MTI's second BCD byte (function and origin digits).
func isRequestMTI(b byte) bool {
	function := b >> 4
	return function == 0 || function == 2
}

// answerIssuerRequest answers an echo or other network management request
// the issuer sends; anything else from the issuer is not ours to answer.
func (c *conn) answerIssuerRequest(frame []byte) {
	var req iso8583.Request
	if err := c.codec.UnpackRequest(frame, &req); err != nil {
		c.pool.stats.malformed.Add(1)
		return
	}
	if req.MTI != "0800" {
		c.pool.logger.Warn("issuer sent a request the network does not take", "conn", c.id, "mti", req.MTI)
		return
	}
	out, err := c.codec.AppendResponse(nil, &req, iso8583.Answer{ResponseCode: iso8583.ResponseApproved})
	if err != nil {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.pool.observeFrame(Outbound, c.id, out)
	if err := c.write(out); err != nil {
		go c.close(err)
	}
}

// write queues msg behind its length header and, unless another sender is
// already writing, writes everything queued, outside the lock, until nothing
// is left. Under load, messages sent while a write is in progress go out
// together in the next one: one system call for many requests, and no
// goroutine hand-off for a lone one. It is called with wmu held and returns
// with it held; a write error (wrapping ErrConnectionLost) means the
// connection must close, and the calls waiting on it fail with it.
func (c *conn) write(msg []byte) error {
	var err error
	if c.out, err = iso8583.AppendFrame(c.out, msg, c.pool.opts.MaxFrameSize); err != nil {
		return err
	}
	if c.flushing {
		return nil
	}
	c.flushing = true
	defer func() { c.flushing = false }()
	for len(c.out) > 0 {
		batch := c.out
		c.out = c.spare[:0]
		c.wmu.Unlock()
		_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := c.nc.Write(batch)
		c.wmu.Lock()
		c.spare = batch[:0]
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConnectionLost, err)
		}
	}
	return nil
}

// close shuts the connection and fails every call still waiting on it: their
// answers can no longer come.
func (c *conn) close(why error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.err = why
	c.signedOn.Store(false)
	calls := make([]*Call, 0, len(c.pending))
	for _, call := range c.pending {
		calls = append(calls, call)
	}
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, call := range calls {
		call.finish(nil, why)
	}
}

func (c *conn) closeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
