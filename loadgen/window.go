package loadgen

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/promhist"
	"github.com/hotline-cc/hotline/softphone"
)

// relayHistogram is the gateway's time per packet, by direction (docs/METRICS.md).
const relayHistogram = "hotline_softphone_relay_seconds"

// ProcessCPU is the CPU time (user and system) this process has used.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return (time.Duration(ru.Utime.Nano()) + time.Duration(ru.Stime.Nano())).Round(10 * time.Millisecond)
}

// windowMeter measures the window: counters read at its two ends, and a sample a second between.
type windowMeter struct {
	ctx    context.Context
	t      Target
	sim    *asterisksim.Sim    // nil on a real Asterisk
	gather prometheus.Gatherer // nil: the target has no metrics to read
	phones PhoneSet
	hooks  *windowHooks

	mu         sync.Mutex
	started    bool
	from, to   time.Time
	cpu        time.Duration
	sim0, sim1 asterisksim.RTPCounts
	ph0, ph1   PhoneCounts
	hist0      map[string]promhist.Buckets
	hist1      map[string]promhist.Buckets
	lost0      map[string]float64 // the gateway's rtp_lost_packets_total by direction
	lost1      map[string]float64
	udp0, udp1 uint64 // the machine's UDP receive-buffer drops
	w          Window
	histErr    error
	stop       chan struct{}
	sampled    chan struct{}
}

// newWindowMeter measures a window when measure is set; otherwise its hooks do nothing.
func newWindowMeter(ctx context.Context, t Target, phones PhoneSet, measure bool) *windowMeter {
	m := &windowMeter{ctx: ctx, t: t, phones: phones, hooks: &windowHooks{begin: func() {}, end: func() {}}}
	if !measure {
		return m
	}
	if st, ok := t.(simTarget); ok {
		m.sim = st.Sim()
	}
	if g, ok := t.(interface{ Metrics() prometheus.Gatherer }); ok && phones != nil {
		m.gather = g.Metrics()
	}
	m.hooks.begin, m.hooks.end = m.begin, m.end
	return m
}

func (m *windowMeter) readEnds() (asterisksim.RTPCounts, PhoneCounts, map[string]promhist.Buckets) {
	var (
		sc asterisksim.RTPCounts
		pc PhoneCounts
		h  map[string]promhist.Buckets
	)
	if m.sim != nil {
		sc = m.sim.RTPCounts()
	}
	if m.phones != nil {
		pc = m.phones.Counts()
	}
	if m.gather != nil {
		var err error
		if h, err = promhist.Gather(m.gather, relayHistogram, "direction"); err != nil {
			m.histErr = err
		}
	}
	return sc, pc, h
}

func (m *windowMeter) begin() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.started, m.from, m.cpu = true, time.Now(), ProcessCPU()
	m.sim0, m.ph0, m.hist0 = m.readEnds()
	m.lost0, m.udp0 = m.gatewayLost(), udpRcvbufErrors()
	m.stop, m.sampled = make(chan struct{}), make(chan struct{})
	go m.sample()
}

func (m *windowMeter) end() {
	close(m.stop)
	<-m.sampled
	m.mu.Lock()
	defer m.mu.Unlock()
	m.to = time.Now()
	m.cpu = ProcessCPU() - m.cpu
	m.sim1, m.ph1, m.hist1 = m.readEnds()
	m.lost1, m.udp1 = m.gatewayLost(), udpRcvbufErrors()
}

