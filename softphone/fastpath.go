package softphone

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/replaydetector"
)

// The browser's audio on a fast path: pion's inbound chain hands every packet from the ICE socket's
// reader to the ICE candidate's, then to the DTLS/SRTP demultiplexer's, then to the SRTP session's
// goroutine; at 1,000 legs on one core those hand-offs were a fifth of the gateway's CPU and made the
// core's queue. Once a PeerConnection is up, the gateway derives the browser's SRTP keys itself (the
// DTLS exporter of RFC 5705, from the master secret pion's key log gives and the two hello randoms)
// and decrypts the browser's RTP in the ICE socket's reader, relaying it at once. Everything else
// (STUN, DTLS, RTCP, RTP from an address not registered, and RTP that does not decrypt before the
// fast path's first success) goes to pion as before. SRTCP stays pion's, with pion's replay window.
//
// Replays: the fast path checks every packet against a window of recent sequence numbers per SSRC
// (replayWindow, pion's own size), and a packet it has seen, or one too old for the window, is
// dropped and counted: never handed to pion, whose own window has not seen what the fast path
// took and would take it. Two deciders of one stream would each accept a packet once, so there is
// only ever one: pion relays the browser's RTP until the fast path first decrypts a packet
// (slowGate), and from then on only the fast path does, for the PeerConnection's life. What pion
// relayed before the handover is no second chance either: the fast path refuses those sequence
// numbers. If the fast path never decrypts anything (keys it got wrong), it gives its browser back
// to pion for good, and pion's window, which saw every packet, stays the one decider.

// iceSocket is the ICE UDP socket as pion's UDP mux reads it, with the fast paths in front.
type iceSocket struct {
	*net.UDPConn
	in    *batchReader
	raw   *rawSender // sends without Go's per-socket write lock (sendto_linux.go)
	paths sync.Map   // netip.AddrPort (unmapped) → *fastPath
	fast  atomic.Uint64
}

var _ interface {
	net.PacketConn
	ReadFromAddrPort([]byte) (int, netip.AddrPort, error)
	WriteToAddrPort([]byte, netip.AddrPort) (int, error)
} = (*iceSocket)(nil)

// ReadFromAddrPort returns the next packet for pion, relaying on the way the browsers' RTP it can.
func (s *iceSocket) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		pkt, from, read, err := s.in.next()
		if err != nil {
			return 0, from, err
		}
		// RTP, not RTCP (RFC 5761 §4): version 2 and a second byte outside 192–223.
		if len(pkt) < 12 || pkt[0]&0xc0 != 0x80 || pkt[1] >= 192 && pkt[1] <= 223 {
			return copy(b, pkt), from, nil
		}
		p, ok := s.paths.Load(netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
		if !ok || !p.(*fastPath).relay(pkt, read) {
			return copy(b, pkt), from, nil
		}
		s.fast.Add(1)
	}
}

func (s *iceSocket) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := s.ReadFromAddrPort(b)
	return n, net.UDPAddrFromAddrPort(from), err
}

func (s *iceSocket) WriteToAddrPort(b []byte, to netip.AddrPort) (int, error) {
	switch err := s.raw.sendTo(b, to); {
	case err == nil:
		return len(b), nil
	case !errors.Is(err, errNoRoom):
		return 0, err
	}
	return s.UDPConn.WriteToUDPAddrPort(b, to)
}

func (s *iceSocket) Close() error {
	return errors.Join(s.raw.Close(), s.UDPConn.Close())
}

// moveTo puts p's browser, now at addr (ICE's selected pair), on the fast path there instead of
// where it was. ICE's callbacks and the connection's may call it at once.
func (s *iceSocket) moveTo(p *fastPath, addr netip.AddrPort) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	if p.addr.IsValid() {
		s.paths.CompareAndDelete(p.addr, p)
	}
	p.addr = addr
	s.paths.Store(addr, p)
}

// end takes p off the fast path for good: its PeerConnection closed, or its packets do not
// decrypt.
func (s *iceSocket) end(p *fastPath) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = true
	s.paths.CompareAndDelete(p.addr, p)
}

// maxFastFailures is how many packets in a row may fail to decrypt, before any has decrypted, for
// the fast path to give its browser back to pion for good (a key it got wrong, or a rollover counter
// it started wrong: pion's own SRTP session, which has seen the stream from its start, then carries
// on). Once a packet has decrypted, the keys are right and the fast path stays: a packet that does
// not decrypt then is forged or mangled, and is dropped.
const maxFastFailures = 50

