// Package monitor is the monitor: it will probe every process's health and
// metrics, keep samples and incidents in PostgreSQL, and ask the supervisor to
// redeploy what is sick (DESIGN.md section 12).
//
// So far it opens its dependencies, answers andes.monitor.v1 with Unimplemented,
// and its dashboard (ANDES_EDGE_ADDR) shows the supervisor's view of every
// process, read through the supervisor's API; probing, incidents and redeploys
// arrive with a later issue (README, "Status").
package monitor

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"time"

	monitorv1 "github.com/andes-bank/andes/gen/andes/monitor/v1"
	supervisorv1 "github.com/andes-bank/andes/gen/andes/supervisor/v1"
	"github.com/andes-bank/andes/platform/config"
	"github.com/andes-bank/andes/platform/grpcclient"
	"github.com/andes-bank/andes/platform/server"
)

// Config is the process's configuration, read from its environment.
type Config struct {
	config.Base
	EdgeAddr string `env:"ANDES_EDGE_ADDR,required,addr"`

	SupervisorAddr string `env:"ANDES_SUPERVISOR_ADDR,required,addr"`
	MessagingAddr  string `env:"ANDES_MESSAGING_ADDR,required,addr"`

	DatabaseURL config.Secret `env:"DATABASE_URL,required"`
	NATSURL     config.Secret `env:"NATS_URL,required"`
}

// Setup wires the process on p from c: its dependencies, its API, its dashboard.
func (c *Config) Setup(ctx context.Context, p *server.Process) error {
	// Open makes the process's own schema; the migrations of the features to
	// come run into it here, with postgres.Migrate.
	if _, err := p.OpenPostgres(ctx, c.DatabaseURL); err != nil {
		return err
	}

	if _, err := p.OpenNATS(ctx, c.NATSURL); err != nil {
		return err
	}

	conn, err := p.Dial("supervisor", c.SupervisorAddr, grpcclient.Options{Retry: []string{"andes.supervisor.v1.SupervisorService/ListProcesses"}})
	if err != nil {
		return err
	}
	p.GRPC.RegisterPlaceholder(&monitorv1.MonitorService_ServiceDesc, monitorv1.UnimplementedMonitorServiceServer{})
	p.ServeHTTP("edge", c.EdgeAddr, dashboard(supervisorv1.NewSupervisorServiceClient(conn)))
	return nil
}

var page = template.Must(template.New("dashboard").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Andes monitor</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}
.RUNNING{color:#070}.CRASH_LOOP{color:#b00;font-weight:bold}.BACKOFF{color:#a60}</style></head>
<body><h1>Andes: processes under the supervisor</h1>
{{if .Err}}<p class="CRASH_LOOP">The supervisor does not answer: {{.Err}}</p>{{end}}
<table><tr><th>process</th><th>state</th><th>pid</th><th>restarts</th><th>last exit</th><th>since</th></tr>
{{range .Processes}}<tr><td>{{.Name}}</td><td class="{{.State}}">{{.State}}</td><td>{{.PID}}</td><td>{{.Restarts}}</td><td>{{.LastExit}}</td><td>{{.Since}}</td></tr>
{{end}}</table>
<p>Health probes, incidents and redeploys are not built yet.</p></body></html>
`))

type row struct {
	Name, State, LastExit, Since string
	PID, Restarts                int32
}

// dashboard shows the supervisor's list of processes.
func dashboard(sup supervisorv1.SupervisorServiceClient) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		var data struct {
			Processes []row
			Err       string
		}
		out, err := sup.ListProcesses(r.Context(), &supervisorv1.ListProcessesRequest{})
		if err != nil {
			data.Err = err.Error()
		}
		for _, pr := range out.GetProcesses() {
			rw := row{
				Name: pr.GetName(), PID: pr.GetPid(), Restarts: pr.GetRestarts(),
				State: pr.GetState().String()[len("PROCESS_STATE_"):],
				Since: pr.GetSince().AsTime().Local().Format(time.DateTime),
			}
			if e := pr.GetLastExit(); e != nil {
				rw.LastExit = fmt.Sprintf("code %d %s at %s", e.GetCode(), e.GetSignal(), e.GetExitedAt().AsTime().Local().Format(time.TimeOnly))
			}
			data.Processes = append(data.Processes, rw)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, data)
	})
	return mux
}
