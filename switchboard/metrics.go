package switchboard

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the controller's own: its link to Asterisk, the events it reads, the calls it holds.
// Labels are bounded: event types Asterisk documents (anything else counts as "other"), stages.
type Metrics struct {
	connected prometheus.Gauge
	events    *prometheus.CounterVec
	calls     prometheus.GaugeFunc
	surveys   *prometheus.CounterVec
	recFail   *prometheus.CounterVec
	refused   prometheus.CounterFunc
	panics    prometheus.CounterFunc
}

// knownEvents are the ARI event types counted by name; others, including types a newer Asterisk
// may add, are counted as "other" so a misbehaving peer cannot grow the label set.
var knownEvents = map[string]bool{
	"StasisStart": true, "StasisEnd": true, "ChannelStateChange": true, "ChannelDtmfReceived": true,
	"ChannelHangupRequest": true, "ChannelDestroyed": true, "ChannelVarset": true, "ChannelDialplan": true,
	"ChannelCallerId": true, "ChannelConnectedLine": true, "ChannelEnteredBridge": true, "ChannelLeftBridge": true,
	"BridgeCreated": true, "BridgeDestroyed": true, "PlaybackStarted": true, "PlaybackContinuing": true,
	"PlaybackFinished": true, "Dial": true, "ChannelToneDetected": true, "ChannelTransfer": true,
	"ApplicationReplaced": true, "ChannelHold": true, "ChannelUnhold": true, "ChannelTalkingStarted": true,
	"ChannelTalkingFinished": true, "RecordingStarted": true, "RecordingFinished": true, "RecordingFailed": true,
}

// RegisterMetrics registers the switchboard's metrics on reg.
func (sb *Switchboard) RegisterMetrics(reg prometheus.Registerer) error {
	m := &Metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hotline_ari_connected", Help: "1 while the ARI events WebSocket to Asterisk is up.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_ari_events_total", Help: "ARI events read, by type (other: types not known to hotline).",
		}, []string{"type"}),
		calls: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hotline_switchboard_calls", Help: "Calls this controller holds (in the IVR, waiting, ringing or talking).",
		}, func() float64 {
			sb.mu.Lock()
			defer sb.mu.Unlock()
			return float64(len(sb.calls))
		}),
		surveys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_surveys_total",
			Help: "Post-call surveys, by outcome: offered to a waiting caller, agreed to, scored, or no score (the caller agreed, then hung up or keyed nothing).",
		}, []string{"outcome"}),
		recFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_recording_failures_total",
			Help: "Call recordings that failed, by step (start: the call went on unrecorded; stop: the bridge's end stopped it; report: the recording stream did not take its start or end).",
		}, []string{"step"}),
		refused: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hotline_carrier_calls_refused_total",
			Help: "Carrier calls this controller's Asterisk node refused with 503 at HOTLINE_MAX_CALLS (extensions.conf), as the node counts them; read every 10 s, from 0 again when Asterisk restarts.",
		}, func() float64 { return float64(max(sb.refused.Load(), 0)) }),
		panics: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hotline_call_panics_total",
			Help: "Calls whose goroutine panicked (a bug): each was logged with its stack and taken back as after a restart. Should stay 0.",
		}, func() float64 { return float64(sb.panics.Load()) }),
	}
	for _, c := range []prometheus.Collector{m.connected, m.events, m.calls, m.surveys, m.recFail, m.refused, m.panics} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	sb.metrics.Store(m)
	m.setConnected(sb.connected.Load())
	return nil
}

func (m *Metrics) event(typ string) {
	if m == nil {
		return
	}
	if !knownEvents[typ] {
		typ = "other"
	}
	m.events.WithLabelValues(typ).Inc()
}

func (m *Metrics) setConnected(up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.connected.Set(v)
}

func (m *Metrics) survey(outcome string) {
	if m == nil {
		return
	}
	m.surveys.WithLabelValues(outcome).Inc()
}

func (m *Metrics) recordingFailed(step string) {
	if m != nil {
		m.recFail.WithLabelValues(step).Inc()
	}
}
