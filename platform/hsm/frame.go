package hsm

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

const (
	headerLen = 4
	codeLen   = 2
	// MaxFrameLen bounds a frame after its length prefix. The largest
	// legitimate message (UK with a 64-byte label) is about 200 bytes.
	MaxFrameLen = 1024
)

// errBadFrame: a length prefix outside the bounds. The stream cannot be
// resynchronised after one, so the connection is closed.
var errBadFrame = errors.New("hsm: frame length out of bounds")

// readFrame reads one frame and returns its payload in a fresh slice (each
// request is handled concurrently, so no buffer is reused).
func readFrame(r *bufio.Reader, minLen int) ([]byte, error) {
	var prefix [2]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(prefix[:]))
	if n < minLen || n > MaxFrameLen {
		return nil, fmt.Errorf("%w: %d bytes", errBadFrame, n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return payload, nil
}

// newFrame starts a frame with room for its length prefix; finishFrame fills
// the prefix in.
func newFrame(size int) []byte { return make([]byte, 2, 2+size) }

func finishFrame(frame []byte) []byte {
	binary.BigEndian.PutUint16(frame, uint16(len(frame)-2))
	return frame
}

// frameWriter owns the write side of a connection. Requests (or answers)
// finish in any order on many goroutines; one writer takes whatever frames are
// queued, writes them in one flush, and so turns a burst of small frames into
// few system calls.
type frameWriter struct {
	conn     net.Conn
	queue    chan []byte
	stopping chan struct{} // closed: write what is queued, then exit
	done     chan struct{} // closed once the writer has exited
	stopOnce sync.Once
	onError  func(error)
}

func newFrameWriter(conn net.Conn, depth int, onError func(error)) *frameWriter {
	w := &frameWriter{
		conn:     conn,
		queue:    make(chan []byte, depth),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
		onError:  onError,
	}
	go w.run()
	return w
}

func (w *frameWriter) run() {
	defer close(w.done)
	bw := bufio.NewWriterSize(w.conn, 16<<10)
	for {
		select {
		case frame := <-w.queue:
			bw.Write(frame) // errors are sticky; Flush reports them
		case <-w.stopping:
			for {
				select {
				case frame := <-w.queue:
					bw.Write(frame)
				default:
					if err := bw.Flush(); err != nil {
						w.onError(err)
					}
					return
				}
			}
		}
		for more := true; more; {
			select {
			case frame := <-w.queue:
				bw.Write(frame)
			default:
				more = false
			}
		}
		if err := bw.Flush(); err != nil {
			w.onError(err)
			return
		}
	}
}

// send queues a frame. It reports false when the frame was not queued: the
// writer has stopped, or ctx ended first.
func (w *frameWriter) send(ctx context.Context, frame []byte) bool {
	select {
	case <-w.done:
		return false
	default:
	}
	select {
	case w.queue <- frame:
		return true
	case <-w.done:
		return false
	case <-ctx.Done():
		return false
	}
}

// stop asks the writer to write what is queued and exit, without waiting.
func (w *frameWriter) stop() { w.stopOnce.Do(func() { close(w.stopping) }) }

// close stops the writer and waits until it has exited.
func (w *frameWriter) close() {
	w.stop()
	<-w.done
}
