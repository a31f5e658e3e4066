package hsm_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	protocol "github.com/andes-bank/andes/platform/hsm"
	"github.com/andes-bank/andes/simulators/hsm"
	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
)

// A card of the demo kind: PIN 4524, its PVV under the dev PVK, expiry Dec 2029.
const (
	testPAN    = "4761340000000019"
	testPIN    = "4524"
	testExpiry = "2912"
)

// startHSM runs the simulator with the development keys on a free loopback
// port, as the manifest's tests do, and returns a client connected to it.
func startHSM(t testing.TB, faults hsm.FaultSettings) (*hsm.Service, *protocol.Client, string) {
	t.Helper()
	svc, err := hsm.New(hsm.Config{Keys: hsm.DevKeys(), Faults: faults}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ln) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := protocol.Dial(ctx, ln.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := svc.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, protocol.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return svc, client, ln.Addr().String()
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pinBlock builds what a terminal would send, under the dev ZPK that the card
// network simulator shares with the HSM.
func pinBlock(t testing.TB, pin, pan string) protocol.PINBlock {
	t.Helper()
	b, err := paycrypto.EncryptPINBlock(hsm.DevKeys().ZPK, pin, pan)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.PINBlock(b)
}

func TestDevKeysCheckValues(t *testing.T) {
	k := hsm.DevKeys()
	got := [...]string{k.ZPK.CheckValue(), k.PVK.CheckValue(), k.CVK.CheckValue()}
	if got != [...]string{"392C08", "A90A9F", "D63B66"} {
		t.Fatalf("dev key check values %v differ from the ones documented in config.go", got)
	}
}

func TestPINOverTCP(t *testing.T) {
	_, c, _ := startHSM(t, hsm.FaultSettings{})
	ctx := testContext(t)

	// Setting the PIN: the issuer sends the encrypted block and stores the PVV.
	pvv, err := c.ComputePVV(ctx, protocol.ComputePVVRequest{PINBlock: pinBlock(t, testPIN, testPAN), PAN: testPAN, PVKI: 1})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := paycrypto.PVV(hsm.DevKeys().PVK, testPAN, 1, testPIN)
	if pvv != want {
		t.Fatalf("PVV over TCP %s, computed locally %s", pvv, want)
	}

	otherZPK, _ := paycrypto.ParseDESKey("0123456789ABCDEFFEDCBA9876543210")
	underOtherKey, _ := paycrypto.EncryptPINBlock(otherZPK, testPIN, testPAN)
	tests := []struct {
		name    string
		block   protocol.PINBlock
		pvv     string
		want    bool
		wantErr error
	}{
		{"right PIN", pinBlock(t, testPIN, testPAN), pvv, true, nil},
		{"wrong PIN", pinBlock(t, "4525", testPAN), pvv, false, nil},
		{"right PIN, longer", pinBlock(t, testPIN+"99", testPAN), pvv, true, nil}, // Visa PVV uses the first 4 digits
		{"PIN block for another card", pinBlock(t, testPIN, "4761340000000027"), pvv, false, nil},
		{"PIN block under another ZPK", protocol.PINBlock(underOtherKey), pvv, false, protocol.ErrInvalidPINBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := c.VerifyPIN(ctx, protocol.VerifyPINRequest{PINBlock: tt.block, PAN: testPAN, PVKI: 1, PVV: tt.pvv})
			if tt.wantErr != nil {
				// Under another key the block decodes to garbage: 20 or, when
				// only the length nibble is off, 24.
				if !errors.Is(err, protocol.ErrInvalidPINBlock) && !errors.Is(err, protocol.ErrInvalidPINLength) {
					t.Fatalf("err = %v, want an invalid PIN block", err)
				}
				return
			}
			if err != nil && !errors.Is(err, protocol.ErrInvalidPINBlock) {
				t.Fatal(err)
			}
			if ok != tt.want {
				t.Fatalf("verified = %v, want %v", ok, tt.want)
			}
		})
	}
}

func TestCVVOverTCP(t *testing.T) {
	_, c, _ := startHSM(t, hsm.FaultSettings{})
	ctx := testContext(t)

	// Issuance: CVV2 for the card's back, shown once.
	cvv2, err := c.GenerateCVV(ctx, protocol.GenerateCVVRequest{PAN: testPAN, Expiry: testExpiry, ServiceCode: protocol.ServiceCodeCVV2})
	if err != nil {
		t.Fatal(err)
	}
	stripe, err := c.GenerateCVV(ctx, protocol.GenerateCVVRequest{PAN: testPAN, Expiry: testExpiry, ServiceCode: "201"})
	if err != nil {
		t.Fatal(err)
	}
	wrongCVV2 := fmt.Sprintf("%03d", (int(cvv2[0]-'0')*100+int(cvv2[1]-'0')*10+int(cvv2[2]-'0')+1)%1000)
	tests := []struct {
		name, expiry, serviceCode, cvv string
		want                           bool
	}{
		{"right CVV2", testExpiry, protocol.ServiceCodeCVV2, cvv2, true},
		{"wrong CVV2", testExpiry, protocol.ServiceCodeCVV2, wrongCVV2, false},
		{"right CVV2, wrong expiry", "2911", protocol.ServiceCodeCVV2, cvv2, false},
		{"stripe CVV", testExpiry, "201", stripe, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := c.VerifyCVV(ctx, protocol.VerifyCVVRequest{PAN: testPAN, Expiry: tt.expiry, ServiceCode: tt.serviceCode, CVV: tt.cvv})
			if err != nil || ok != tt.want {
				t.Fatalf("VerifyCVV = %v, %v; want %v", ok, err, tt.want)
			}
		})
	}
}

