// Package probe asks the processes of the platform for their health the way the
// mesh does: the gRPC health protocol on each internal listener, over mutual TLS,
// with the caller's identity (the operator for bankctl and tests, the monitor for
// its probes), each answer checked to come from the process it names.
package probe

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/manifest"
	"github.com/andes-bank/andes/platform/pki"
	"github.com/andes-bank/andes/platform/server"
)

// Timeout bounds one probe: a process that does not answer within it is down for
// this round, however it would answer later.
const Timeout = 2 * time.Second

// Down is the status of a process that could not be asked: nothing listens, the
// TLS handshake failed, the call timed out.
const Down = "DOWN"

// Result is one process's answer.
type Result struct {
	Name   string
	Addr   string
	Status string // grpc.health.v1 status name (SERVING, NOT_SERVING, ...) or Down
	Err    error  // why the process could not be asked, or nil
	// NotBuilt are the services the process serves as placeholders, every
	// method Unimplemented, as it says itself (server.HeaderNotBuilt).
	NotBuilt []string
}

// Serving reports whether the process answered SERVING.
func (r Result) Serving() bool {
	return r.Status == healthpb.HealthCheckResponse_SERVING.String()
}

// Check asks the process name at addr for the health of the whole server.
func Check(ctx context.Context, creds *pki.Credentials, name, addr string) Result {
	res := Result{Name: name, Addr: addr, Status: Down}
	conn, err := grpcclient.New(addr, grpcclient.Options{Credentials: creds, Peer: name, Timeout: Timeout})
	if err != nil {
		res.Err = err
		return res
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var header metadata.MD
	out, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&header))
	if err != nil {
		res.Err = err
		return res
	}
	res.Status = out.GetStatus().String()
	res.NotBuilt = header.Get(server.HeaderNotBuilt)
	return res
}

// All asks every process of the manifest at once and returns the answers in
// manifest order.
func All(ctx context.Context, creds *pki.Credentials, m *manifest.Manifest, addrs manifest.Addrs) []Result {
	out := make([]Result, len(m.Processes))
	var wg sync.WaitGroup
	for i, p := range m.Processes {
		l, ok := addrs[p.Name]
		if !ok {
			out[i] = Result{Name: p.Name, Status: Down, Err: fmt.Errorf("no address for %s", p.Name)}
			continue
		}
		wg.Go(func() { out[i] = Check(ctx, creds, p.Name, l.GRPC) })
	}
	wg.Wait()
	return out
}

// AllServing reports whether every result is SERVING.
func AllServing(results []Result) bool {
	for _, r := range results {
		if !r.Serving() {
			return false
		}
	}
	return len(results) > 0
}

// Wait probes every process every interval until all are SERVING or ctx ends, and
// returns the last round's answers.
func Wait(ctx context.Context, creds *pki.Credentials, m *manifest.Manifest, addrs manifest.Addrs, interval time.Duration) []Result {
	for {
		results := All(ctx, creds, m, addrs)
		if AllServing(results) {
			return results
		}
		select {
		case <-ctx.Done():
			return results
		case <-time.After(interval):
		}
	}
}
