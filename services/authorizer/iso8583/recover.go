package iso8583

import "errors"

// ErrUnrecoverable means a frame that failed to unpack does not even yield a
// valid MTI and STAN, so there is nothing to answer: the connection is out of
// step with the network and should be closed.
var ErrUnrecoverable = errors.New("no MTI and STAN to answer")

// Identity is what a network needs to match a response to its request.
type Identity struct {
	MTI  string
	STAN string
}

// formatErrorEcho are the fields a format error response copies when they
// can be located and are themselves well formed.
var formatErrorEcho = fields(7, 11, 32, 37, 41)

// Recover finds the MTI and STAN (DE11) of a frame that failed to unpack.
// Every length prefix is BCD and every field before DE11 is numeric, so the
// walk needs no knowledge of the text encoding and gets past fields whose
// digits are bad as long as their lengths can be read.
func (c *Codec) Recover(frame []byte) (Identity, error) {
	var l layout
	_ = c.scan(frame, &l, false) // a partial walk is the point
	return c.identity(frame, &l)
}

func (c *Codec) identity(frame []byte, l *layout) (Identity, error) {
	if len(frame) < 2 || !c.wellFormed(frame, l, 11) {
		return Identity{}, ErrUnrecoverable
	}
	var buf [32]byte
	mtiDigits, err := appendDigits(buf[:0], frame, 4, true, false)
	if err != nil {
		return Identity{}, ErrUnrecoverable
	}
	stanDigits, _ := appendDigits(mtiDigits, frame[l.spans[11].start:], 6, true, false)
	s := string(stanDigits)
	id := Identity{MTI: s[:4], STAN: s[4:]}
	if _, err := ResponseMTI(id.MTI); err != nil {
		return Identity{}, ErrUnrecoverable
	}
	return id, nil
}

// wellFormed reports whether field id was located and its content is valid.
func (c *Codec) wellFormed(frame []byte, l *layout, id int) bool {
	s := l.spans[id]
	if s.end == 0 {
		return false
	}
	n, err := c.fieldSize(frame[s.start:s.end], id, true)
	return err == nil && n == int(s.end-s.start)
}

// AppendFormatError appends the answer to a frame that failed to unpack:
// the response MTI, DE39 30 (format error), and the request's DE7, DE11,
// DE32, DE37 and DE41 where they can be read. It returns ErrUnrecoverable
// when the MTI and STAN cannot be.
func (c *Codec) AppendFormatError(dst, frame []byte) ([]byte, error) {
	var l layout
	_ = c.scan(frame, &l, false)
	id, err := c.identity(frame, &l)
	if err != nil {
		return dst, err
	}
	mti, _ := ResponseMTI(id.MTI)
	var ps [6]part
	n := 0
	for fid := 2; fid <= 64; fid++ {
		switch {
		case fid == 39:
			ps[n] = part{id: 39, text: ResponseFormatError}
		case formatErrorEcho.has(fid) && c.wellFormed(frame, &l, fid):
			s := l.spans[fid]
			ps[n] = part{id: fid, wire: frame[s.start:s.end]}
		default:
			continue
		}
		n++
	}
	return c.appendMessage(dst, mti, ps[:n])
}
