package ivr

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts IVR sessions. Labels are bounded: menu and node ids come from the menu file, outcomes
// and answers from closed sets; nothing a caller types or dials becomes a label.
type Metrics struct {
	calls       *prometheus.CounterVec // menu, outcome
	selfService *prometheus.CounterVec // menu, result: resolved | agent
	lookups     *prometheus.CounterVec // lookup, answer
	hangups     *prometheus.CounterVec // menu, node
}

// NewMetrics creates the IVR's metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "ivr", Name: "calls_total",
			Help: "IVR sessions by how they ended (queue, resolved, abandoned, hangup, transfer, callback, error).",
		}, []string{"menu", "outcome"}),
		selfService: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "ivr", Name: "self_service_total",
			Help: "Sessions in which a lookup answered the caller: resolved (ended without an agent) or agent (asked for one afterwards).",
		}, []string{"menu", "result"}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "ivr", Name: "lookups_total",
			Help: "Self-service lookups by kind and answer (a status, not_found or error).",
		}, []string{"lookup", "answer"}),
		hangups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "ivr", Name: "hangups_total",
			Help: "Callers who hung up in the IVR, by the node they were at.",
		}, []string{"menu", "node"}),
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.calls, m.selfService, m.lookups, m.hangups} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// The recording methods accept a nil *Metrics so Flows need not check.

func (m *Metrics) call(menu string, o Outcome, failed, served bool) {
	if m == nil {
		return
	}
	label := string(o)
	if failed {
		label = "error"
	}
	m.calls.WithLabelValues(menu, label).Inc()
	if served {
		result := "agent"
		if o == OutcomeResolved {
			result = "resolved"
		}
		m.selfService.WithLabelValues(menu, result).Inc()
	}
}

func (m *Metrics) lookup(kind, answer string) {
	if m != nil {
		m.lookups.WithLabelValues(kind, answer).Inc()
	}
}

func (m *Metrics) hangup(menu, node string) {
	if m != nil {
		m.hangups.WithLabelValues(menu, node).Inc()
	}
}
