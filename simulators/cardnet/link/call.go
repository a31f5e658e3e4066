package link

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

var (
	// ErrNotConnected means no connection to the issuer is signed on: the
	// network stands in rather than waiting.
	ErrNotConnected = errors.New("link: no signed-on connection to the issuer")
	// ErrBusy means every signed-on connection has its maximum in flight.
	ErrBusy = errors.New("link: every connection has its maximum of requests in flight")
	// ErrConnectionLost means the connection carrying the request closed
	// before the answer came. The request may or may not have been
	// processed: its outcome is unknown.
	ErrConnectionLost = errors.New("link: connection lost before the answer")
	// ErrTimeout means the answer did not come within the caller's timeout.
	ErrTimeout = errors.New("link: no answer within the timeout")
	// ErrCancelled means the caller stopped waiting for the answer.
	ErrCancelled = errors.New("link: call cancelled")
	// ErrDuplicateKey means a request with the same STAN, transmission time
	// and terminal is already waiting for its answer on the connection.
	ErrDuplicateKey = errors.New("link: a request with the same STAN, DE7 and DE41 is in flight")
)

// key identifies a request's answer on one connection: the response MTI and
// the fields the issuer echoes unchanged (DE11, DE7, DE41).
type key struct {
	mti, stan, transmitted, terminal string
}

// Call is one request waiting for its answer.
type Call struct {
	key  key
	conn *conn
	sent time.Time

	done     chan struct{}
	once     sync.Once
	resp     *iso8583.Response
	err      error
	answered time.Time
}

// Done is closed when the answer came, the connection was lost or the call
// was cancelled.
func (c *Call) Done() <-chan struct{} { return c.done }

// Result is the answer, valid once Done is closed.
func (c *Call) Result() (*iso8583.Response, error) {
	<-c.done
	return c.resp, c.err
}

// Sent is when the request left.
func (c *Call) Sent() time.Time { return c.sent }

// Answered is when the call ended (its answer read), valid once Done is
// closed. A caller that noticed the answer late can still tell whether it
// came in time.
func (c *Call) Answered() time.Time {
	<-c.done
	return c.answered
}

// Wait waits for the answer for at most timeout (none when timeout <= 0) or
// until ctx ends. A call that times out is cancelled: a late answer is then
// counted as unmatched.
func (c *Call) Wait(ctx context.Context, timeout time.Duration) (*iso8583.Response, error) {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-c.done:
		return c.resp, c.err
	case <-expired:
		c.finish(nil, ErrTimeout)
	case <-ctx.Done():
		c.finish(nil, ErrCancelled)
	}
	return c.Result()
}

// Cancel stops waiting: the call ends with ErrCancelled unless it has
// already ended, and its slot on the connection is freed.
func (c *Call) Cancel() { c.finish(nil, ErrCancelled) }

// finish ends the call once; the first outcome wins.
func (c *Call) finish(resp *iso8583.Response, err error) bool {
	won := false
	c.once.Do(func() {
		won = true
		c.resp, c.err = resp, err
		c.answered = time.Now()
		if c.conn != nil {
			c.conn.forget(c)
		}
		close(c.done)
	})
	return won
}