// replayWindow is how many sequence numbers behind the newest one a packet may arrive, each once:
// pion's default for its own SRTP sessions. At 50 packets a second that is 1.28 s, far more
// than any audio that late is worth.
const replayWindow = 64

// maxSRTPIndex is the largest SRTP packet index (RFC 3711 §3.3.1): a 32-bit rollover counter and
// a 16-bit sequence number.
const maxSRTPIndex = 1<<48 - 1

// fastPath decrypts and relays one PeerConnection's RTP. Only the ICE socket's reader, one
// goroutine (pion's UDP mux), calls relay.
type fastPath struct {
	line *line
	gen  uint32
	srtp *srtp.Context
	sock *iceSocket
	gate *slowGate

	mu    sync.Mutex
	addr  netip.AddrPort // where its browser sends from, once known
	ended bool

	hdr      rtp.Header
	pkt      rtp.Packet
	buf      [1500]byte
	failures int
	live     bool              // a packet has decrypted: the fast path alone relays from now on
	replayed bool              // the last packet failed the replay check (set by replayCheck)
	floors   map[uint32]uint16 // per SSRC, the newest sequence number pion relayed before the handover
}

// newFastPath makes the fast path of one PeerConnection, decrypting with the browser's master key
// and salt. gate is the one pion's RTP buffers of the same PeerConnection ask.
func newFastPath(l *line, gen uint32, sock *iceSocket, gate *slowGate, key, salt []byte, profile srtp.ProtectionProfile) (*fastPath, error) {
	p := &fastPath{line: l, gen: gen, sock: sock, gate: gate}
	ctx, err := srtp.CreateContext(key, salt, profile, srtp.SRTPReplayDetectorFactory(func() replaydetector.ReplayDetector {
		d := replaydetector.New(replayWindow, maxSRTPIndex)
		return &replayCheck{ReplayDetector: d, CheckAccepter: d.(replaydetector.CheckAccepter), p: p}
	}))
	if err != nil {
		return nil, err
	}
	p.srtp = ctx
	return p, nil
}

// replayCheck is pion's replay window for one SSRC, telling the fast path when it refuses a
// packet: pion/srtp's error for it is not exported, and a refused packet must not go on to pion.
type replayCheck struct {
	replaydetector.ReplayDetector
	replaydetector.CheckAccepter
	p *fastPath
}

func (r *replayCheck) Check(seq uint64) (func() bool, bool) {
	accept, ok := r.ReplayDetector.Check(seq)
	if !ok {
		r.p.replayed = true
	}
	return accept, ok
}

func (r *replayCheck) CheckSeq(seq uint64) replaydetector.Token {
	tok := r.CheckAccepter.CheckSeq(seq)
	if !tok.Passed() {
		r.p.replayed = true
	}
	return tok
}

// relay decrypts and relays one packet from the browser's address, read off the socket at read.
// False hands the packet to pion.
func (p *fastPath) relay(b []byte, read time.Time) bool {
	m := p.line.gw.metrics
	p.replayed = false
	// Into a buffer of its own: an AEAD that fails authentication clears its output, and the packet
	// must reach pion intact then.
	out, err := p.srtp.DecryptRTP(p.buf[:0], b, &p.hdr)
	switch {
	case err != nil && p.replayed:
		m.dropReplayed.Inc()
		return true
	case err != nil && p.live:
		m.dropUndecryptable.Inc()
		return true
	case err != nil:
		if p.failures++; p.failures >= maxFastFailures {
			p.sock.end(p)
			p.line.log.Warn("softphone fast path: the browser's SRTP does not decrypt; pion takes it", "err", err)
		}
		return false
	}
	if !p.live {
		p.live, p.failures = true, 0
		p.floors = p.gate.takeOver()
	}
	if f, ok := p.floors[p.hdr.SSRC]; ok {
		// Pion relayed this SSRC up to f before the handover: what is not newer is a replay. Once
		// the stream is a window past f, the replay window refuses those by itself.
		switch d := p.hdr.SequenceNumber - f; {
		case d == 0 || d >= 0x8000:
			m.dropReplayed.Inc()
			return true
		case d > replayWindow:
			delete(p.floors, p.hdr.SSRC)
		}
	}
	p.line.fromBrowser(p.gen, &p.pkt, out, read)
	return true
}

