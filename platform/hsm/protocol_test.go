package hsm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptBackend answers by rules a test can predict without cryptography, so
// these tests are about the protocol alone (package hsm tests the real engine
// over TCP).
type scriptBackend struct {
	// delay, when set, slows GenerateCVV so answers come back out of order.
	delay func(pan string) time.Duration
}

func (scriptBackend) Diagnostics(context.Context) (Diagnostics, error) {
	return Diagnostics{"AAAAAA", "BBBBBB", "CCCCCC", 7, "script 1"}, nil
}

func (scriptBackend) VerifyPIN(_ context.Context, r VerifyPINRequest) (bool, error) {
	switch r.PAN {
	case "4000000000000002":
		panic("backend bug")
	case "4000000000000010":
		return false, ErrInvalidPINBlock
	}
	return r.PVV == "1234", nil
}

func (scriptBackend) ComputePVV(_ context.Context, r ComputePVVRequest) (string, error) {
	return fmt.Sprintf("%d%d%d%d", r.PINBlock[0]%10, r.PINBlock[7]%10, r.PVKI, len(r.PAN)%10), nil
}

func (scriptBackend) VerifyCVV(_ context.Context, r VerifyCVVRequest) (bool, error) {
	return r.CVV == r.PAN[len(r.PAN)-3:], nil
}

func (b scriptBackend) GenerateCVV(ctx context.Context, r GenerateCVVRequest) (string, error) {
	if b.delay != nil {
		select {
		case <-time.After(b.delay(r.PAN)):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return r.PAN[len(r.PAN)-3:], nil
}

func (scriptBackend) WrapKey(_ context.Context, r WrapKeyRequest) (WrappedKey, error) {
	return WrappedKey{KEKVersion: 3, Wrapped: append([]byte(r.Label), r.Key...)}, nil
}

func (scriptBackend) UnwrapKey(_ context.Context, r UnwrapKeyRequest) (DataKey, error) {
	key, ok := bytes.CutPrefix(r.Wrapped, []byte(r.Label))
	if !ok {
		return DataKey{}, ErrUnwrapFailed
	}
	return DataKey{KEKVersion: 3, Key: key}, nil
}

// startServer serves backend on a free loopback port.
func startServer(t testing.TB, backend Backend, opts ServerOptions) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(backend, opts)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, ln.Addr().String()
}

func dial(t testing.TB, addr string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawConn is a test peer that writes frames byte for byte.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t, conn, bufio.NewReader(conn)}
}

// send writes the length prefix and payload.
func (c *rawConn) send(payload string) {
	c.t.Helper()
	frame := binary.BigEndian.AppendUint16(nil, uint16(len(payload)))
	if _, err := c.conn.Write(append(frame, payload...)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawConn) receive() string {
	c.t.Helper()
	payload, err := readFrame(c.r, 0)
	if err != nil {
		c.t.Fatalf("reading an answer: %v", err)
	}
	return string(payload)
}

// closedByPeer reports whether the server closed the connection.
func (c *rawConn) closedByPeer() bool {
	_, err := c.r.ReadByte()
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF)
}

