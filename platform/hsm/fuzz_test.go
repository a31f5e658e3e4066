package hsm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// streamConn feeds the server a fixed byte stream and records what it writes.
type streamConn struct {
	in  io.Reader
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *streamConn) Read(p []byte) (int, error) { return c.in.Read(p) }
func (c *streamConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}
func (c *streamConn) Close() error                     { return nil }
func (c *streamConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *streamConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }

func frameOf(payload string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(payload))), payload...)
}

// Whatever bytes arrive, the server does not panic, and everything it writes
// is a well-formed answer: a frame of header, a response code, two digits, and
// for a known command, fields its layout accepts.
func FuzzServerConn(f *testing.F) {
	for _, seed := range []string{
		"0001NC",
		"0002DC0123456789ABCDEF014111111111111111;11234",
		"0003FW0123456789ABCDEF014111111111111111;3",
		"0004CY1114111111111111111;2612000",
		"0005CW4111111111111234;2612101",
		"0006WKab;000102030405060708090A0B0C0D0E0F",
		"0007UKab;61620102030405060708090A0B0C0D0E0F10",
		"0008XX",
	} {
		f.Add(frameOf(seed))
	}
	f.Add(append(frameOf("0001NC"), frameOf("0002CW4111111111111234;2612101")...))
	f.Add([]byte{0xFF, 0xFF, 0, 0})
	f.Add([]byte{0, 3, 'a', 'b', 'c'})

	srv := NewServer(scriptBackend{}, ServerOptions{})
	responses := map[string]*command{unknownCommandResponse: nil}
	for _, h := range handlers {
		responses[h.cmd.response] = h.cmd
	}

	f.Fuzz(func(t *testing.T, stream []byte) {
		conn := &streamConn{in: bytes.NewReader(stream)}
		done := make(chan struct{})
		go func() {
			srv.handleConn(context.Background(), conn)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("connection handling did not end")
		}

		r := bufio.NewReader(bytes.NewReader(conn.out.Bytes()))
		for {
			payload, err := readFrame(r, headerLen+codeLen+2)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("server wrote a malformed frame: %v", err)
			}
			body := payload[headerLen:]
			cmd, known := responses[string(body[:codeLen])]
			if !known {
				t.Fatalf("unknown response code %q", body[:codeLen])
			}
			code := ErrorCode(body[codeLen : codeLen+2])
			if code.meaning() == "unknown error code" {
				t.Fatalf("unknown error code %q", code)
			}
			if code == CodeOK {
				if cmd == nil {
					t.Fatal("ZZ answered 00")
				}
				if _, err := cmd.answer.decode(body[codeLen+2:]); err != nil {
					t.Fatalf("%s answer does not match its layout: %v", cmd.response, err)
				}
			} else if len(body) != codeLen+2 {
				t.Fatalf("error answer with fields: %q", body)
			}
		}
	})
}
