package iso8583

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frames on the network connection: a 2-byte big-endian length, then that
// many bytes of message.

// DefaultMaxFrameSize bounds a frame. Authorization traffic is a few hundred
// bytes; a header announcing more than this is garbage or an attack, and
// reading it would tie up memory.
const DefaultMaxFrameSize = 8 << 10

// ErrFrameTooLarge reports a frame header announcing more than the maximum.
// The stream cannot be trusted after it: close the connection.
var ErrFrameTooLarge = errors.New("frame too large")

// FrameReader reads length-prefixed frames. It is not safe for concurrent
// use; one goroutine reads each connection.
type FrameReader struct {
	r   *bufio.Reader
	max int
}

// NewFrameReader reads frames from r, refusing any over max bytes (at most
// 65535, what the header can express; max <= 0 means DefaultMaxFrameSize).
func NewFrameReader(r io.Reader, max int) *FrameReader {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	return &FrameReader{r: bufio.NewReaderSize(r, 4096), max: min(max, 0xFFFF)}
}

// ReadFrame returns the next frame's message in a new slice the caller owns
// (requests are answered concurrently, so a shared buffer would be
// overwritten under them). Empty frames are keep-alives and are skipped. At
// a clean end of stream it returns io.EOF; a stream that ends inside a frame
// gives io.ErrUnexpectedEOF.
func (fr *FrameReader) ReadFrame() ([]byte, error) {
	for {
		var header [2]byte
		if _, err := io.ReadFull(fr.r, header[:]); err != nil {
			return nil, err // io.EOF before a header, io.ErrUnexpectedEOF inside it
		}
		size := int(binary.BigEndian.Uint16(header[:]))
		if size == 0 {
			continue
		}
		if size > fr.max {
			return nil, fmt.Errorf("%w: header announces %d bytes, maximum %d", ErrFrameTooLarge, size, fr.max)
		}
		frame := make([]byte, size)
		if _, err := io.ReadFull(fr.r, frame); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading a %d-byte frame: %w", size, err)
		}
		return frame, nil
	}
}

// FrameWriter writes length-prefixed frames, each with a single Write so
// that a frame is never interleaved with another writer's bytes at the
// io.Writer level. It is not safe for concurrent use: serialize callers
// (one writer goroutine per connection, or a mutex).
type FrameWriter struct {
	w   io.Writer
	max int
	buf []byte
}

// NewFrameWriter writes frames to w, refusing messages over max bytes
// (max <= 0 means DefaultMaxFrameSize).
func NewFrameWriter(w io.Writer, max int) *FrameWriter {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	return &FrameWriter{w: w, max: min(max, 0xFFFF)}
}

// WriteFrame writes msg behind its length header.
func (fw *FrameWriter) WriteFrame(msg []byte) error {
	var err error
	fw.buf, err = AppendFrame(fw.buf[:0], msg, fw.max)
	if err != nil {
		return err
	}
	_, err = fw.w.Write(fw.buf)
	return err
}

// AppendFrame appends msg with its 2-byte length header to dst, refusing
// messages over max bytes (max <= 0 means DefaultMaxFrameSize).
func AppendFrame(dst, msg []byte, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxFrameSize
	}
	max = min(max, 0xFFFF)
	if len(msg) == 0 {
		return dst, errors.New("empty frame: a message has at least an MTI and a bitmap")
	}
	if len(msg) > max {
		return dst, fmt.Errorf("%w: %d bytes, maximum %d", ErrFrameTooLarge, len(msg), max)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(msg)))
	return append(dst, msg...), nil
}
