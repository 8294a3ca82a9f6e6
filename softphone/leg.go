package softphone

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/randutil"
	"github.com/pion/rtp"

	"github.com/hotline-cc/hotline/media"
)

// Leg is one call's RTP socket facing Asterisk's externalMedia. It belongs to an agent, not to a
// PeerConnection: when the agent's page reloads, the leg stays and its audio resumes through the
// agent's next PeerConnection.
type Leg struct {
	gw      *Gateway
	line    *line
	gen     uint32 // source generation for the browser-side rewriter
	callID  string
	conn    *net.UDPConn
	local   netip.AddrPort
	toAgent receiveStats // packets from Asterisk
	fromAg  receiveStats // packets from the browser, on their way to Asterisk
	done    chan struct{}

	mu      sync.Mutex
	remote  netip.AddrPort
	strayed bool // a packet came from elsewhere (logged once)
	outSSRC uint32
	out     streamRewriter
	buf     []byte
	muted   bool
	fromN   uint64 // packets relayed from the browser, for sampling the jitter metric
	closed  bool
	start   legStart
}

// legStart is how a call's audio started on a leg: the server's side of answer-to-audio.
type legStart struct {
	opened     time.Time
	firstDown  time.Time     // first packet from Asterisk
	firstUp    time.Time     // first packet from the browser
	page       time.Duration // the page's answer-to-audio report, when it came
	reported   bool          // the page reported (once per call: later reports are ignored)
	recorded   bool
	recordedAs time.Duration
}

// StartTiming is how a call's audio started on its leg, measured by the gateway from the leg's
// opening (in the controller's Answer): the first packet from Asterisk and from the browser, and
// the answer-to-two-way-audio time recorded for the call (zero until both the page's report and
// the browser's first packet are in).
type StartTiming struct {
	FirstToAgent   time.Duration // opening → first packet from Asterisk
	FirstFromAgent time.Duration // opening → first packet from the browser
	PageAudio      time.Duration // the page's answer click → first remote audio
	AnswerToAudio  time.Duration // what the histogram got: the later of the page's audio and the browser's first packet
}

// StartTiming returns how the call's audio started; zero fields are not known (yet).
func (leg *Leg) StartTiming() StartTiming {
	leg.mu.Lock()
	defer leg.mu.Unlock()
	st := leg.start
	var t StartTiming
	if !st.firstDown.IsZero() {
		t.FirstToAgent = st.firstDown.Sub(st.opened)
	}
	if !st.firstUp.IsZero() {
		t.FirstFromAgent = st.firstUp.Sub(st.opened)
	}
	t.PageAudio, t.AnswerToAudio = st.page, st.recordedAs
	return t
}

func newLeg(g *Gateway, l *line, callID string, conn *net.UDPConn) *Leg {
	return &Leg{
		gw:      g,
		line:    l,
		gen:     g.legSeq.Add(1),
		callID:  callID,
		conn:    conn,
		local:   conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		done:    make(chan struct{}),
		outSSRC: randutil.NewMathRandomGenerator().Uint32(),
		buf:     make([]byte, 0, 1500),
		start:   legStart{opened: time.Now()},
	}
}

// CallID is the call the leg was opened for.
func (leg *Leg) CallID() string { return leg.callID }

// LocalAddr is the leg's UDP address: externalMedia's external_host.
func (leg *Leg) LocalAddr() netip.AddrPort { return leg.local }

// SetRemote tells the leg where Asterisk receives (the channel's UNICASTRTP_LOCAL_ADDRESS and
// UNICASTRTP_LOCAL_PORT), which is also where it sends from: Asterisk's RTP is symmetric. The leg
// takes packets from that address only, and none before it is told: anybody else's, a tone injected
// from another port, say, never reaches the agent. It does not latch on the first packet's source,
// as symmetric RTP may: whoever sent first to a leg's port, in the moment between its opening and
// SetRemote, would have been heard by the agent and sent the agent's voice. Asterisk sends nothing
// before the externalMedia channel joins a bridge, which the controller does after SetRemote.
func (leg *Leg) SetRemote(addr netip.AddrPort) {
	leg.mu.Lock()
	defer leg.mu.Unlock()
	leg.remote = unmapped(addr)
}