// The frames here are written out by hand from the command table in doc.go,
// not produced by our encoder.
func TestServerAnswersHandWrittenFrames(t *testing.T) {
	_, addr := startServer(t, scriptBackend{}, ServerOptions{})
	c := dialRaw(t, addr)
	tests := []struct{ name, request, want string }{
		{"diagnostics", "0001NC", "0001ND00AAAAAABBBBBBCCCCCC0007script 1"},
		{"PIN verifies", "0002DC0123456789ABCDEF014111111111111111;11234", "0002DD00"},
		{"PIN does not verify", "0003DC0123456789ABCDEF014111111111111111;11235", "0003DD01"},
		{"PIN block not valid", "0004DC0123456789ABCDEF014000000000000010;11234", "0004DD20"},
		{"PIN block format 3 unsupported", "0005DC0123456789ABCDEF034111111111111111;11234", "0005DD23"},
		{"PIN block not hex", "0006DC0123456789ABCDEG014111111111111111;11234", "0006DD15"},
		{"PAN without delimiter", "0007DC0123456789ABCDEF01411111111111111111234", "0007DD15"},
		{"PAN too short", "0008DC0123456789ABCDEF0141111111111;11234", "0008DD15"},
		{"PVV missing", "0009DC0123456789ABCDEF014111111111111111;1", "0009DD15"},
		{"trailing bytes", "0010DC0123456789ABCDEF014111111111111111;11234X", "0010DD15"},
		// The script: PIN block byte 0 mod 10, byte 7 mod 10, PVKI, PAN length mod 10.
		{"compute PVV", "0011FW0123456789ABCDEF014111111111111111;3", "0011FX001936"},
		{"CVV2 verifies", "0012CY1114111111111111111;2612000", "0012CZ00"},
		{"CVV2 does not", "0013CY1124111111111111111;2612000", "0013CZ01"},
		{"generate CVV", "0014CW4111111111111234;2612101", "0014CX00234"},
		{"wrap", "0015WKab;000102030405060708090A0B0C0D0E0F", "0015WL00" + "0003" + "6162" + "000102030405060708090A0B0C0D0E0F"},
		{"wrap with empty label", "0016WK;000102030405060708090A0B0C0D0E0F", "0016WL00" + "0003" + "000102030405060708090A0B0C0D0E0F"},
		{"wrap, odd hex", "0017WKab;000102030405060708090A0B0C0D0E0", "0017WL15"},
		{"unwrap", "0018UKab;61620102030405060708090A0B0C0D0E0F10", "0018UL00" + "0003" + "0102030405060708090A0B0C0D0E0F10"},
		{"unwrap, other label", "0019UKzz;61620102030405060708090A0B0C0D0E0F10", "0019UL01"},
		{"unknown command", "0020XX123", "0020ZZ68"},
		{"lower-case command", "0021dc", "0021ZZ68"},
		{"header is echoed whatever it is", "\x00\xff ;NC", "\x00\xff ;ND00AAAAAABBBBBBCCCCCC0007script 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.send(tt.request)
			if got := c.receive(); got != tt.want {
				t.Fatalf("answer %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServerClosesConnectionOnGarbage(t *testing.T) {
	_, addr := startServer(t, scriptBackend{}, ServerOptions{})
	tests := []struct {
		name  string
		bytes []byte
	}{
		{"frame shorter than header and command", []byte{0, 5, '0', '0', '0', '1', 'N'}},
		{"empty frame", []byte{0, 0}},
		{"oversized frame", append([]byte{0xFF, 0xFF}, bytes.Repeat([]byte{'A'}, 100)...)},
		{"just past the limit", binary.BigEndian.AppendUint16(nil, MaxFrameLen+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			// A good request first: its answer must still arrive.
			c.send("0001NC")
			if _, err := c.conn.Write(tt.bytes); err != nil {
				t.Fatal(err)
			}
			if got := c.receive(); !strings.HasPrefix(got, "0001ND00") {
				t.Fatalf("answer before the garbage: %q", got)
			}
			if !c.closedByPeer() {
				t.Fatal("connection still open after garbage")
			}
		})
	}
	// A frame cut short by the peer closing: nothing to answer, nothing breaks.
	c := dialRaw(t, addr)
	c.conn.Write([]byte{0, 40, '0', '0', '0', '1', 'D', 'C'})
	c.conn.Close()

	// The server still serves everyone else.
	if _, err := dial(t, addr).Diagnostics(testContext(t)); err != nil {
		t.Fatalf("after garbage: %v", err)
	}
}

func TestServerSurvivesBackendPanic(t *testing.T) {
	_, addr := startServer(t, scriptBackend{}, ServerOptions{})
	c := dial(t, addr)
	ctx := testContext(t)
	_, err := c.VerifyPIN(ctx, VerifyPINRequest{PAN: "4000000000000002", PVKI: 1, PVV: "1234"})
	if !errors.Is(err, ErrInternalFailure) {
		t.Fatalf("panicking backend: err = %v, want ErrInternalFailure", err)
	}
	ok, err := c.VerifyPIN(ctx, VerifyPINRequest{PAN: "4111111111111111", PVKI: 1, PVV: "1234"})
	if !ok || err != nil {
		t.Fatalf("after the panic: %v, %v", ok, err)
	}
}

func TestServerAdmit(t *testing.T) {
	_, addr := startServer(t, scriptBackend{}, ServerOptions{
		Admit: func(_ context.Context, command string) error {
			switch command {
			case "CY":
				return ErrDisabled
			case "CW":
				return fmt.Errorf("%w: injected", ErrInternalFailure)
			}
			return nil
		},
	})
	c := dial(t, addr)
	ctx := testContext(t)
	_, err := c.VerifyCVV(ctx, VerifyCVVRequest{PAN: "4111111111111111", Expiry: "2612", ServiceCode: "000", CVV: "111"})
	var e *Error
	if !errors.Is(err, ErrDisabled) || !errors.As(err, &e) || e.Code != CodeDisabled || e.Command != "CY" {
		t.Fatalf("disabled: err = %v", err)
	}
	if _, err := c.GenerateCVV(ctx, GenerateCVVRequest{PAN: "4111111111111111", Expiry: "2612", ServiceCode: "000"}); !errors.Is(err, ErrInternalFailure) {
		t.Fatalf("fault: err = %v", err)
	}
	if _, err := c.Diagnostics(ctx); err != nil {
		t.Fatalf("admitted: %v", err)
	}
}

func TestClientRoundTrips(t *testing.T) {
	_, addr := startServer(t, scriptBackend{}, ServerOptions{})
	c := dial(t, addr)
	ctx := testContext(t)

	d, err := c.Diagnostics(ctx)
	if err != nil || d != (Diagnostics{"AAAAAA", "BBBBBB", "CCCCCC", 7, "script 1"}) {
		t.Fatalf("Diagnostics = %+v, %v", d, err)
	}
	pvv, err := c.ComputePVV(ctx, ComputePVVRequest{PINBlock: PINBlock{1, 0, 0, 0, 0, 0, 0, 9}, PAN: "4111111111111111", PVKI: 5})
	if err != nil || pvv != "1956" {
		t.Fatalf("ComputePVV = %q, %v", pvv, err)
	}
	w, err := c.WrapKey(ctx, WrapKeyRequest{Label: "authorizer/pan", Key: bytes.Repeat([]byte{7}, 32)})
	if err != nil || w.KEKVersion != 3 {
		t.Fatalf("WrapKey = %+v, %v", w, err)
	}
	k, err := c.UnwrapKey(ctx, UnwrapKeyRequest{Label: "authorizer/pan", Wrapped: w.Wrapped})
	if err != nil || !bytes.Equal(k.Key, bytes.Repeat([]byte{7}, 32)) || k.KEKVersion != 3 {
		t.Fatalf("UnwrapKey = %v, %v", k, err)
	}
	_, err = c.UnwrapKey(ctx, UnwrapKeyRequest{Label: "other", Wrapped: w.Wrapped})
	if !errors.Is(err, ErrUnwrapFailed) {
		t.Fatalf("UnwrapKey with another label: err = %v", err)
	}
	if _, err := c.VerifyPIN(ctx, VerifyPINRequest{PAN: "4000000000000010", PVKI: 1, PVV: "1234"}); !errors.Is(err, ErrInvalidPINBlock) {
		t.Fatalf("invalid PIN block: err = %v", err)
	}
}

// Values that would break the framing are refused before anything is sent.
func TestClientRefusesBadFieldsLocally(t *testing.T) {
	_, addr := startServer(t, scriptBackend{}, ServerOptions{})
	c := dial(t, addr)
	ctx := testContext(t)
	bad := []struct {
		name string
		call func() error
	}{
		{"PAN with a delimiter", func() error {
			_, err := c.VerifyPIN(ctx, VerifyPINRequest{PAN: "4111;1111111111", PVKI: 1, PVV: "1234"})
			return err
		}},
		{"PVKI 10", func() error {
			_, err := c.VerifyPIN(ctx, VerifyPINRequest{PAN: "4111111111111111", PVKI: 10, PVV: "1234"})
			return err
		}},
		{"label with a delimiter", func() error {
			_, err := c.WrapKey(ctx, WrapKeyRequest{Label: "a;b", Key: make([]byte, 32)})
			return err
		}},
		{"key of 8 bytes", func() error {
			_, err := c.WrapKey(ctx, WrapKeyRequest{Label: "a", Key: make([]byte, 8)})
			return err
		}},
		{"expiry of 3 digits", func() error {
			_, err := c.GenerateCVV(ctx, GenerateCVVRequest{PAN: "4111111111111111", Expiry: "261", ServiceCode: "000"})
			return err
		}},
	}
	for _, tt := range bad {
		err := tt.call()
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", tt.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "4111") {
			t.Errorf("%s: error quotes the PAN: %v", tt.name, err)
		}
	}
}

// Many requests in flight on one connection, answered out of order, each
// caller getting its own answer.
func TestClientPipelinesOutOfOrder(t *testing.T) {
	backend := scriptBackend{delay: func(pan string) time.Duration {
		return time.Duration(pan[len(pan)-1]-'0') * time.Millisecond
	}}
	_, addr := startServer(t, backend, ServerOptions{})
	c := dial(t, addr)
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for i := range 500 {
		wg.Go(func() {
			pan := fmt.Sprintf("4111111111%06d", i*7919%1000000)
			cvv, err := c.GenerateCVV(ctx, GenerateCVVRequest{PAN: pan, Expiry: "2612", ServiceCode: "101"})
			if err != nil || cvv != pan[len(pan)-3:] {
				errs <- fmt.Errorf("request %d: %q, %v", i, cvv, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A caller that gives up leaves its header reserved, so the late answer is not
// delivered to whoever sends next.
func TestClientCancelledCallDoesNotConfuseLaterOnes(t *testing.T) {
	backend := scriptBackend{delay: func(pan string) time.Duration {
		if strings.HasPrefix(pan, "5") {
			return 300 * time.Millisecond
		}
		return 0
	}}
	_, addr := startServer(t, backend, ServerOptions{})
	c := dial(t, addr)
	for range 20 {
		short, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		_, err := c.GenerateCVV(short, GenerateCVVRequest{PAN: "5111111111111999", Expiry: "2612", ServiceCode: "101"})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("slow call: err = %v", err)
		}
	}
	ctx := testContext(t)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) { // spans the late answers' arrival
		cvv, err := c.GenerateCVV(ctx, GenerateCVVRequest{PAN: "4111111111111123", Expiry: "2612", ServiceCode: "101"})
		if err != nil || cvv != "123" {
			t.Fatalf("after cancelled calls: %q, %v", cvv, err)
		}
	}
}

// When the connection is cut, the next call dials again.
func TestClientRedialsAfterConnectionLoss(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	first := NewServer(scriptBackend{}, ServerOptions{})
	go first.Serve(ln)
	c := dial(t, addr)
	ctx := testContext(t)
	if _, err := c.Diagnostics(ctx); err != nil {
		t.Fatal(err)
	}
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	first.Shutdown(expired) // cuts every connection at once

	_, addr2 := startServer(t, scriptBackend{}, ServerOptions{})
	// Point the client at the new server, as a restarted HSM on a new port.
	c.dial = func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr2)
	}
	var lastErr error
	for range 3 { // the first call may still see the old connection die
		if _, lastErr = c.Diagnostics(ctx); lastErr == nil {
			return
		}
	}
	t.Fatalf("no redial: %v", lastErr)
}

func TestClientClose(t *testing.T) {
	_, addr := startServer(t, scriptBackend{}, ServerOptions{})
	c := dial(t, addr)
	c.Close()
	if _, err := c.Diagnostics(testContext(t)); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("after Close: err = %v", err)
	}
}

func TestRequestsPrintWithoutSecrets(t *testing.T) {
	r := VerifyPINRequest{PINBlock: PINBlock{0xC9, 0x67}, PAN: "4111112222223333", PVKI: 1, PVV: "8523"}
	c := VerifyCVVRequest{PAN: "4111112222223333", Expiry: "2612", ServiceCode: "000", CVV: "987"}
	k := DataKey{KEKVersion: 1, Key: []byte("0123456789abcdef0123456789abcdef")}
	out := fmt.Sprintf("%v %+v %#v %v %#v %v %#v", r, r, r, c, c, k, k)
	for _, secret := range []string{"2222", "8523", "987", "C967", "c967", "0123456789abcdef"} {
		if strings.Contains(out, secret) {
			t.Fatalf("%q shows %s", out, secret)
		}
	}
	if !strings.Contains(out, "411111******3333") {
		t.Fatalf("%q should show the masked PAN", out)
	}
}

func TestLayout(t *testing.T) {
	l := cmdVerifyPIN.request
	encoded, err := l.encode(nil, "0123456789ABCDEF", "01", "4111111111111111", "1", "1234")
	if err != nil || string(encoded) != "0123456789ABCDEF014111111111111111;11234" {
		t.Fatalf("encode = %q, %v", encoded, err)
	}
	v, err := l.decode(encoded)
	if err != nil || string(v[2]) != "4111111111111111" || string(v[4]) != "1234" {
		t.Fatalf("decode = %q, %v", v, err)
	}
	for _, bad := range []string{
		"",
		"0123456789ABCDEF",
		"0123456789ABCDEF014111111111111111;1123",
		"0123456789ABCDEF014111111111111111;11234;",
		"0123456789ABCDEF0141111111111111111111;11234", // PAN of 20
		"0123456789ABCDEF01;11234",                     // empty PAN
	} {
		if _, err := l.decode([]byte(bad)); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("decode(%q): err = %v", bad, err)
		}
	}
}