// slowGate decides whether pion's own SRTP reader may relay a PeerConnection's RTP: until the fast
// path first decrypts a packet, and never after (see the top of this file). It notes the newest
// sequence number pion relayed of each SSRC, so the fast path refuses those again.
type slowGate struct {
	mu     sync.Mutex
	closed bool // the fast path took over
	floors map[uint32]uint16
}

// pass reports whether pion may relay the packet it decrypted (raw, its RTP header first).
func (g *slowGate) pass(raw []byte) bool {
	if g == nil {
		return true
	}
	if len(raw) < 12 {
		return true // not RTP: the relay counts it as malformed
	}
	seq, ssrc := binary.BigEndian.Uint16(raw[2:4]), binary.BigEndian.Uint32(raw[8:12])
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	if g.floors == nil {
		g.floors = make(map[uint32]uint16)
	}
	if f, ok := g.floors[ssrc]; !ok || seq-f > 0 && seq-f < 0x8000 {
		g.floors[ssrc] = seq
	}
	return true
}

// takeOver closes the gate and returns what pion relayed, for the fast path to keep.
func (g *slowGate) takeOver() map[uint32]uint16 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	f := g.floors
	g.floors = nil
	return f
}

// dtlsSecrets collects what one PeerConnection's DTLS handshake (the gateway as its server) tells
// of its keys: the master secret (pion's key log), the client random (the same line) and the server
// hello (random, cipher suite, SRTP profile).
type dtlsSecrets struct {
	mu           sync.Mutex
	clientRandom []byte
	masterSecret []byte
	serverRandom []byte
	suite        uint16
	profile      srtp.ProtectionProfile
}

// Write takes pion's key log: "CLIENT_RANDOM <client random> <master secret>" in hex.
func (d *dtlsSecrets) Write(line []byte) (int, error) {
	f := strings.Fields(string(line))
	if len(f) == 3 && f[0] == "CLIENT_RANDOM" {
		cr, err1 := hex.DecodeString(f[1])
		ms, err2 := hex.DecodeString(f[2])
		if err1 == nil && err2 == nil {
			d.mu.Lock()
			d.clientRandom, d.masterSecret = cr, ms
			d.mu.Unlock()
		}
	}
	return len(line), nil
}

// serverHello notes the gateway's server hello as it leaves, unchanged.
func (d *dtlsSecrets) serverHello(m handshake.MessageServerHello) handshake.Message {
	r := m.Random.MarshalFixed()
	d.mu.Lock()
	d.serverRandom = r[:]
	if m.CipherSuiteID != nil {
		d.suite = *m.CipherSuiteID
	}
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) > 0 {
			d.profile = srtp.ProtectionProfile(u.ProtectionProfiles[0])
		}
	}
	d.mu.Unlock()
	return &m
}

var errNoSecrets = errors.New("the DTLS handshake's secrets are not all known")

// fastPath builds the fast path of l's PeerConnection gen, decrypting what the browser (the DTLS
// client) sends.
func (d *dtlsSecrets) fastPath(l *line, gen uint32, sock *iceSocket, gate *slowGate) (*fastPath, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.masterSecret == nil || len(d.serverRandom) != 32 || d.profile == 0 {
		return nil, errNoSecrets
	}
	cfg := srtp.Config{Profile: d.profile}
	if err := cfg.ExtractSessionKeysFromDTLS(d, false); err != nil {
		return nil, err
	}
	return newFastPath(l, gen, sock, gate, cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, d.profile)
}

// ExportKeyingMaterial is the TLS 1.2 exporter (RFC 5705) without context, as pion/dtls computes
// it: P_hash of the suite over label, client random, server random. Called with d.mu held.
func (d *dtlsSecrets) ExportKeyingMaterial(label string, _ []byte, length int) ([]byte, error) {
	seed := bytes.Join([][]byte{[]byte(label), d.clientRandom, d.serverRandom}, nil)
	return prf.PHash(d.masterSecret, seed, length, prfHash(d.suite))
}

// prfHash is a DTLS 1.2 cipher suite's PRF hash: SHA-384 for the AES-256-GCM suites, SHA-256 for
// every other suite pion offers.
func prfHash(suite uint16) prf.HashFunc {
	switch dtls.CipherSuiteID(suite) {
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return sha512.New384
	}
	return sha256.New
}
