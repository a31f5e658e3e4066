package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/pki"
	"github.com/andes-bank/andes/platform/testenv"
)

// client calls the supervisor's API as the named identity of the run's PKI.
func (p *platform) client(identity string) supervisorv1.SupervisorServiceClient {
	p.t.Helper()
	dir := pki.Dir(filepath.Join(p.root, ".run", "pki"))
	var creds *pki.Credentials
	testenv.Eventually(p.t, 10*time.Second, "the supervisor's PKI", func() bool {
		var err error
		creds, err = pki.Load(dir.CertFile(identity), dir.KeyFile(identity), dir.CAFile(), "andes.local")
		return err == nil
	})
	conn, err := grpcclient.New(p.addrs["supervisor"].GRPC, grpcclient.Options{Credentials: creds, Peer: "supervisor"})
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { conn.Close() })
	return supervisorv1.NewSupervisorServiceClient(conn)
}

func (p *platform) list(c supervisorv1.SupervisorServiceClient) map[string]*supervisorv1.Process {
	p.t.Helper()
	var out *supervisorv1.ListProcessesResponse
	testenv.Eventually(p.t, 10*time.Second, "the supervisor's API", func() bool {
		var err error
		out, err = c.ListProcesses(context.Background(), &supervisorv1.ListProcessesRequest{}, grpc.WaitForReady(true))
		return err == nil
	})
	byName := map[string]*supervisorv1.Process{}
	for _, pr := range out.GetProcesses() {
		byName[pr.GetName()] = pr
	}
	return byName
}

func TestAPIListsAndRestartsForTheMonitor(t *testing.T) {
	p := startSupervisor(t)
	p.pids("alpha", "beta")
	c := p.client("monitor")
	ctx := context.Background()

	before := p.list(c)
	if len(before) != 2 || before["alpha"].GetState() != supervisorv1.ProcessState_PROCESS_STATE_RUNNING || before["alpha"].GetPid() == 0 {
		t.Fatalf("ListProcesses = %v, want alpha and beta running", before)
	}

	req := &supervisorv1.RestartProcessRequest{IdempotencyKey: "redeploy-1", Name: "alpha", Reason: "test"}
	first, err := c.RestartProcess(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.GetProcess().GetPid() == before["alpha"].GetPid() || first.GetProcess().GetRestarts() != 1 {
		t.Errorf("restart answered %v; before it was %v", first.GetProcess(), before["alpha"])
	}
	again, err := c.RestartProcess(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if again.GetProcess().GetPid() != first.GetProcess().GetPid() || p.list(c)["alpha"].GetRestarts() != 1 {
		t.Errorf("the same key restarted again: %v then %v", first.GetProcess(), again.GetProcess())
	}

	for _, tc := range []struct {
		req  *supervisorv1.RestartProcessRequest
		code codes.Code
	}{
		{&supervisorv1.RestartProcessRequest{IdempotencyKey: "redeploy-1", Name: "beta"}, codes.FailedPrecondition},
		{&supervisorv1.RestartProcessRequest{IdempotencyKey: "k", Name: "nobody"}, codes.NotFound},
		{&supervisorv1.RestartProcessRequest{IdempotencyKey: "k", Name: "Not A Name"}, codes.InvalidArgument},
		{&supervisorv1.RestartProcessRequest{Name: "alpha"}, codes.InvalidArgument},
	} {
		if _, err := c.RestartProcess(ctx, tc.req); status.Code(err) != tc.code {
			t.Errorf("RestartProcess(%v) = %v, want %v", tc.req, err, tc.code)
		}
	}
}

// The operator may read the process list (bankctl status) but only the monitor may
// redeploy: deploy/policies/supervisor.json.
func TestAPIGrantsTheOperatorReadsOnly(t *testing.T) {
	p := startSupervisor(t)
	c := p.client("operator")
	ctx := context.Background()
	if _, err := c.ListProcesses(ctx, &supervisorv1.ListProcessesRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Errorf("operator's ListProcesses = %v, want it granted", err)
	}
	_, err := c.RestartProcess(ctx, &supervisorv1.RestartProcessRequest{IdempotencyKey: "op-1", Name: "alpha"})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("operator's RestartProcess = %v, want PermissionDenied", err)
	}
}