// unmapped is addr with an IPv4-mapped IPv6 address as plain IPv4, as sockets may report either.
func unmapped(addr netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
}

// SetMuted replaces the agent's audio towards Asterisk with µ-law silence (the packets keep
// flowing, so Asterisk's jitter buffer and NAT bindings stay warm). A controller may mute here
// instead of through ARI: it costs no round trip.
func (leg *Leg) SetMuted(muted bool) {
	leg.mu.Lock()
	defer leg.mu.Unlock()
	leg.muted = muted
}

// Remote is where the leg sends, invalid while unknown.
func (leg *Leg) Remote() netip.AddrPort {
	leg.mu.Lock()
	defer leg.mu.Unlock()
	return leg.remote
}

// Stats returns the leg's reception statistics, both ways.
func (leg *Leg) Stats() LegStats {
	return LegStats{Call: leg.callID, ToAgent: leg.toAgent.snapshot(), FromAgent: leg.fromAg.snapshot()}
}

// Close closes the socket and detaches the leg from the agent. It is idempotent.
func (leg *Leg) Close() error {
	leg.mu.Lock()
	if leg.closed {
		leg.mu.Unlock()
		return nil
	}
	leg.closed = true
	leg.mu.Unlock()
	err := ignoreClosed(leg.conn.Close())
	<-leg.done
	leg.line.removeLeg(leg)
	leg.gw.metrics.legs.Dec()
	leg.line.log.Info("leg closed", "call", leg.callID)
	return err
}

// readLoop relays Asterisk's RTP to the agent until the socket closes.
func (leg *Leg) readLoop() {
	defer close(leg.done)
	m := leg.gw.metrics
	packets, lost := m.packets.WithLabelValues(DirToAgent), m.lost.WithLabelValues(DirToAgent)
	jitter := m.jitter.WithLabelValues(DirToAgent)
	malformed := m.dropped.WithLabelValues(dropMalformed)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	var n uint64
	for {
		size, from, err := leg.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				leg.line.log.Warn("leg read", "call", leg.callID, "err", err)
			}
			return
		}
		now := time.Now()
		if err := pkt.Unmarshal(buf[:size]); err != nil {
			malformed.Inc()
			continue
		}
		from = unmapped(from)
		leg.mu.Lock()
		if !leg.remote.IsValid() {
			leg.mu.Unlock()
			m.dropNoRemote.Inc()
			continue
		}
		if from != leg.remote {
			warn := !leg.strayed
			leg.strayed = true
			remote := leg.remote
			leg.mu.Unlock()
			m.dropWrongSource.Inc()
			if warn {
				// Once per leg: a NAT between Asterisk and the gateway would drop all of it.
				leg.line.log.Warn("leg: RTP from another address than Asterisk's dropped", "call", leg.callID,
					"from", from.String(), "asterisk", remote.String())
			}
			continue
		}
		if leg.start.firstDown.IsZero() {
			leg.start.firstDown = now
			m.firstAudio.WithLabelValues(DirToAgent).Observe(now.Sub(leg.start.opened).Seconds())
		}
		leg.mu.Unlock()
		packets.Inc()
		if d := leg.toAgent.update(pkt.SSRC, pkt.SequenceNumber, pkt.Timestamp, now); d > 0 {
			lost.Add(float64(d))
		}
		if n++; n%50 == 0 {
			jitter.Observe(leg.toAgent.snapshot().JitterMs / 1000)
		}
		leg.line.toBrowser(leg, &pkt, now)
	}
}

