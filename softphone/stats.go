package softphone

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Directions of a leg's audio, the only label of the RTP metrics (agent and caller ids would make
// the series unbounded).
const (
	DirToAgent   = "to_agent"   // Asterisk → gateway → browser
	DirFromAgent = "from_agent" // browser → gateway → Asterisk
)

// StreamStats is what the gateway measured of one direction of one leg, RFC 3550 style, on the
// packets it received.
type StreamStats struct {
	Packets  uint64  `json:"packets"`
	Lost     uint64  `json:"lost"`
	JitterMs float64 `json:"jitter_ms"`
}

// LegStats is both directions of a leg.
type LegStats struct {
	Call      string      `json:"call"`
	ToAgent   StreamStats `json:"to_agent"`
	FromAgent StreamStats `json:"from_agent"`
}

// receiveStats keeps RFC 3550 (appendix A.1, A.8) reception statistics for one stream.
type receiveStats struct {
	mu          sync.Mutex
	epoch       time.Time // arrival clock origin
	started     bool
	ssrc        uint32
	baseSeq     uint32
	maxSeq      uint16
	cycles      uint32
	received    uint64
	lostBefore  uint64 // losses of earlier SSRCs, kept across a source change
	recvBefore  uint64
	transit     int64
	haveTransit bool
	jitter      float64 // in timestamp units (1/8000 s)
}

// update records one packet and returns how many packets it newly shows lost (a forward gap).
func (s *receiveStats) update(ssrc uint32, seq uint16, ts uint32, arrival time.Time) (newlyLost uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch.IsZero() {
		s.epoch = arrival
	}
	if !s.started || ssrc != s.ssrc {
		if s.started {
			s.lostBefore += s.lostLocked()
			s.recvBefore += s.received
		}
		s.started, s.ssrc = true, ssrc
		s.baseSeq, s.maxSeq, s.cycles, s.received = uint32(seq), seq, 0, 0
		s.haveTransit = false
	}
	s.received++
	if d := seq - s.maxSeq; d > 0 && d < 0x8000 {
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		if d > 1 {
			newlyLost = uint64(d - 1)
		}
		s.maxSeq = seq
	}
	arrivalTS := int64(arrival.Sub(s.epoch) * 8000 / time.Second)
	transit := arrivalTS - int64(ts)
	if s.haveTransit {
		d := transit - s.transit
		if d < 0 {
			d = -d
		}
		s.jitter += (float64(d) - s.jitter) / 16
	}
	s.transit, s.haveTransit = transit, true
	return newlyLost
}

func (s *receiveStats) lostLocked() uint64 {
	if !s.started {
		return 0
	}
	expected := uint64(s.cycles+uint32(s.maxSeq)) - uint64(s.baseSeq) + 1
	if expected < s.received {
		return 0 // duplicates
	}
	return expected - s.received
}

func (s *receiveStats) snapshot() StreamStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StreamStats{
		Packets:  s.recvBefore + s.received,
		Lost:     s.lostBefore + s.lostLocked(),
		JitterMs: s.jitter / 8,
	}
}

