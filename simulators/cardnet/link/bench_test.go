package link_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/andes-bank/andes/services/authorizer/iso8583"
	"github.com/andes-bank/andes/simulators/cardnet/link"
)

// BenchmarkRoundTrip is one 0100 out and its 0110 back over loopback TCP
// against the fake issuer: the simulator's own cost per authorization, to
// hold apart from the authorizer's in end-to-end figures.
func BenchmarkRoundTrip(b *testing.B) {
	for _, inFlight := range []int{1, 16} {
		b.Run(fmt.Sprintf("inflight%d", inFlight), func(b *testing.B) {
			codec := iso8583.NewCodec(iso8583.EBCDIC)
			issuer := startIssuerB(b, codec)
			p, err := link.New(link.Options{Addr: issuer, Codec: codec, AcquirerID: "400001", EchoInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); _ = p.Run(ctx) }()
			defer func() { cancel(); <-done }()
			if err := p.WaitReady(ctx, 1); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(inFlight)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := p.Exchange(ctx, purchase("TERM0001", 1000), 10*time.Second); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
