package softphone

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/transport/v5/packetio"
	"github.com/pion/webrtc/v4"
)

// line is one agent's audio path through the gateway: their current PeerConnection (replaced when
// the page reloads) and their open legs (which outlive PeerConnections).
type line struct {
	gw      *Gateway
	agentID string
	log     *slog.Logger

	mu       sync.Mutex
	pc       *webrtc.PeerConnection
	track    *webrtc.TrackLocalStaticRTP
	pcGen    uint32 // generation of pc, so an old PeerConnection's reader stops relaying
	toAgent  streamRewriter
	legs     []*Leg // open legs, oldest first; the last one is active
	isClosed bool
	audioUp  bool // what OnAudio was last told
	held     int  // Negotiate and OpenLeg calls about to give the line a PeerConnection or a leg; under gw.mu
}

// setAudio tells OnAudio of a change of the agent's audio; called with l.mu held.
func (l *line) setAudio(up bool) {
	if l.audioUp == up || l.gw.cfg.OnAudio == nil {
		l.audioUp = up
		return
	}
	l.audioUp = up
	go l.gw.cfg.OnAudio(l.agentID, up)
}

func (l *line) negotiate(ctx context.Context, offer webrtc.SessionDescription) (string, error) {
	gen := l.gw.legSeq.Add(1)
	secrets := &dtlsSecrets{}
	gate := &slowGate{}
	pc, err := l.gw.newPeerConnection(l.buffers(gen, gate), secrets)
	if err != nil {
		return "", fmt.Errorf("softphone: new peer connection: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = pc.Close()
		}
	}()
	var (
		fastMu sync.Mutex
		fast   *fastPath // set once, by the first Connected: its SRTP context follows the stream
	)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		l.log.Info("peer connection state", "state", s.String())
		fastMu.Lock()
		switch {
		case s == webrtc.PeerConnectionStateConnected && fast == nil:
			fast = l.gw.startFastPath(l, pc, gen, secrets, gate)
		case s == webrtc.PeerConnectionStateClosed && fast != nil:
			l.gw.iceConn.end(fast)
		}
		fastMu.Unlock()
		l.mu.Lock()
		if l.pc == pc {
			switch s {
			case webrtc.PeerConnectionStateConnected:
				l.setAudio(true)
			case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
				l.setAudio(false)
			}
		}
		l.mu.Unlock()
		if s == webrtc.PeerConnectionStateFailed {
			// The page renegotiates on its own; drop ours so nothing writes into a dead DTLS.
			l.dropPC(pc)
		}
	})
	if err := pc.SetRemoteDescription(offer); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(pcmuCapability, "audio", "hotline")
	if err != nil {
		return "", fmt.Errorf("softphone: new track: %w", err)
	}
	// After SetRemoteDescription, AddTrack takes the browser's offered audio transceiver, so the
	// one m-line is sendrecv.
	sender, err := pc.AddTrack(track)
	if err != nil {
		return "", fmt.Errorf("%w: add track: %w", ErrBadOffer, err)
	}
	go drainRTCP(sender)
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: create answer: %w", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("softphone: set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("softphone: gather candidates: %w", ctx.Err())
	}

	l.mu.Lock()
	if l.isClosed {
		l.mu.Unlock()
		return "", ErrClosed
	}
	old := l.pc
	if old == nil {
		l.gw.metrics.sessions.Inc()
	}
	l.pc, l.track, l.pcGen = pc, track, gen
	l.mu.Unlock()
	ok = true
	if old != nil {
		_ = old.Close()
	}
	return pc.LocalDescription().SDP, nil
}

// drainRTCP reads the sender's RTCP so pion's interceptors run; the reports are not used.
func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

// buffers is pion's buffer factory for one PeerConnection of the line. The browser's decrypted RTP
// goes straight from pion's SRTP reader to the agent's active leg (relayBuffer); RTCP is queued as
// pion would, for its interceptors (drainRTCP reads it). gate says when the fast path has taken the
// browser's RTP over and pion's must go nowhere.
func (l *line) buffers(gen uint32, gate *slowGate) func(packetio.BufferPacketType, uint32) io.ReadWriteCloser {
	return func(kind packetio.BufferPacketType, _ uint32) io.ReadWriteCloser {
		if kind == packetio.RTPBufferPacket {
			return &relayBuffer{line: l, gen: gen, gate: gate, closed: make(chan struct{})}
		}
		q := rtcpQueue{packetio.NewBuffer()}
		q.SetLimitSize(rtcpQueueLimit)
		return q
	}
}

// rtcpQueue is what pion queues an SSRC's RTCP in when no factory is given.
type rtcpQueue struct{ *packetio.Buffer }

// rtcpQueueLimit is pion's own limit for an SSRC's queued RTCP.
const rtcpQueueLimit = 100 * 1000

func (q rtcpQueue) Read(b []byte) (int, error) {
	n, _, err := q.Buffer.Read(b, nil)
	return n, err
}

func (q rtcpQueue) Write(b []byte) (int, error) { return q.Buffer.Write(b, nil) }

func (q rtcpQueue) ReadWithAttributes(b []byte, a packetio.Attributes) (int, packetio.Attributes, error) {
	return q.Buffer.Read(b, a)
}