// metrics are the gateway's Prometheus series.
type metrics struct {
	packets  *prometheus.CounterVec
	lost     *prometheus.CounterVec
	jitter   *prometheus.HistogramVec
	dropped  *prometheus.CounterVec
	legs     prometheus.Gauge
	sessions prometheus.Gauge
	// answerToAudio: the agent's answer to two-way audio, once per call (the page's report with
	// the leg's first packet from the browser).
	answerToAudio prometheus.Histogram
	firstAudio    *prometheus.HistogramVec
	// relay: each packet's time in the gateway, from its read off the socket to its write on the
	// other side, by direction; relayTo and relayFrom are its two series.
	relay     *prometheus.HistogramVec
	relayTo   prometheus.Observer
	relayFrom prometheus.Observer

	// The browser → Asterisk series, looked up once: every relayed packet counts.
	packetsFrom prometheus.Counter
	lostFrom    prometheus.Counter
	jitterFrom  prometheus.Observer

	// Drops on the way in, looked up once (dropped's series).
	dropReplayed      prometheus.Counter
	dropUndecryptable prometheus.Counter
	dropSlowPath      prometheus.Counter
	dropWrongSource   prometheus.Counter
	dropNoRemote      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		packets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "rtp_packets_total",
			Help: "RTP packets received by the gateway, by direction.",
		}, []string{"direction"}),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "rtp_lost_packets_total",
			Help: "RTP packets missing in sequence (forward gaps), by direction.",
		}, []string{"direction"}),
		jitter: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "rtp_jitter_seconds",
			Help:    "RFC 3550 interarrival jitter of legs, sampled once a second, by direction.",
			Buckets: []float64{.001, .002, .005, .01, .02, .04, .08, .16},
		}, []string{"direction"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "rtp_dropped_packets_total",
			Help: "RTP packets the gateway could not relay, by reason.",
		}, []string{"reason"}),
		legs: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "legs",
			Help: "Open call legs.",
		}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "peer_connections",
			Help: "Agents' PeerConnections held by the gateway.",
		}),
		answerToAudio: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "answer_to_audio_seconds",
			Help: "Time from the agent's answer (click, key or auto-answer) to two-way audio: the page " +
				"hears the caller and the browser's audio reached the leg. Once per call.",
			Buckets: []float64{.05, .1, .15, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 10},
		}),
		firstAudio: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "leg_first_packet_seconds",
			Help:    "Time from a leg's opening (the agent's answer) to its first RTP packet, by direction.",
			Buckets: []float64{.01, .02, .05, .1, .15, .2, .3, .5, 1, 2, 5},
		}, []string{"direction"}),
		relay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "relay_seconds",
			Help: "Time each RTP packet spends in the gateway, from its read off the socket to its " +
				"write towards the other side, by direction (from the browser: after pion's SRTP when " +
				"the fast path is off).",
			Buckets: []float64{5e-6, 10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 500e-6, .001, .002, .005, .01, .02, .05},
		}, []string{"direction"}),
	}
	if reg != nil {
		m.packets = register(reg, m.packets)
		m.lost = register(reg, m.lost)
		m.jitter = register(reg, m.jitter)
		m.dropped = register(reg, m.dropped)
		m.legs = register(reg, m.legs)
		m.sessions = register(reg, m.sessions)
		m.answerToAudio = register(reg, m.answerToAudio)
		m.firstAudio = register(reg, m.firstAudio)
		m.relay = register(reg, m.relay)
	}
	m.relayTo = m.relay.WithLabelValues(DirToAgent)
	m.relayFrom = m.relay.WithLabelValues(DirFromAgent)
	m.packetsFrom = m.packets.WithLabelValues(DirFromAgent)
	m.lostFrom = m.lost.WithLabelValues(DirFromAgent)
	m.jitterFrom = m.jitter.WithLabelValues(DirFromAgent)
	m.dropReplayed = m.dropped.WithLabelValues(dropReplayed)
	m.dropUndecryptable = m.dropped.WithLabelValues(dropUndecryptable)
	m.dropSlowPath = m.dropped.WithLabelValues(dropSlowPath)
	m.dropWrongSource = m.dropped.WithLabelValues(dropWrongSource)
	m.dropNoRemote = m.dropped.WithLabelValues(dropNoRemote)
	return m
}

// register registers c, or returns the collector already registered under its name: a second
// gateway in one process (tests, a restart in place) shares the series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// Drop reasons.
const (
	dropNoSession = "no_session" // the agent has no connected PeerConnection (reloading)
	dropNoRemote  = "no_remote"  // the leg does not know Asterisk's address yet
	dropInactive  = "inactive"   // the leg is not the agent's current one
	dropMalformed = "malformed"  // not RTP
	dropSendError = "send_error" // the write towards Asterisk failed
	// The browser's SRTP: a sequence number already taken, or too old for the replay window.
	dropReplayed = "replayed"
	// The browser's address, a packet that does not decrypt once its keys are known to work.
	dropUndecryptable = "undecryptable"
	// Decrypted by pion once the fast path had taken the stream over (in flight at the handover,
	// or from an address the fast path does not follow yet): only one of them may decide.
	dropSlowPath = "slow_path"
	// A leg's packet from another address than Asterisk's (SetRemote's).
	dropWrongSource = "wrong_source"
)
