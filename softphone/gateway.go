package softphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/transport/v5/packetio"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Gateway relays call audio between legs (UDP sockets facing Asterisk's externalMedia) and agents'
// PeerConnections. It is safe for concurrent use.
type Gateway struct {
	cfg     GatewayConfig
	log     *slog.Logger
	media   *webrtc.MediaEngine
	setting webrtc.SettingEngine // each PeerConnection's API copies it and adds its own BufferFactory
	reports *interceptor.Registry
	iceConn *iceSocket
	iceMux  ice.UDPMux
	metrics *metrics
	legSeq  atomic.Uint32 // source generations for the stream rewriters

	mu     sync.Mutex
	lines  map[string]*line // by agent id
	closed bool
}

// NewGateway opens the ICE UDP socket and builds the pion API: PCMU only, one UDP port for every
// PeerConnection.
func NewGateway(cfg GatewayConfig, log *slog.Logger) (*Gateway, error) {
	if log == nil {
		log = slog.Default()
	}
	if !cfg.RTPHost.IsValid() {
		cfg.RTPHost = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	iceAddr := cfg.ICEAddr
	if !iceAddr.Addr().IsValid() {
		iceAddr = netip.AddrPortFrom(netip.IPv4Unspecified(), iceAddr.Port())
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(iceAddr))
	if err != nil {
		return nil, fmt.Errorf("softphone: listen ICE on %s: %w", iceAddr, err)
	}

	// Every agent's audio arrives on this one socket: the default buffer (208 KiB) drops everyone's
	// audio at the first pause of the reader; 2 MiB (the kernel doubles it) holds about 100 ms of
	// 1,000 agents' packets, no more: later audio is useless anyway. A kernel that caps it lower is
	// the operator's to fix: it drops agents' audio in silence otherwise.
	if got, err := setReadBuffer(conn, iceReadBuffer); err != nil || got < 2*iceReadBuffer {
		log.Warn("softphone: the ICE socket's receive buffer is smaller than the gateway needs; "+
			"agents' audio will be dropped whenever the reader falls behind: raise net.core.rmem_max",
			"want_bytes", 2*iceReadBuffer, "got_bytes", got, "err", err,
			"fix", fmt.Sprintf("sysctl -w net.core.rmem_max=%d", 2*iceReadBuffer))
	}

	me := &webrtc.MediaEngine{}
	// PCMU only: Asterisk's externalMedia speaks it and we relay untouched, so the browser must not
	// pick Opus.
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: pcmuCapability,
		PayloadType:        0,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		conn.Close()
		return nil, fmt.Errorf("softphone: register PCMU: %w", err)
	}

	lf := pionLogs{log}
	raw, err := newRawSender(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	sock := &iceSocket{UDPConn: conn, in: newBatchReader(conn), raw: raw}
	mux := webrtc.NewICEUDPMux(lf.NewLogger("ice"), sock)

	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICEUDPMux(mux)
	// The browser's audio skips pion's track reader (see relayBuffer), so OnTrack cannot wait for
	// the first packet to learn the payload type: PCMU is the only codec anyway.
	se.SetFireOnTrackBeforeFirstRTP(true)
	// The gateway is the DTLS server, so its own server hello and pion's key log give it every input
	// of the browser's SRTP keys: the fast path (fastpath.go). Browsers offer actpass.
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
		sock.Close()
		return nil, fmt.Errorf("softphone: DTLS role: %w", err)
	}
	// Only UDP4: the mux is one IPv4 socket, and TCP candidates would need a second listener.
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if len(cfg.NAT1To1IPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.NAT1To1IPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
		}); err != nil {
			sock.Close()
			return nil, fmt.Errorf("softphone: NAT 1:1 addresses: %w", err)
		}
	}
	if len(cfg.ICENetworks) > 0 {
		nets := cfg.ICENetworks
		se.SetRemoteIPFilter(func(ip net.IP) bool { return inNetworks(nets, ip) })
	}
	if cfg.IncludeLoopback {
		se.SetIncludeLoopbackCandidate(true)
	}
	if cfg.LoopbackOnly {
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}

	// Of pion's default interceptors only the RTCP sender reports, every 5 s (RFC 3550's minimum;
	// pion's 1 s default made them 7% of the gateway's CPU at 1,000 legs). NACK and TWCC do nothing
	// for PCMU audio; the stats interceptor (behind pion's GetStats, which nothing reads: the legs
	// keep their own statistics) costs channel operations on every packet; and receiver reports
	// would be wrong: the browser's audio bypasses pion's receive interceptors (relayBuffer), so
	// they would report nothing received. The agent's page shows the legs' own statistics.
	ir := &interceptor.Registry{}
	sr, err := report.NewSenderInterceptor(report.SenderInterval(rtcpInterval))
	if err != nil {
		sock.Close()
		return nil, fmt.Errorf("softphone: RTCP reports: %w", err)
	}
	ir.Add(sr)

	g := &Gateway{
		cfg:     cfg,
		log:     log,
		media:   me,
		setting: se,
		reports: ir,
		iceConn: sock,
		iceMux:  mux,
		metrics: newMetrics(cfg.Registerer),
		lines:   make(map[string]*line),
	}
	if cfg.Registerer != nil {
		register(cfg.Registerer, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "hotline", Subsystem: "softphone", Name: "fast_path_packets_total",
			Help: "Browsers' RTP packets decrypted and relayed by the gateway itself, not pion's inbound chain: " +
				"near hotline_softphone_rtp_packets_total{direction=\"from_agent\"} while the fast path works.",
		}, func() float64 { return float64(sock.fast.Load()) }))
	}
	log.Info("softphone gateway listening", "ice", conn.LocalAddr().String(), "rtp_host", cfg.RTPHost.String(),
		"ice_networks", fmt.Sprint(cfg.ICENetworks))
	return g, nil
}