func (q rtcpQueue) WriteWithAttributes(b []byte, a packetio.Attributes) (int, error) {
	return q.Buffer.Write(b, a)
}

// relayBuffer stands where pion keeps an SSRC's decrypted RTP for a TrackRemote reader: its Write,
// called by pion's SRTP read loop, relays the packet to the leg at once. That saves a goroutine
// hand-off, a queue and the receive interceptors on every packet from the browser (measured in
// BENCHMARKS.md, "Legs at the real packet rate"). Nothing reads it: Read waits for Close.
type relayBuffer struct {
	line      *line
	gen       uint32
	gate      *slowGate
	pkt       rtp.Packet // reused: pion's read loop calls Write for one packet at a time
	closed    chan struct{}
	closeOnce sync.Once
}

func (b *relayBuffer) Write(p []byte) (int, error) {
	if !b.gate.pass(p) {
		b.line.gw.metrics.dropSlowPath.Inc()
		return len(p), nil
	}
	// pion read and decrypted it before: the gateway's time counts from here.
	b.line.fromBrowser(b.gen, &b.pkt, p, time.Now())
	return len(p), nil
}

func (b *relayBuffer) Read([]byte) (int, error) {
	<-b.closed
	return 0, io.EOF
}

func (b *relayBuffer) Close() error {
	b.closeOnce.Do(func() { close(b.closed) })
	return nil
}

// fromBrowser relays one packet of the browser's audio to the agent's active leg. Audio from a
// replaced PeerConnection (gen no longer current) and between calls goes nowhere. read is when
// it came off the socket.
func (l *line) fromBrowser(gen uint32, pkt *rtp.Packet, b []byte, read time.Time) {
	if err := pkt.Unmarshal(b); err != nil {
		l.gw.metrics.dropped.WithLabelValues(dropMalformed).Inc()
		return
	}
	l.mu.Lock()
	stale := l.pcGen != gen
	var leg *Leg
	if n := len(l.legs); n > 0 {
		leg = l.legs[n-1]
	}
	l.mu.Unlock()
	if stale || leg == nil {
		return
	}
	leg.sendToAsterisk(gen, pkt, read)
}

// toBrowser relays one packet from leg to the browser, if leg is the active one and a
// PeerConnection is there. now is when it came off the leg's socket.
func (l *line) toBrowser(leg *Leg, pkt *rtp.Packet, now time.Time) {
	l.mu.Lock()
	if n := len(l.legs); n == 0 || l.legs[n-1] != leg {
		l.mu.Unlock()
		l.gw.metrics.dropped.WithLabelValues(dropInactive).Inc()
		return
	}
	track := l.track
	if track == nil {
		l.mu.Unlock()
		l.gw.metrics.dropped.WithLabelValues(dropNoSession).Inc()
		return
	}
	if l.toAgent.rewrite(uint64(leg.gen)<<32|uint64(pkt.SSRC), &pkt.Header, now) {
		pkt.Marker = true
	}
	l.mu.Unlock()
	// pion sets the SSRC and payload type of its own binding.
	if err := track.WriteRTP(pkt); err != nil {
		l.gw.metrics.dropped.WithLabelValues(dropNoSession).Inc()
		return
	}
	l.gw.metrics.relayTo.Observe(time.Since(now).Seconds())
}

func (l *line) activeLeg() *Leg {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.legs); n > 0 {
		return l.legs[n-1]
	}
	return nil
}

// legByCall returns the agent's open leg of callID, the newest if several.
func (l *line) legByCall(callID string) *Leg {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.legs) - 1; i >= 0; i-- {
		if l.legs[i].callID == callID {
			return l.legs[i]
		}
	}
	return nil
}

func (l *line) addLeg(leg *Leg) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isClosed {
		return ErrClosed
	}
	l.legs = append(l.legs, leg)
	return nil
}

func (l *line) removeLeg(leg *Leg) {
	l.mu.Lock()
	for i, x := range l.legs {
		if x == leg {
			l.legs = append(l.legs[:i], l.legs[i+1:]...)
			break
		}
	}
	l.mu.Unlock()
	l.gw.forget(l)
}

func (l *line) connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pc != nil && l.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
}

// dropPC forgets pc if it is still the agent's current one, and closes it.
func (l *line) dropPC(pc *webrtc.PeerConnection) {
	l.mu.Lock()
	if l.pc == pc {
		l.pc, l.track = nil, nil
		l.pcGen = 0
		l.gw.metrics.sessions.Dec()
		l.setAudio(false)
	}
	l.mu.Unlock()
	// Close from another goroutine: this may run inside pion's state callback.
	go func() {
		_ = pc.Close()
		l.gw.forget(l)
	}()
}

func (l *line) disconnect() {
	l.mu.Lock()
	pc := l.pc
	l.mu.Unlock()
	if pc != nil {
		l.dropPC(pc)
	}
}

func (l *line) idle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pc == nil && len(l.legs) == 0
}

// close closes the PeerConnection and every leg (gateway shutdown).
func (l *line) close() {
	l.mu.Lock()
	l.isClosed = true
	pc := l.pc
	if pc != nil {
		l.gw.metrics.sessions.Dec()
	}
	l.pc, l.track = nil, nil
	legs := append([]*Leg(nil), l.legs...)
	l.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
	for _, leg := range legs {
		_ = leg.Close()
	}
}