func TestKeyWrapOverTCP(t *testing.T) {
	_, c, _ := startHSM(t, hsm.FaultSettings{})
	ctx := testContext(t)
	dek := bytes.Repeat([]byte{0x42}, 32)
	w, err := c.WrapKey(ctx, protocol.WrapKeyRequest{Label: "authorizer/pan", Key: dek})
	if err != nil {
		t.Fatal(err)
	}
	if w.KEKVersion != 1 || bytes.Contains(w.Wrapped, dek[:8]) {
		t.Fatalf("wrapped = %+v", w)
	}
	k, err := c.UnwrapKey(ctx, protocol.UnwrapKeyRequest{Label: "authorizer/pan", Wrapped: w.Wrapped})
	if err != nil || !bytes.Equal(k.Key, dek) || k.KEKVersion != 1 {
		t.Fatalf("UnwrapKey = %v, %v", k, err)
	}
	if _, err := c.UnwrapKey(ctx, protocol.UnwrapKeyRequest{Label: "customer/pan", Wrapped: w.Wrapped}); !errors.Is(err, protocol.ErrUnwrapFailed) {
		t.Fatalf("other label: err = %v", err)
	}
	tampered := bytes.Clone(w.Wrapped)
	tampered[len(tampered)-1] ^= 1
	if _, err := c.UnwrapKey(ctx, protocol.UnwrapKeyRequest{Label: "authorizer/pan", Wrapped: tampered}); !errors.Is(err, protocol.ErrUnwrapFailed) {
		t.Fatalf("tampered: err = %v", err)
	}
}

