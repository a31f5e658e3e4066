// Package metrics exports the facade's cache and change-feed observations to
// Prometheus (the core calls and the breaker are the corebank adapter's).
package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/andes-bank/andes/facade/app"
)

// Metrics implements app.Metrics.
type Metrics struct {
	hits, misses, stale prometheus.Counter
	invalidated         *prometheus.CounterVec
	lagPostings         prometheus.Gauge
	lagSeconds          prometheus.Gauge
}

var _ app.Metrics = (*Metrics)(nil)

// New registers the collectors on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "facade_snapshot_cache_hits_total", Help: "Snapshot reads answered from a fresh cache entry.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "facade_snapshot_cache_misses_total", Help: "Snapshot reads that needed the core (absent, expired, marked stale or fresh required).",
		}),
		stale: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "facade_snapshot_stale_serves_total", Help: "Snapshot reads answered with a stale entry because the core could not be reached.",
		}),
		invalidated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "facade_snapshot_invalidations_total", Help: "Customers' snapshots marked stale, by cause (feed, write).",
		}, []string{"cause"}),
		lagPostings: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "facade_feed_lag_postings", Help: "Postings of the core's change feed not yet processed.",
		}),
		lagSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "facade_feed_lag_seconds", Help: "Age of the newest change-feed posting when it was processed.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.hits, m.misses, m.stale, m.invalidated, m.lagPostings, m.lagSeconds} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("metrics: %w", err)
			}
		}
	}
	return m, nil
}

// CacheHit counts a read served fresh from the cache.
func (m *Metrics) CacheHit() { m.hits.Inc() }

// CacheMiss counts a read that needed the core.
func (m *Metrics) CacheMiss() { m.misses.Inc() }

// StaleServed counts a stale entry served while the core was unreachable.
func (m *Metrics) StaleServed() { m.stale.Inc() }

// Invalidated counts customers marked stale.
func (m *Metrics) Invalidated(cause string, n int) {
	m.invalidated.WithLabelValues(cause).Add(float64(n))
}

// FeedLag records how far behind the change feed the facade is.
func (m *Metrics) FeedLag(postings int64, age time.Duration) {
	m.lagPostings.Set(float64(postings))
	m.lagSeconds.Set(age.Seconds())
}
