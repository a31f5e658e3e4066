package cardnet

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/link"
	"github.com/andes-bank/andes/simulators/cardnet/network"
	"github.com/andes-bank/andes/simulators/cardnet/standin"
	"github.com/andes-bank/andes/simulators/cardnet/terminal"
	"github.com/andes-bank/andes/simulators/cardnet/txlog"
	"github.com/andes-bank/andes/simulators/hsm/paycrypto"
)

// Hooks let a caller watch the network work.
type Hooks struct {
	// OnFrame sees every message, as link.Options.OnFrame.
	OnFrame func(dir link.Direction, conn int, msg []byte)
	// OnEvent sees every decision and delivery.
	OnEvent func(network.Event)
	// OnState sees connection state changes.
	OnState func(conn int, s link.State, err error)
	Logger  *slog.Logger
}

// Service is the card network simulator assembled: connections to the
// issuer, the network with its stand-in and store-and-forward queue, the
// acquirer that builds merchants' messages, and the transaction log.
type Service struct {
	Settings Settings
	Codec    *iso8583.Codec
	Pool     *link.Pool
	Network  *network.Network
	StandIn  *standin.Rules
	Acquirer *terminal.Acquirer
	Log      *txlog.Log
}

// New assembles the service; Run starts it.
func New(s Settings, h Hooks) (*Service, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	zpk, err := parseZPK(s.ZPK)
	if err != nil {
		return nil, err
	}
	codec := iso8583.NewCodec(s.TextEncoding.TextEncoding)
	pool, err := link.New(link.Options{
		Addr: s.AuthorizerAddr, Codec: codec, Conns: s.Connections, AcquirerID: s.AcquirerID,
		EchoInterval: s.EchoInterval, OnFrame: h.OnFrame, OnState: h.OnState, Logger: h.Logger,
	})
	if err != nil {
		return nil, err
	}
	rules := standin.New(s.StandInLimits(), nil)
	log := txlog.New(0)
	acq := terminal.NewAcquirer(s.AcquirerID, zpk, nil)
	net, err := network.New(network.Options{
		Issuer: pool, StandIn: rules, Log: log, Acquirer: acq,
		IssuerTimeout: s.IssuerTimeout, LateWindow: s.LateWindow, AdviceTimeout: s.AdviceTimeout,
		RetryInterval: s.RetryInterval, OnEvent: h.OnEvent, Logger: h.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &Service{Settings: s, Codec: codec, Pool: pool, Network: net, StandIn: rules, Acquirer: acq, Log: log}, nil
}

// Run keeps the connections and delivers advices and reversals until ctx
// ends, then signs off.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Network.Run(ctx) })
	err := s.Pool.Run(ctx)
	wg.Wait()
	return err
}

// Start runs the service in the background and returns a function that
// stops it and waits.
func (s *Service) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// WaitReady waits for every connection to sign on, at most timeout.
func (s *Service) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.Pool.WaitReady(ctx, s.Settings.Connections); err != nil {
		return fmt.Errorf("authorizer at %s (ANDES_AUTHORIZER_EDGE_ADDR): %w", s.Settings.AuthorizerAddr, err)
	}
	return nil
}

// DumpLog writes the transaction log as JSON to path.
func (s *Service) DumpLog(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := s.Log.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func parseZPK(s config.Secret) (*paycrypto.DESKey, error) {
	return paycrypto.ParseDESKey(s.Reveal())
}
