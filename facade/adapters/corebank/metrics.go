package corebank

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	calls        *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	breakerState prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facade_core_calls_total",
			Help: "Calls to the core banking API by operation and outcome (ok, refused, unavailable, unknown, error).",
		}, []string{"op", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "facade_core_call_seconds",
			Help:    "Time of a call to the core banking API, retries included, by operation.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"op"}),
		breakerState: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "facade_core_breaker_state",
			Help: "The core banking circuit: 0 closed, 1 half-open, 2 open.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.calls, m.latency, m.breakerState} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("corebank: metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(op, outcome string, start time.Time) {
	m.calls.WithLabelValues(op, outcome).Inc()
	m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}