// inNetworks reports whether ip is in one of nets.
func inNetworks(nets []netip.Prefix, ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

const (
	iceReadBuffer = 2 << 20
	rtcpInterval  = 5 * time.Second
)

var pcmuCapability = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}

// newPeerConnection builds a PeerConnection whose decrypted RTP goes to buffers' buffers instead
// of pion's (see relayBuffer): the factory is a SettingEngine field, so each PeerConnection needs an
// API of its own, a few small structs.
func (g *Gateway) newPeerConnection(buffers func(packetio.BufferPacketType, uint32) io.ReadWriteCloser, secrets *dtlsSecrets) (*webrtc.PeerConnection, error) {
	se := g.setting
	se.BufferFactory = buffers
	se.SetDTLSKeyLogWriter(secrets)
	se.SetDTLSServerHelloMessageHook(secrets.serverHello)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(g.media), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(g.reports))
	return api.NewPeerConnection(webrtc.Configuration{})
}

// startFastPath puts pc's browser on the fast path once its DTLS is up, at the address of the
// selected candidate pair, and follows the pair when ICE moves it. It returns nil (pion carries the
// audio, gate left open) when the keys cannot be had.
func (g *Gateway) startFastPath(l *line, pc *webrtc.PeerConnection, gen uint32, secrets *dtlsSecrets, gate *slowGate) *fastPath {
	p, err := secrets.fastPath(l, gen, g.iceConn, gate)
	if err != nil {
		l.log.Warn("softphone fast path unavailable; pion carries the browser's audio", "err", err)
		return nil
	}
	ice := pc.SCTP().Transport().ICETransport()
	follow := func(pair *webrtc.ICECandidatePair) {
		if pair == nil || pair.Remote == nil {
			return
		}
		addr, err := netip.ParseAddr(pair.Remote.Address)
		if err != nil {
			return
		}
		g.iceConn.moveTo(p, netip.AddrPortFrom(addr, pair.Remote.Port))
	}
	ice.OnSelectedCandidatePairChange(follow)
	if pair, err := ice.GetSelectedCandidatePair(); err == nil {
		follow(pair)
	}
	return p
}

// FastPathPackets counts the browsers' RTP packets the fast path relayed (fastpath.go).
func (g *Gateway) FastPathPackets() uint64 { return g.iceConn.fast.Load() }

// ICEAddr is the address of the gateway's ICE UDP socket.
func (g *Gateway) ICEAddr() netip.AddrPort {
	return g.iceConn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// ICEServers are the STUN/TURN servers agentID's browser should use from now: the configured
// ones, and a TURN server with credentials of the agent's own (GatewayConfig.TURN). Give them only
// to the authenticated agent.
func (g *Gateway) ICEServers(agentID string, now time.Time) []ICEServer {
	servers := make([]ICEServer, 0, len(g.cfg.ICEServers)+1)
	servers = append(servers, g.cfg.ICEServers...)
	if g.cfg.TURN != nil {
		servers = append(servers, g.cfg.TURN.Server(agentID, now))
	}
	return servers
}

// holdLine returns the agent's line, made if need be, held until release: forget leaves a held
// line in place, so that a leg closing or a PeerConnection dropped meanwhile (a hang-up racing the
// page's reload) cannot take the line from under the PeerConnection or leg about to join it.
func (g *Gateway) holdLine(agentID string) (l *line, release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, nil, ErrClosed
	}
	l, ok := g.lines[agentID]
	if !ok {
		l = &line{gw: g, agentID: agentID, log: g.log.With("agent", agentID)}
		g.lines[agentID] = l
	}
	l.held++
	return l, func() {
		g.mu.Lock()
		l.held--
		g.mu.Unlock()
		g.forget(l) // nothing joined (a failure): the line may be idle
	}, nil
}

