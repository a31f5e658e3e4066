package authorizer_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	authorizerv1 "github.com/andes-bank/andes/gen/andes/authorizer/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/demo"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/pki/pkitest"
	"github.com/andes-bank/andes/platform/server"
	"github.com/andes-bank/andes/platform/testenv"
	"github.com/andes-bank/andes/services/authorizer"
	"github.com/andes-bank/andes/services/authorizer/app"
	"github.com/andes-bank/andes/services/authorizer/authorizertest"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
)

// TestProcess runs the process as main does, from its environment: migrations,
// the HSM, the demo card, card administration over mTLS and the ISO 8583 edge;
// then stops it.
func TestProcess(t *testing.T) {
	hsm := authorizertest.StartHSM(t)
	p := pkitest.New(t, "authorizer", "migrator")
	root := filepath.Join("..", "..")
	demoFile := filepath.Join(root, "deploy", "demo", "demo.yaml")
	edge := testenv.FreeAddr(t)
	env := map[string]string{
		"ANDES_NAME":          "authorizer",
		"ANDES_GRPC_ADDR":     testenv.FreeAddr(t),
		"ANDES_ADMIN_ADDR":    testenv.FreeAddr(t),
		"ANDES_EDGE_ADDR":     edge,
		"ANDES_HSM_EDGE_ADDR": hsm.Addr,
		"ANDES_TLS_CERT_FILE": p.Dir.CertFile("authorizer"),
		"ANDES_TLS_KEY_FILE":  p.Dir.KeyFile("authorizer"),
		"ANDES_TLS_CA_FILE":   p.Dir.CAFile(),
		"ANDES_POLICY_FILE":   filepath.Join(root, "deploy", "policies", "authorizer.json"),
		"DATABASE_URL":        testenv.PostgresURL(t),
		"ANDES_DEMO_FILE":     demoFile,
	}
	var cfg authorizer.Config
	if err := config.LoadFrom(config.Map(env), &cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, &cfg, cfg.Setup) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(answerTimeout):
			t.Error("the process did not stop")
		}
	}()

	var (
		conn net.Conn
		err  error
	)
	deadline := time.Now().Add(answerTimeout)
	for {
		conn, err = net.Dial("tcp", edge)
		if err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the process stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("edge never listened: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer conn.Close()

	ds, err := demo.Load(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	maria := ds.Customer("maria")
	pan, err := app.DemoPAN(cfg.BIN, maria.ID)
	if err != nil {
		t.Fatal(err)
	}
	codec := iso8583.NewCodec(iso8583.ASCII)
	req := &iso8583.Request{MTI: "0100", PAN: pan, ProcessingCode: "000000", Amount: 4_500, Currency: "604",
		TransmissionDateTime: "0310143000", STAN: "000777", MCC: "5812", AcquirerID: "12345", RRN: "000000000777",
		TerminalID: "T1", MerchantID: "M1", MerchantNameLocation: "CAFE LIMA"}
	msg, err := codec.AppendRequest(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	frame, _ := iso8583.AppendFrame(nil, msg, 0)
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(answerTimeout))
	answer, err := iso8583.NewFrameReader(conn, 0).ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	var resp iso8583.Response
	if err := codec.UnpackResponse(answer, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.ResponseCode != "00" {
		t.Fatalf("demo card purchase: DE39 %s", resp.ResponseCode)
	}

	gc, err := grpcclient.New(cfg.GRPCAddr, grpcclient.Options{Credentials: p.Credentials(t, "migrator"), Peer: "authorizer"})
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	acct, err := authorizerv1.NewAuthorizerServiceClient(gc).GetCardAccount(context.Background(),
		&authorizerv1.GetCardAccountRequest{CardAccountId: app.DemoCardAccountID(maria.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if a := acct.GetCardAccount(); a.GetLedgerBalance().GetAmountMinor() != 50_000 || a.GetAvailableBalance().GetAmountMinor() != 45_500 {
		t.Errorf("demo card account after the purchase: %v", a)
	}
}
