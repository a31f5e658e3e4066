package network_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/domain"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/services/authorizer/ports/network"
)

// decider approves everything, partially when asked, so every response path runs.
type decider struct{}

func (decider) Decide(_ context.Context, m *domain.NetworkMessage) (domain.Outcome, error) {
	if m.PartialApproval && m.Amount > 1 {
		return domain.Outcome{Code: domain.CodePartialApproval, Approved: 1}, nil
	}
	return domain.Outcome{Code: domain.CodeApproved, ApprovalCode: "123456"}, nil
}

func serve(t testing.TB) (*network.Server, string) {
	t.Helper()
	srv := network.NewServer(decider{}, network.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return srv, ln.Addr().String()
}

func seedRequest() *iso8583.Request {
	return &iso8583.Request{
		MTI: "0100", PAN: "4761340000000019", ProcessingCode: "000000", Amount: 1000, Currency: "604",
		TransmissionDateTime: "0310143000", STAN: "000001", MCC: "5411", AcquirerID: "12345", RRN: "000000000001",
		TerminalID: "T1", PrivateData: iso8583.PrivateData{NetworkTransactionID: "581234", PartialApproval: true},
	}
}

// FuzzServerFrames sends one arbitrary frame per connection. Whatever it holds,
// the server answers it (a decision or DE39 30) or closes that connection, never
// panics, never hangs, and keeps deciding on other connections.
func FuzzServerFrames(f *testing.F) {
	codec := iso8583.NewCodec(iso8583.ASCII)
	good, err := codec.AppendRequest(nil, seedRequest())
	if err != nil {
		f.Fatal(err)
	}
	echo, _ := codec.AppendRequest(nil, &iso8583.Request{MTI: "0800", STAN: "000002", TransmissionDateTime: "0310143000", NetworkManagementCode: "301"})
	rev := seedRequest()
	rev.MTI, rev.Original = "0400", iso8583.OriginalData{MTI: "0100", STAN: "000001", TransmissionDateTime: "0310143000", AcquirerID: "12345"}
	reversal, _ := codec.AppendRequest(nil, rev)
	f.Add(good)
	f.Add(good[:len(good)-4])
	f.Add(echo)
	f.Add(reversal)
	f.Add([]byte{0x01, 0x10, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xFF})

	srv, addr := serve(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) == 0 || len(msg) > 4096 {
			return
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		frame, _ := iso8583.AppendFrame(nil, msg, 0)
		if _, err := conn.Write(frame); err != nil {
			t.Fatal(err)
		}
		// Ask for an echo behind it: an answer to the echo proves the connection
		// survived the frame; a close proves it was dropped.
		probe, _ := iso8583.AppendFrame(nil, echo, 0)
		_, _ = conn.Write(probe)
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		fr := iso8583.NewFrameReader(conn, 0)
		for {
			resp, err := fr.ReadFrame()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err) {
				break // closed: allowed for garbage
			}
			if err != nil {
				t.Fatalf("no answer and no close: %v", err)
			}
			var r iso8583.Response
			if err := codec.UnpackResponse(resp, &r); err != nil {
				t.Fatalf("the server sent a frame that does not unpack: %v", err)
			}
			if r.MTI == "0810" && r.STAN == "000002" {
				break
			}
		}
		if p := srv.Stats().Panics.Load(); p != 0 {
			t.Fatalf("%d panics", p)
		}
	})
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}
