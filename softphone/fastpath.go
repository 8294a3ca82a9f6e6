package softphone

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// The browser's audio on a fast path: pion's inbound chain hands every packet from the ICE socket's
// reader to the ICE candidate's, then to the DTLS/SRTP demultiplexer's, then to the SRTP session's
// goroutine; at 1,000 legs on one core those hand-offs were a fifth of the gateway's CPU and made the
// core's queue. Once a PeerConnection is up, the gateway derives the browser's SRTP keys itself (the
// DTLS exporter of RFC 5705, from the master secret pion's key log gives and the two hello randoms)
// and decrypts the browser's RTP in the ICE socket's reader, relaying it at once. Everything else
// (STUN, DTLS, RTCP, RTP from an address not registered or that fails to decrypt) goes to pion as
// before, so the fast path can only fall back, never cut audio.

// iceSocket is the ICE UDP socket as pion's UDP mux reads it, with the fast paths in front.
type iceSocket struct {
	*net.UDPConn
	paths sync.Map // netip.AddrPort (unmapped) → *fastPath
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
		n, from, err := s.UDPConn.ReadFromUDPAddrPort(b)
		// RTP, not RTCP (RFC 5761 §4): version 2 and a second byte outside 192–223.
		if err != nil || n < 12 || b[0]&0xc0 != 0x80 || b[1] >= 192 && b[1] <= 223 {
			return n, from, err
		}
		p, ok := s.paths.Load(netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
		if !ok || !p.(*fastPath).relay(b[:n]) {
			return n, from, err
		}
		s.fast.Add(1)
	}
}

func (s *iceSocket) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := s.ReadFromAddrPort(b)
	return n, net.UDPAddrFromAddrPort(from), err
}

func (s *iceSocket) WriteToAddrPort(b []byte, to netip.AddrPort) (int, error) {
	return s.UDPConn.WriteToUDPAddrPort(b, to)
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

// maxFastFailures is how many packets in a row may fail to decrypt before the fast path gives its
// browser back to pion for good (a key or rollover counter it got wrong: pion's own SRTP session,
// which has seen the stream from its start, then carries on). A lone bad packet (spoofed, mangled)
// only goes to pion.
const maxFastFailures = 50

// fastPath decrypts and relays one PeerConnection's RTP. Only the ICE socket's reader, one
// goroutine (pion's UDP mux), calls relay.
type fastPath struct {
	line *line
	gen  uint32
	srtp *srtp.Context
	sock *iceSocket

	mu    sync.Mutex
	addr  netip.AddrPort // where its browser sends from, once known
	ended bool

	hdr      rtp.Header
	pkt      rtp.Packet
	buf      [1500]byte
	failures int
}

func (p *fastPath) relay(b []byte) bool {
	// Into a buffer of its own: an AEAD that fails authentication clears its output, and the packet
	// must reach pion intact then.
	out, err := p.srtp.DecryptRTP(p.buf[:0], b, &p.hdr)
	if err != nil {
		if p.failures++; p.failures >= maxFastFailures {
			p.sock.end(p)
			p.line.log.Warn("softphone fast path: the browser's SRTP does not decrypt; pion takes it", "err", err)
		}
		return false
	}
	p.failures = 0
	p.line.fromBrowser(p.gen, &p.pkt, out)
	return true
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

// remoteContext builds the SRTP context that decrypts what the browser (the DTLS client) sends.
func (d *dtlsSecrets) remoteContext() (*srtp.Context, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.masterSecret == nil || len(d.serverRandom) != 32 || d.profile == 0 {
		return nil, errNoSecrets
	}
	cfg := srtp.Config{Profile: d.profile}
	if err := cfg.ExtractSessionKeysFromDTLS(d, false); err != nil {
		return nil, err
	}
	return srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, d.profile)
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
