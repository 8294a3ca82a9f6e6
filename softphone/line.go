package softphone

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/rtp"
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
	pc, err := l.gw.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", fmt.Errorf("softphone: new peer connection: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = pc.Close()
		}
	}()
	gen := l.gw.legSeq.Add(1)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeAudio {
			l.readBrowser(gen, tr)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		l.log.Info("peer connection state", "state", s.String())
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

// readBrowser relays the browser's audio to the agent's active leg until the track ends.
func (l *line) readBrowser(gen uint32, tr *webrtc.TrackRemote) {
	// One buffer and packet for the track's life: the packet is relayed before the next read.
	buf := make([]byte, 1500)
	pkt := &rtp.Packet{}
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			l.gw.metrics.dropped.WithLabelValues(dropMalformed).Inc()
			continue
		}
		l.mu.Lock()
		stale := l.pcGen != gen
		var leg *Leg
		if n := len(l.legs); n > 0 {
			leg = l.legs[n-1]
		}
		l.mu.Unlock()
		if stale {
			return
		}
		if leg == nil {
			continue // between calls the microphone goes nowhere
		}
		leg.sendToAsterisk(gen, pkt)
	}
}

// toBrowser relays one packet from leg to the browser, if leg is the active one and a
// PeerConnection is there.
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
	}
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