func TestDiagnosticsOverTCP(t *testing.T) {
	_, c, _ := startHSM(t, hsm.FaultSettings{})
	d, err := c.Diagnostics(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.Diagnostics{ZPKCheckValue: "392C08", PVKCheckValue: "A90A9F", CVKCheckValue: "D63B66", KEKVersion: 1, Firmware: hsm.Firmware}
	if d != want {
		t.Fatalf("Diagnostics = %+v, want %+v", d, want)
	}
}

// 200 requests of every kind in flight on one connection, each answered
// correctly.
func TestConcurrentRequestsOnOneConnection(t *testing.T) {
	_, c, _ := startHSM(t, hsm.FaultSettings{})
	ctx := testContext(t)
	keys := hsm.DevKeys()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			pan := fmt.Sprintf("476134%09d%d", i, i%10)
			pin := fmt.Sprintf("%04d", i*37%10000)
			wrongPIN := fmt.Sprintf("%04d", (i*37+1)%10000)
			var err error
			switch i % 4 {
			case 0:
				pvv, _ := paycrypto.PVV(keys.PVK, pan, 1, pin)
				block := pinBlock(t, pin, pan)
				if i%8 == 4 {
					block = pinBlock(t, wrongPIN, pan)
				}
				var ok bool
				ok, err = c.VerifyPIN(ctx, protocol.VerifyPINRequest{PINBlock: block, PAN: pan, PVKI: 1, PVV: pvv})
				if err == nil && ok != (i%8 == 0) {
					err = fmt.Errorf("PIN verified = %v", ok)
				}
			case 1:
				want, _ := paycrypto.CVV(keys.CVK, pan, testExpiry, "000")
				var ok bool
				ok, err = c.VerifyCVV(ctx, protocol.VerifyCVVRequest{PAN: pan, Expiry: testExpiry, ServiceCode: "000", CVV: want})
				if err == nil && !ok {
					err = errors.New("right CVV2 refused")
				}
			case 2:
				var pvv string
				want, _ := paycrypto.PVV(keys.PVK, pan, 2, pin)
				pvv, err = c.ComputePVV(ctx, protocol.ComputePVVRequest{PINBlock: pinBlock(t, pin, pan), PAN: pan, PVKI: 2})
				if err == nil && pvv != want {
					err = fmt.Errorf("PVV %s, want %s", pvv, want)
				}
			case 3:
				dek := bytes.Repeat([]byte{byte(i)}, 32)
				var w protocol.WrappedKey
				if w, err = c.WrapKey(ctx, protocol.WrapKeyRequest{Label: pan, Key: dek}); err == nil {
					var k protocol.DataKey
					k, err = c.UnwrapKey(ctx, protocol.UnwrapKeyRequest{Label: pan, Wrapped: w.Wrapped})
					if err == nil && !bytes.Equal(k.Key, dek) {
						err = errors.New("unwrapped another key")
					}
				}
			}
			if err != nil {
				errs <- fmt.Errorf("request %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestGarbageFrameDoesNotCrashTheServer(t *testing.T) {
	_, c, addr := startHSM(t, hsm.FaultSettings{})
	tests := []struct {
		name    string
		bytes   []byte
		wantOut string // what the server writes before closing
	}{
		{"oversized", []byte{0xFF, 0xFF, 0xDE, 0xAD, 0xBE, 0xEF}, ""},
		{"shorter than a header", []byte{0x00, 0x02, 'N', 'C'}, ""},
		{"a browser", []byte("GET / HTTP/1.1\r\nHost: hsm\r\n\r\n"), ""},
		{"fields that do not parse", append(binary.BigEndian.AppendUint16(nil, 8), "0001DCxx"...), "\x00\x080001DD15"},
		{"cut short", append(binary.BigEndian.AppendUint16(nil, 40), "0001DC"...), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			conn.Write(tt.bytes)
			conn.(*net.TCPConn).CloseWrite() // the server sees EOF after the bytes
			out, err := io.ReadAll(conn)     // until the server closes
			if err != nil {
				t.Fatalf("server did not close the connection: %v", err)
			}
			if string(out) != tt.wantOut {
				t.Fatalf("server wrote %q, want %q", out, tt.wantOut)
			}
		})
	}
	ok, err := c.VerifyPIN(testContext(t), protocol.VerifyPINRequest{
		PINBlock: pinBlock(t, testPIN, testPAN), PAN: testPAN, PVKI: 1, PVV: mustPVV(t, testPIN),
	})
	if err != nil || !ok {
		t.Fatalf("after garbage: %v, %v", ok, err)
	}
}

func TestFaultKnobs(t *testing.T) {
	svc, c, _ := startHSM(t, hsm.FaultSettings{DisabledCommands: []string{"CY"}})
	ctx := testContext(t)
	cvvReq := protocol.VerifyCVVRequest{PAN: testPAN, Expiry: testExpiry, ServiceCode: "000", CVV: "123"}
	if _, err := c.VerifyCVV(ctx, cvvReq); !errors.Is(err, protocol.ErrDisabled) {
		t.Fatalf("disabled CY: err = %v", err)
	}

	if err := svc.Faults().Set(hsm.FaultSettings{ErrorShare: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyCVV(ctx, cvvReq); !errors.Is(err, protocol.ErrInternalFailure) {
		t.Fatalf("error share 1: err = %v", err)
	}

	if err := svc.Faults().Set(hsm.FaultSettings{Latency: time.Hour}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.VerifyCVV(short, cvvReq); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("latency past the caller's deadline: err = %v", err)
	}

	svc.Faults().Set(hsm.FaultSettings{})
	if _, err := c.VerifyCVV(ctx, cvvReq); err != nil {
		t.Fatalf("faults cleared: %v", err)
	}
}

func mustPVV(t testing.TB, pin string) string {
	t.Helper()
	pvv, err := paycrypto.PVV(hsm.DevKeys().PVK, testPAN, 1, pin)
	if err != nil {
		t.Fatal(err)
	}
	return pvv
}

// BenchmarkVerifyPINLoopback: one VerifyPIN (DC) round trip over loopback
// TCP, one request at a time — the latency the authorizer pays per PIN.
func BenchmarkVerifyPINLoopback(b *testing.B) {
	_, c, _ := startHSM(b, hsm.FaultSettings{})
	req := protocol.VerifyPINRequest{PINBlock: pinBlock(b, testPIN, testPAN), PAN: testPAN, PVKI: 1, PVV: mustPVV(b, testPIN)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := c.VerifyPIN(ctx, req); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkVerifyPINLoopbackPipelined: many goroutines share one connection,
// as the authorizer's connections do — the throughput of one connection.
func BenchmarkVerifyPINLoopbackPipelined(b *testing.B) {
	_, c, _ := startHSM(b, hsm.FaultSettings{})
	req := protocol.VerifyPINRequest{PINBlock: pinBlock(b, testPIN, testPAN), PAN: testPAN, PVKI: 1, PVV: mustPVV(b, testPIN)}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := c.VerifyPIN(ctx, req); !ok || err != nil {
				b.Error(ok, err)
				return
			}
		}
	})
}

// The PIN pad on the admin listener builds the block a terminal would send: the
// HSM verifies it, and refuses to build one from a PIN that is not one.
func TestPINPad(t *testing.T) {
	svc, c, _ := startHSM(t, hsm.FaultSettings{})
	ctx := testContext(t)
	pad := httptest.NewServer(svc.PINPadHandler())
	t.Cleanup(pad.Close)
	post := func(body string) (int, string) {
		resp, err := http.Post(pad.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			PINBlock string `json:"pin_block"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.PINBlock
	}

	code, hexBlock := post(`{"pan":"` + testPAN + `","pin":"` + testPIN + `"}`)
	if code != http.StatusOK {
		t.Fatalf("PIN pad answered %d", code)
	}
	raw, err := hex.DecodeString(hexBlock)
	if err != nil || len(raw) != 8 {
		t.Fatalf("pin_block %q is not 8 bytes of hex", hexBlock)
	}
	if want := pinBlock(t, testPIN, testPAN); protocol.PINBlock(raw) != want {
		t.Errorf("PIN pad block %X, want %X", raw, want)
	}
	ok, err := c.VerifyPIN(ctx, protocol.VerifyPINRequest{PINBlock: protocol.PINBlock(raw), PAN: testPAN, PVKI: 1, PVV: mustPVV(t, testPIN)})
	if err != nil || !ok {
		t.Errorf("VerifyPIN of the PIN pad's block: %v, %v", ok, err)
	}
	if code, _ := post(`{"pan":"` + testPAN + `","pin":"12"}`); code != http.StatusBadRequest {
		t.Errorf("a 2-digit PIN: %d, want 400", code)
	}
}