func (g *Gateway) existingLine(agentID string) *line {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lines[agentID]
}

// Negotiate answers the agent's browser's SDP offer (ICE gathering complete on both sides: no
// trickle) with a new PeerConnection that replaces the agent's previous one, if any. The agent's
// open legs carry on through the new one: a reloaded page gets its call's audio back.
func (g *Gateway) Negotiate(ctx context.Context, agentID, offerSDP string) (answerSDP string, err error) {
	offer := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offerSDP}
	// Parse before building anything: garbage costs nothing.
	if _, err := offer.Unmarshal(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	l, release, err := g.holdLine(agentID)
	if err != nil {
		return "", err
	}
	defer release()
	return l.negotiate(ctx, offer)
}

// Disconnect closes the agent's PeerConnection (logout). Their legs stay until closed.
func (g *Gateway) Disconnect(agentID string) {
	if l := g.existingLine(agentID); l != nil {
		l.disconnect()
	}
}

// Connected reports whether the agent's PeerConnection is connected.
func (g *Gateway) Connected(agentID string) bool {
	l := g.existingLine(agentID)
	return l != nil && l.connected()
}

// OpenLegs lists the calls the account's softphone has a leg open on: what it carries now (a call,
// a consultation, a supervisor's monitor). Empty when none.
func (g *Gateway) OpenLegs(agentID string) []string {
	l := g.existingLine(agentID)
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	calls := make([]string, 0, len(l.legs))
	for _, leg := range l.legs {
		calls = append(calls, leg.callID)
	}
	return calls
}

// Stats returns the statistics of the agent's current leg, false when they have none.
func (g *Gateway) Stats(agentID string) (LegStats, bool) {
	l := g.existingLine(agentID)
	if l == nil {
		return LegStats{}, false
	}
	leg := l.activeLeg()
	if leg == nil {
		return LegStats{}, false
	}
	return leg.Stats(), true
}

// reportAnswerToAudio takes a page's answer-to-audio report for one of the agent's open legs; a
// report about any other call is ignored.
func (g *Gateway) reportAnswerToAudio(agentID, callID string, d time.Duration) {
	l := g.existingLine(agentID)
	if l == nil {
		return
	}
	if leg := l.legByCall(callID); leg != nil {
		leg.pageAudio(d)
	}
}

// OpenLeg binds a UDP socket on the RTP host for one call of the agent. The controller gives
// leg.LocalAddr() to externalMedia (external_host) and Asterisk's own address to leg.SetRemote. The
// newest open leg of an agent is the one the browser's audio goes to.
func (g *Gateway) OpenLeg(agentID, callID string) (*Leg, error) {
	l, release, err := g.holdLine(agentID)
	if err != nil {
		return nil, err
	}
	defer release()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(g.cfg.RTPHost, 0)))
	if err != nil {
		return nil, fmt.Errorf("softphone: open leg for call %s: %w", callID, err)
	}
	leg := newLeg(g, l, callID, conn)
	if err := l.addLeg(leg); err != nil {
		conn.Close()
		return nil, err
	}
	g.metrics.legs.Inc()
	go leg.readLoop()
	l.log.Info("leg opened", "call", callID, "local", leg.LocalAddr().String())
	return leg, nil
}

// forget drops the agent's line once it has neither PeerConnection nor leg, nor is held.
func (g *Gateway) forget(l *line) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l.held == 0 && l.idle() && g.lines[l.agentID] == l {
		delete(g.lines, l.agentID)
	}
}

// Close closes every PeerConnection and leg, then the ICE socket.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	lines := make([]*line, 0, len(g.lines))
	for _, l := range g.lines {
		lines = append(lines, l)
	}
	g.mu.Unlock()
	for _, l := range lines {
		l.close()
	}
	return errors.Join(g.iceMux.Close(), ignoreClosed(g.iceConn.Close()))
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