// sample looks at the center once a second until the window ends: from the ACD's snapshot, the
// agents on a call; from the generator, the callers on the line; from the phones, who hears audio.
func (m *windowMeter) sample() {
	defer close(m.sampled)
	var heard []uint64
	if m.phones != nil {
		heard = m.phones.Heard()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-m.ctx.Done():
			return
		case <-tick.C:
		}
		onLine := int(m.hooks.onLine.Load())
		hearing := 0
		if m.phones != nil {
			now := m.phones.Heard()
			hearing, heard = moved(heard, now), now
		}
		snap, err := m.t.Center().Snapshot(m.ctx)
		if err != nil {
			continue
		}
		onCall := 0
		for _, a := range snap.Agents {
			if a.State == acd.OnCall {
				onCall++
			}
		}
		waiting := max(onLine-onCall, 0)
		m.mu.Lock()
		w := &m.w
		if w.Samples == 0 {
			w.OnCallMin, w.HearingMin, w.WaitingMin = onCall, hearing, waiting
		}
		w.Samples++
		w.OnCallMin, w.OnCallMax = min(w.OnCallMin, onCall), max(w.OnCallMax, onCall)
		w.HearingMin, w.HearingMax = min(w.HearingMin, hearing), max(w.HearingMax, hearing)
		w.WaitingMin, w.WaitingMax = min(w.WaitingMin, waiting), max(w.WaitingMax, waiting)
		m.mu.Unlock()
	}
}

// result is the window's figures; connectedAt is when each call reached an agent. Nil when the
// run had no window (no ramp and no phones) or never reached it.
func (m *windowMeter) result(connectedAt map[string]time.Time) *Window {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started || m.to.IsZero() {
		return nil
	}
	w := m.w
	w.Length, w.CPU = m.to.Sub(m.from), m.cpu
	for _, at := range connectedAt {
		if !at.Before(m.from) && at.Before(m.to) {
			w.Setups++
		}
	}
	w.SetupsPerSecond = float64(w.Setups) / w.Length.Seconds()
	w.UDPRcvbufErrors = m.udp1 - m.udp0
	if m.phones != nil {
		toPhones, toSim := m.ph1.Received.Minus(m.ph0.Received), m.sim1.Received.Minus(m.sim0.Received)
		w.ToAgent = Flow{Sent: m.sim1.Sent - m.sim0.Sent, Received: toPhones.Received, Lost: toPhones.Lost()}
		w.FromAgent = Flow{Sent: m.ph1.Sent - m.ph0.Sent, Received: toSim.Received, Lost: toSim.Lost()}
		for dir, f := range map[string]*Flow{softphone.DirToAgent: &w.ToAgent, softphone.DirFromAgent: &w.FromAgent} {
			h := m.hist1[dir].Minus(m.hist0[dir])
			f.Relayed, f.P50, f.P99, f.P999 = h.Count, h.Quantile(.5), h.Quantile(.99), h.Quantile(.999)
			f.LostBeforeGateway = uint64(m.lost1[dir] - m.lost0[dir])
			if m.histErr != nil {
				f.P50 = m.histErr.Error()
			}
		}
	}
	return &w
}

// gatewayLost reads the gateway's count of packets missing in sequence on arrival, by direction.
func (m *windowMeter) gatewayLost() map[string]float64 {
	out := map[string]float64{}
	if m.gather == nil {
		return out
	}
	mfs, err := m.gather.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != "hotline_softphone_rtp_lost_packets_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "direction" {
					out[l.GetValue()] = mt.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// udpRcvbufErrors is the machine's count of UDP datagrams dropped for a full receive buffer
// (/proc/net/snmp), 0 where Linux does not tell: it says whether loss happened in a socket's
// queue, a reader too slow (or not scheduled), rather than in the code.
func udpRcvbufErrors() uint64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0
	}
	var head []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		for i, name := range head {
			if name == "RcvbufErrors" && i < len(f) {
				n, _ := strconv.ParseUint(f[i], 10, 64)
				return n
			}
		}
	}
	return 0
}

// callerContexts expands "a*3,b*2" into the callers' contexts in turn (a, a, a, b, b): caller i
// runs the i-th modulo their number, so a run spreads its callers over the queues in that mix.
func callerContexts(spec string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(spec, ",") {
		name, weight, found := strings.Cut(strings.TrimSpace(f), "*")
		n := 1
		if found {
			if _, err := fmt.Sscanf(weight, "%d", &n); err != nil || n < 1 || n > 1000 {
				return nil, fmt.Errorf("loadgen: caller context %q: the weight after * must be 1 to 1000", f)
			}
		}
		if name == "" {
			return nil, fmt.Errorf("loadgen: caller contexts %q: an empty name", spec)
		}
		for range n {
			out = append(out, name)
		}
	}
	return out, nil
}
