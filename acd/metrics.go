package acd

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds this instance's counters. Counters count what this instance did (enqueued, connected,
// saw abandoned), so summing them over instances gives the center's totals; gauges are read from
// Redis at scrape time, so every instance reports the same center-wide values: take max, not sum.
type metrics struct {
	offeredC    *prometheus.CounterVec
	answeredC   *prometheus.CounterVec
	abandonedC  *prometheus.CounterVec
	wait        *prometheus.HistogramVec
	reconciledC *prometheus.CounterVec
}

func (m *metrics) reconciled(kind string) {
	if m != nil {
		m.reconciledC.WithLabelValues(kind).Inc()
	}
}

func (m *metrics) offered(q string) {
	if m != nil {
		m.offeredC.WithLabelValues(q).Inc()
	}
}

func (m *metrics) answered(q string, waited time.Duration) {
	if m != nil {
		m.answeredC.WithLabelValues(q).Inc()
		m.wait.WithLabelValues(q).Observe(waited.Seconds())
	}
}

func (m *metrics) abandoned(q string) {
	if m != nil {
		m.abandonedC.WithLabelValues(q).Inc()
	}
}

// RegisterMetrics registers the ACD's collectors on reg. Labels are queue, group and state names only:
// never caller numbers or agent ids. Call it once per Center, before traffic.
func (c *Center) RegisterMetrics(reg prometheus.Registerer) error {
	m := &metrics{
		offeredC: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "acd",
			Name: "calls_offered_total", Help: "Calls enqueued by this instance."}, []string{"queue"}),
		answeredC: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "acd",
			Name: "calls_answered_total", Help: "Calls answered by an agent, recorded by this instance."}, []string{"queue"}),
		abandonedC: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "acd",
			Name: "calls_abandoned_total", Help: "Callers who hung up while waiting or ringing, recorded by this instance."}, []string{"queue"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "hotline", Subsystem: "acd",
			Name: "wait_seconds", Help: "Time from enqueue to answer.",
			Buckets: []float64{5, 10, 20, 30, 60, 120, 300, 600, 1200}}, []string{"queue"}),
		reconciledC: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "hotline", Subsystem: "acd",
			Name: "reconciled_total", Help: "Stuck states this instance freed, by kind (call_gone, ring_lost, answer_lost, agent_orphaned)."}, []string{"kind"}),
	}
	for _, kind := range []string{FixCallGone, FixRingLost, FixAnswerLost, FixAgentOrphaned} {
		m.reconciledC.WithLabelValues(kind) // present at 0, so a rate() sees the first fix
	}
	for _, col := range []prometheus.Collector{m.offeredC, m.answeredC, m.abandonedC, m.wait, m.reconciledC, &stateCollector{c: c}} {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	c.metrics = m
	return nil
}

var (
	waitingDesc = prometheus.NewDesc("hotline_acd_waiting_calls", "Callers waiting in the queue.", []string{"queue"}, nil)
	longestDesc = prometheus.NewDesc("hotline_acd_longest_wait_seconds", "Wait of the longest-waiting caller.", []string{"queue"}, nil)
	agentsDesc  = prometheus.NewDesc("hotline_acd_agents", "Agents per group and state.", []string{"group", "state"}, nil)
	upDesc      = prometheus.NewDesc("hotline_acd_state_up", "1 if the live state could be read from Redis.", nil, nil)
)

// stateCollector computes the gauges from a Snapshot at each scrape.
type stateCollector struct{ c *Center }

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- waitingDesc
	ch <- longestDesc
	ch <- agentsDesc
	ch <- upDesc
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := s.c.Snapshot(ctx)
	if err != nil {
		s.c.log.Warn("metrics snapshot", "err", err)
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for _, q := range snap.Queues {
		ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(len(q.Waiting)), q.Name)
		ch <- prometheus.MustNewConstMetric(longestDesc, prometheus.GaugeValue, q.LongestWait.Seconds(), q.Name)
	}
	counts := map[[2]string]int{}
	for _, g := range s.c.model.Groups {
		for _, st := range AgentStates {
			counts[[2]string{g, string(st)}] = 0
		}
	}
	for _, a := range snap.Agents {
		counts[[2]string{a.Group, string(a.State)}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}
