package hubserver

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sumbar-samsat/pkbkiosk/sync/hub"
	"github.com/sumbar-samsat/pkbkiosk/sync/hubapi"
)

// hubMetrics is the hub's Prometheus registry (GET /metrics on --http).
// Fleet, fault and event figures are read at scrape time from the fleet
// and the store; lookups are counted as the gateway answers them. No
// metric is labelled by kiosk id or plate: the series stay few, and a
// scrape says nothing about who looked up what.
type hubMetrics struct {
	reg           *prometheus.Registry
	diskFree      atomic.Uint64
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
	descIncidents = prometheus.NewDesc("kioskhub_incidents_active",
		"Incidents not resolved, by state (open, acknowledged).", []string{"state"}, nil)
	descOverdue = prometheus.NewDesc("kioskhub_incidents_overdue",
		"Active incidents past a response-time target.", nil, nil)
	descAlertsQueued = prometheus.NewDesc("kioskhub_alerts_undelivered",
		"Alerts of the last two days not yet delivered to any target.", nil, nil)
	descBackupAge = prometheus.NewDesc("kioskhub_backup_age_seconds",
		"Seconds since the last verified backup (absent without --backup-dir or before the first).", nil, nil)
	descDiskFree = prometheus.NewDesc("kioskhub_data_disk_free_bytes",
		"Free bytes on the hub's data disk.", nil, nil)
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
	ch <- descIncidents
	ch <- descOverdue
	ch <- descAlertsQueued
	ch <- descBackupAge
	ch <- descDiskFree
}

// setDisk records the data disk's free space (checks.go, every minute).
func (m *hubMetrics) setDisk(free, total uint64) { m.diskFree.Store(free) }

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
	if h.decider != nil { // nil while the hub starts
		if is, err := h.decider.Incidents(ctx, hubapi.IncidentsRequest{State: "active", Limit: 5000}); err != nil {
			h.log.Warn("metrics: incidents", "err", err)
		} else {
			n := map[string]int{"open": 0, "acknowledged": 0}
			overdue := 0
			for _, i := range is {
				n[i.State]++
				if i.Overdue() {
					overdue++
				}
			}
			for st, v := range n {
				ch <- prometheus.MustNewConstMetric(descIncidents, prometheus.GaugeValue, float64(v), st)
			}
			ch <- prometheus.MustNewConstMetric(descOverdue, prometheus.GaugeValue, float64(overdue))
		}
	}
	if as, err := h.store.RecentAlerts(ctx, h.cfg.Now().Add(-48*time.Hour)); err == nil {
		n := 0
		for _, a := range as {
			if a.State == "queued" {
				n++
			}
		}
		ch <- prometheus.MustNewConstMetric(descAlertsQueued, prometheus.GaugeValue, float64(n))
	}
	if t := h.checks.lastBackupAt(); !t.IsZero() {
		ch <- prometheus.MustNewConstMetric(descBackupAge, prometheus.GaugeValue, h.cfg.Now().Sub(t).Seconds())
	}
	if v := h.metrics.diskFree.Load(); v > 0 {
		ch <- prometheus.MustNewConstMetric(descDiskFree, prometheus.GaugeValue, float64(v))
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
