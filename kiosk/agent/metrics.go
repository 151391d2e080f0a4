package agent

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
)

// agentMetrics is the agent's Prometheus registry, served at GET /metrics
// on the loopback listener behind the same Host check as the rest of the
// API (ui.Opts.Metrics). The figures of the status snapshot are read at
// scrape time; lookups are counted as they happen. No metric carries a
// plate or a session.
type agentMetrics struct {
	reg     *prometheus.Registry
	lookups *prometheus.CounterVec
}

// lookupOutcomes names the usage counters' kinds of lookup outcome.
var lookupOutcomes = [...]string{
	usageFound:    "found",
	usageNotFound: "not_found",
	usageError:    "error",
	usageInvalid:  "invalid",
}

// paperStates are the values of kiosk.PrinterStatus.Paper.
var paperStates = []string{"ok", "near_end", "out", "unknown"}

var (
	descOutbox = prometheus.NewDesc("kioskd_outbox_pending",
		"Events in the outbox not yet acknowledged by the hub.", nil, nil)
	descFaults = prometheus.NewDesc("kioskd_faults_active",
		"1 while the fault is raised on this kiosk, else 0.", []string{"code"}, nil)
	descBus = prometheus.NewDesc("kioskd_bus_connected",
		"1 while the NATS connection to the hub is up.", nil, nil)
	descPaper = prometheus.NewDesc("kioskd_printer_paper",
		"Paper state of the receipt printer, one-hot (ok, near_end, out, unknown).", []string{"state"}, nil)
	descDisk = prometheus.NewDesc("kioskd_disk_free_bytes",
		"Free bytes of the filesystem of the data directory.", nil, nil)
)

func newAgentMetrics(a *Agent) *agentMetrics {
	m := &agentMetrics{
		reg: prometheus.NewRegistry(),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kioskd_lookups_total",
			Help: "Lookups by the taxpayer screen since the agent started, by outcome (found, not_found, error, invalid).",
		}, []string{"outcome"}),
	}
	for _, o := range lookupOutcomes {
		m.lookups.WithLabelValues(o) // every series from the start, so rate() sees the first one
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.lookups,
		&statusCollector{a: a},
	)
	return m
}

func (m *agentMetrics) countLookup(kind int) {
	if kind >= 0 && kind < len(lookupOutcomes) {
		m.lookups.WithLabelValues(lookupOutcomes[kind]).Inc()
	}
}

func (m *agentMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// statusCollector reads the agent's state at scrape time.
type statusCollector struct{ a *Agent }

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descOutbox
	ch <- descFaults
	ch <- descBus
	ch <- descPaper
	ch <- descDisk
}

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if n, err := a.store.Pending(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n))
	} else {
		a.log.Warn("metrics: outbox", "err", err)
	}
	if a.nc != nil {
		ch <- prometheus.MustNewConstMetric(descBus, prometheus.GaugeValue, b2f(a.nc.IsConnected()))
	}
	if free, _, err := diskFree(a.cfg.Data); err == nil {
		ch <- prometheus.MustNewConstMetric(descDisk, prometheus.GaugeValue, float64(free))
	}
	active := map[string]bool{}
	for _, code := range a.faultList() {
		active[code] = true
	}
	for code := range kiosk.Severity {
		ch <- prometheus.MustNewConstMetric(descFaults, prometheus.GaugeValue, b2f(active[code]), code)
		delete(active, code)
	}
	for code := range active { // a code outside the table: still shown
		ch <- prometheus.MustNewConstMetric(descFaults, prometheus.GaugeValue, 1, code)
	}
	a.mu.Lock()
	paper := a.printer.Paper
	a.mu.Unlock()
	for _, s := range paperStates {
		ch <- prometheus.MustNewConstMetric(descPaper, prometheus.GaugeValue, b2f(paper == s), s)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
