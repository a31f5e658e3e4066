package ports

import (
	"net/http"
	"time"

	"github.com/andes-bank/andes/facade/adapters/corebank/api"
	"github.com/andes-bank/andes/simulators/corebank/faults"
)

// Faults serves the fault knobs on the process's loopback admin listener
// (server.Process.HandleAdmin), not on the edge: the edge is what "down" closes,
// so a down without a duration could not be undone there. GET shows the knobs;
// PUT (or POST) an api.Faults changes the fields it names and answers the knobs
// now in force. Only who is on the host reaches the admin listener, so there is
// no caller to check; answers and errors have the edge's JSON shapes.
func (h *HTTP) Faults() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, trace: traceID(r), caller: "admin listener"}
		w.Header().Set(api.HeaderTrace, c.trace)
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.getFaults(c)
		case http.MethodPut, http.MethodPost:
			h.putFaults(c)
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT, POST")
			h.fail(c, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path, nil)
		}
	})
}

func faultsJSON(s faults.Settings) api.Faults {
	latency, stall, downFor := s.Latency.String(), s.TimeoutStall.String(), s.DownFor.String()
	return api.Faults{Latency: &latency, ErrorShare: &s.ErrorShare, TimeoutAfterPostShare: &s.TimeoutAfterPostShare,
		TimeoutStall: &stall, Down: &s.Down, DownFor: &downFor}
}

func (h *HTTP) getFaults(c *call) { h.reply(c, http.StatusOK, faultsJSON(h.o.Knobs.Current())) }

// putFaults changes the knobs. It needs no idempotency key: it sets values, so
// sending it twice is the same as once.
func (h *HTTP) putFaults(c *call) {
	var req api.Faults
	if !h.decode(c, &req) {
		return
	}
	s := h.o.Knobs.Current()
	durations := []struct {
		field string
		in    *string
		out   *time.Duration
	}{{"latency", req.Latency, &s.Latency}, {"timeout_stall", req.TimeoutStall, &s.TimeoutStall}, {"down_for", req.DownFor, &s.DownFor}}
	for _, d := range durations {
		if d.in == nil {
			continue
		}
		v, err := time.ParseDuration(*d.in)
		if err != nil {
			h.fail(c, http.StatusBadRequest, api.CodeInvalid, d.field+" must be a duration such as 200ms", map[string]string{"field": d.field})
			return
		}
		*d.out = v
	}
	if req.ErrorShare != nil {
		s.ErrorShare = *req.ErrorShare
	}
	if req.TimeoutAfterPostShare != nil {
		s.TimeoutAfterPostShare = *req.TimeoutAfterPostShare
	}
	if req.Down != nil {
		s.Down = *req.Down
		if !s.Down {
			s.DownFor = 0
		}
	}
	if err := h.o.Knobs.Set(s); err != nil {
		h.fail(c, http.StatusBadRequest, api.CodeInvalid, err.Error(), nil)
		return
	}
	h.o.Logger.InfoContext(c.r.Context(), "fault knobs changed", "by", c.caller, "latency", s.Latency,
		"error_share", s.ErrorShare, "timeout_after_post_share", s.TimeoutAfterPostShare, "down", s.Down, "down_for", s.DownFor)
	h.reply(c, http.StatusOK, faultsJSON(h.o.Knobs.Current()))
}