// sendToAsterisk relays one packet of the browser's audio, under the leg's own SSRC and numbering
// so that Asterisk sees one stream even if the browser's changes (a reload).
// read is when the packet came off the socket.
func (leg *Leg) sendToAsterisk(browserGen uint32, pkt *rtp.Packet, read time.Time) {
	m := leg.gw.metrics
	now := time.Now()
	m.packetsFrom.Inc()
	if d := leg.fromAg.update(pkt.SSRC, pkt.SequenceNumber, pkt.Timestamp, now); d > 0 {
		m.lostFrom.Add(float64(d))
	}
	leg.mu.Lock()
	if leg.closed {
		leg.mu.Unlock()
		return
	}
	if leg.start.firstUp.IsZero() {
		leg.start.firstUp = now
		m.firstAudio.WithLabelValues(DirFromAgent).Observe(now.Sub(leg.start.opened).Seconds())
		leg.recordStartLocked()
	}
	if leg.fromN++; leg.fromN%50 == 0 {
		m.jitterFrom.Observe(leg.fromAg.snapshot().JitterMs / 1000)
	}
	remote := leg.remote
	if !remote.IsValid() {
		leg.mu.Unlock()
		m.dropNoRemote.Inc()
		return
	}
	if leg.out.rewrite(uint64(browserGen)<<32|uint64(pkt.SSRC), &pkt.Header, now) {
		pkt.Marker = true
	}
	pkt.SSRC = leg.outSSRC
	pkt.PayloadType = 0
	pkt.Extension, pkt.Extensions = false, nil // the browser's header extensions mean nothing to Asterisk
	pkt.Padding, pkt.PaddingSize = false, 0
	b, err := pkt.Header.MarshalTo(leg.buf[:cap(leg.buf)])
	if err == nil {
		out := append(leg.buf[:b], pkt.Payload...)
		if leg.muted {
			for i := b; i < len(out); i++ {
				out[i] = media.SilencePCMU
			}
		}
		_, err = leg.conn.WriteToUDPAddrPort(out, remote)
	}
	leg.mu.Unlock()
	if err != nil {
		m.dropped.WithLabelValues(dropSendError).Inc()
		return
	}
	m.relayFrom.Observe(time.Since(read).Seconds())
}

// maxAnswerToAudio is the longest answer-to-audio a page may report that is taken as a measurement:
// beyond it the page's clock or its tab (a background tab's throttled timers) is to blame.
const maxAnswerToAudio = 30 * time.Second

// pageAudio takes the page's report of the call's answer-to-audio time. The first report of a call
// counts; later ones and absurd values are ignored.
func (leg *Leg) pageAudio(d time.Duration) {
	leg.mu.Lock()
	defer leg.mu.Unlock()
	log := leg.line.log
	switch {
	case leg.start.reported:
		log.Debug("answer to audio: repeated report ignored", "call", leg.callID)
		return
	case d <= 0 || d > maxAnswerToAudio:
		leg.start.reported = true
		log.Info("answer to audio: absurd report ignored", "call", leg.callID, "ms", d.Milliseconds())
		return
	}
	leg.start.reported, leg.start.page = true, d
	leg.recordStartLocked()
}

// recordStartLocked records the call's answer-to-audio once both sides are in: the page heard the
// caller, and the browser's audio reached the leg. Two-way audio is the later of the two, counted
// from the answer (the page's click for the first; the leg's opening, just after the click
// reached the server, for the second).
func (leg *Leg) recordStartLocked() {
	st := &leg.start
	if st.recorded || st.page == 0 || st.firstUp.IsZero() {
		return
	}
	up := st.firstUp.Sub(st.opened)
	st.recorded, st.recordedAs = true, max(st.page, up)
	leg.gw.metrics.answerToAudio.Observe(st.recordedAs.Seconds())
	var down time.Duration
	if !st.firstDown.IsZero() {
		down = st.firstDown.Sub(st.opened)
	}
	leg.line.log.Info("answer to audio", "call", leg.callID, "ms", msOf(st.recordedAs),
		"page_ms", msOf(st.page), "first_from_agent_ms", msOf(up), "first_to_agent_ms", msOf(down))
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
