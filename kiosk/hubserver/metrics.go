package hubserver

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
)

// hubMetrics is the hub's Prometheus registry (GET /metrics on --http).
// Fleet, fault and event figures are read at scrape time from the fleet
// and the store; lookups are counted as the gateway answers them. No
// metric is labelled by kiosk id or plate: the series stay few, and a
// scrape says nothing about who looked up what.
type hubMetrics struct {
	reg           *prometheus.Registry
	lookups       *prometheus.CounterVec
	lookupSeconds prometheus.Histogram
}

var (
	descKiosks = prometheus.NewDesc("kioskhub_kiosks",
		"Kiosks the hub knows, by presence (online, late, offline, unknown).", []string{"presence"}, nil)
	descFaults = prometheus.NewDesc("kioskhub_faults_active",
		"Faults raised and not cleared across the fleet, by severity.", []string{"severity"}, nil)
	descEvents = prometheus.NewDesc("kioskhub_events_stored_total",
		"Kiosk events stored in the hub's projection.", nil, nil)
	descRejected = prometheus.NewDesc("kioskhub_events_rejected_total",
		"Kiosk events the hub rejected (malformed or not the sender's).", nil, nil)
)

func newHubMetrics(h *Hub) *hubMetrics {
	m := &hubMetrics{
		reg: prometheus.NewRegistry(),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kioskhub_lookups_total",
			Help: "Lookups answered by the gateway, by outcome (ok or the contract's error code).",
		}, []string{"outcome"}),
		lookupSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kioskhub_lookup_seconds",
			Help:    "Time the gateway took to answer a lookup.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.lookups, m.lookupSeconds,
		&stateCollector{h: h},
	)
	return m
}

// observeLookup is the gateway's Observe hook; the kiosk id is not used.
func (m *hubMetrics) observeLookup(outcome string, took time.Duration) {
	m.lookups.WithLabelValues(outcome).Inc()
	m.lookupSeconds.Observe(took.Seconds())
}

func (m *hubMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// stateCollector reads the fleet and the store at scrape time.
type stateCollector struct{ h *Hub }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descKiosks
	ch <- descFaults
	ch <- descEvents
	ch <- descRejected
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.h
	if h.fleet != nil {
		n := map[hub.Presence]int{hub.Online: 0, hub.Late: 0, hub.Offline: 0, hub.Unknown: 0}
		for _, k := range h.fleet.Kiosks() {
			p := k.Presence
			if p == "" {
				p = hub.Unknown
			}
			n[p]++
		}
		for p, v := range n {
			ch <- prometheus.MustNewConstMetric(descKiosks, prometheus.GaugeValue, float64(v), string(p))
		}
	}
	if h.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if fs, err := h.store.Faults(ctx, ""); err != nil {
		h.log.Warn("metrics: faults", "err", err)
	} else {
		n := map[string]int{"warning": 0, "critical": 0}
		for _, f := range fs {
			n[f.Severity]++
		}
		for s, v := range n {
			ch <- prometheus.MustNewConstMetric(descFaults, prometheus.GaugeValue, float64(v), s)
		}
	}
	if v, err := h.store.Count(ctx); err != nil {
		h.log.Warn("metrics: events", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(v))
	}
	if v, err := h.store.RejectedCount(ctx); err != nil {
		h.log.Warn("metrics: rejected events", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(v))
	}
}

// HTTPAddr is the address the hub's HTTP server (/healthz, /metrics)
// listens on, or "" when --http is off.
func (h *Hub) HTTPAddr() string {
	if h.http == nil {
		return ""
	}
	return h.http.Addr
}
