package supervisor

import (
	"bytes"
	"io"
	"sync"
)

// maxPartial bounds how much of an unfinished line is held back; a child that
// writes a long line without a newline is echoed in pieces rather than hoarded.
const maxPartial = 64 << 10

// prefixWriter echoes a child's output one whole line at a time, each led by the
// process's name, so lines of different children never interleave mid-line.
type prefixWriter struct {
	mu      *sync.Mutex // shared by every child's writer: they share one stream
	w       io.Writer
	prefix  []byte
	partial []byte
}

// Write never fails: the echo is a convenience, and an error here would cut the
// child's output to its log file too (io.MultiWriter stops at the first error).
func (pw *prefixWriter) Write(b []byte) (int, error) {
	n := len(b)
	pw.mu.Lock()
	defer pw.mu.Unlock()
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			pw.partial = append(pw.partial, b...)
			if len(pw.partial) >= maxPartial {
				pw.emit(append(pw.partial, '\n'))
			}
			break
		}
		pw.emit(append(pw.partial, b[:i+1]...))
		b = b[i+1:]
	}
	return n, nil
}

func (pw *prefixWriter) emit(line []byte) {
	_, _ = pw.w.Write(append(append([]byte{}, pw.prefix...), line...))
	pw.partial = pw.partial[:0]
}
