package softphone

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testSRTP is a browser's SRTP stream as the fast path receives it: what the browser's encrypting
// context makes, and the decrypting context the gateway would derive from the DTLS handshake.
type testSRTP struct {
	enc     *srtp.Context
	decKey  []byte
	decSalt []byte
	profile srtp.ProtectionProfile
	ssrc    uint32
	seq     uint16
	ts      uint32
}

func newTestSRTP(tb testing.TB, profile srtp.ProtectionProfile) *testSRTP {
	tb.Helper()
	keyLen, err := profile.KeyLen()
	if err != nil {
		tb.Fatal(err)
	}
	saltLen, err := profile.SaltLen()
	if err != nil {
		tb.Fatal(err)
	}
	key, salt := make([]byte, keyLen), make([]byte, saltLen)
	_, _ = rand.Read(key)
	_, _ = rand.Read(salt)
	enc, err := srtp.CreateContext(key, salt, profile)
	if err != nil {
		tb.Fatal(err)
	}
	return &testSRTP{enc: enc, decKey: key, decSalt: salt, profile: profile, ssrc: 0x1234, seq: 65000}
}

// next makes the stream's next packet, 160 bytes of PCMU whose first two bytes are mark: as the
// browser sends it (cipher) and as pion would hand it on, decrypted (plain).
func (s *testSRTP) next(tb testing.TB, mark uint16) (cipher, plain []byte) {
	tb.Helper()
	payload := make([]byte, 160)
	binary.BigEndian.PutUint16(payload, mark)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc}, Payload: payload}
	s.seq++
	s.ts += 160
	plain, err := pkt.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	cipher, err = s.enc.EncryptRTP(nil, plain, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return cipher, plain
}

func quietGateway(tb testing.TB) *Gateway {
	tb.Helper()
	gw, err := NewGateway(GatewayConfig{ICEAddr: netip.MustParseAddrPort("127.0.0.1:0"), LoopbackOnly: true},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { gw.Close() })
	return gw
}

// BenchmarkFastPath is the fast path's cost per packet from the browser: SRTP decryption (and its
// replay check) and the relay, without the ICE socket. no_leg stops at the agent's line (no call);
// leg goes on to the UDP write towards Asterisk.
func BenchmarkFastPath(b *testing.B) {
	profiles := []struct {
		name    string
		profile srtp.ProtectionProfile
	}{
		{"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80},
		{"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm},
	}
	for _, pr := range profiles {
		for _, withLeg := range []bool{false, true} {
			name := pr.name + "/no_leg"
			if withLeg {
				name = pr.name + "/leg"
			}
			b.Run(name, func(b *testing.B) {
				gw := quietGateway(b)
				l, _, err := gw.holdLine("a") // held for the test: nothing forgets it
				if err != nil {
					b.Fatal(err)
				}
				if withLeg {
					leg, err := gw.OpenLeg("a", "c")
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { leg.Close() })
					sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { sink.Close() })
					_ = sink.SetReadBuffer(8 << 20)
					go func() { // drain, so the kernel never refuses the writes
						buf := make([]byte, 1500)
						for {
							if _, err := sink.Read(buf); err != nil {
								return
							}
						}
					}()
					leg.SetRemote(sink.LocalAddr().(*net.UDPAddr).AddrPort())
				}
				s := newTestSRTP(b, pr.profile)
				p := benchFastPath(b, gw, l, s)
				const chunk = 4096
				pkts := make([][]byte, chunk)
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					b.StopTimer()
					n := min(chunk, b.N-done)
					for i := range n {
						pkts[i], _ = s.next(b, 0)
					}
					b.StartTimer()
					for i := range n {
						if !p.relay(pkts[i], time.Now()) {
							b.Fatal("the fast path refused a fresh packet")
						}
					}
					done += n
				}
			})
		}
	}
}

func benchFastPath(tb testing.TB, gw *Gateway, l *line, s *testSRTP) *fastPath {
	tb.Helper()
	p, err := newFastPath(l, 0, gw.iceConn, &slowGate{}, s.decKey, s.decSalt, s.profile)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// fastPathRig is a gateway with an agent's line, a leg towards a stand-in Asterisk (a UDP socket
// the test reads) and a stand-in browser socket whose packets the ICE socket's fast path takes.
type fastPathRig struct {
	gw       *Gateway
	line     *line
	asterisk *net.UDPConn
	browser  *net.UDPConn
	srtp     *testSRTP
}

func newFastPathRig(t *testing.T, profile srtp.ProtectionProfile) *fastPathRig {
	t.Helper()
	gw := quietGateway(t)
	l, _, err := gw.holdLine("a") // held for the test: nothing forgets it
	if err != nil {
		t.Fatal(err)
	}
	leg, err := gw.OpenLeg("a", "c")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { leg.Close() })
	r := &fastPathRig{gw: gw, line: l, asterisk: udpSocket(t), browser: udpSocket(t), srtp: newTestSRTP(t, profile)}
	leg.SetRemote(r.asterisk.LocalAddr().(*net.UDPAddr).AddrPort())
	return r
}

// listenUDPOrSkip opens a UDP socket on addr ("[::]:0" for a dual-stack one), closed at the end of
// the test, or skips the test on a machine without that kind of socket.
func listenUDPOrSkip(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUDP("udp", a)
	if err != nil {
		t.Skipf("no such socket here: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func udpSocket(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// fastPath puts the rig's browser on a fast path of its own, behind gate.
func (r *fastPathRig) fastPath(t *testing.T, gate *slowGate) {
	t.Helper()
	p, err := newFastPath(r.line, 0, r.gw.iceConn, gate, r.srtp.decKey, r.srtp.decSalt, r.srtp.profile)
	if err != nil {
		t.Fatal(err)
	}
	r.gw.iceConn.moveTo(p, r.browser.LocalAddr().(*net.UDPAddr).AddrPort())
}

// send sends a packet from the browser to the gateway's ICE socket.
func (r *fastPathRig) send(t *testing.T, pkt []byte) {
	t.Helper()
	if _, err := r.browser.WriteToUDPAddrPort(pkt, r.gw.ICEAddr()); err != nil {
		t.Fatal(err)
	}
}

// expect reads Asterisk's next packet and checks its mark. Packets reach Asterisk in the order the
// browser sent them (one socket, one reader), so a packet that should have been dropped and was
// not arrives before the one expected.
func (r *fastPathRig) expect(t *testing.T, mark uint16) {
	t.Helper()
	buf := make([]byte, 1500)
	_ = r.asterisk.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := r.asterisk.Read(buf)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("packet %d never reached Asterisk", mark)
	}
	if err != nil {
		t.Fatal(err)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil || len(pkt.Payload) < 2 {
		t.Fatalf("Asterisk got %d bytes that are not our RTP: %v", n, err)
	}
	if got := binary.BigEndian.Uint16(pkt.Payload); got != mark {
		t.Fatalf("Asterisk got packet %d, want %d", got, mark)
	}
}

// TestFastPathRefusesReplays: the browser's SRTP on the fast path, in order and reordered within
// the window, reaches Asterisk once; the same ciphertext sent again (three times over, as in the
// security review), a packet too old for the window and one seen long ago are dropped and counted,
// never handed to pion; a forged packet is dropped without costing its sequence number.
func TestFastPathRefusesReplays(t *testing.T) {
	for _, profile := range []srtp.ProtectionProfile{srtp.ProtectionProfileAes128CmHmacSha1_80, srtp.ProtectionProfileAeadAes128Gcm} {
		t.Run(profile.String(), func(t *testing.T) {
			r := newFastPathRig(t, profile)
			r.fastPath(t, &slowGate{})
			pkts := make([][]byte, 100)
			for i := range pkts {
				pkts[i], _ = r.srtp.next(t, uint16(i))
			}
			m := r.gw.metrics
			for _, i := range []int{0, 1, 3, 2} { // 3 and 2 swapped on the way: both pass
				r.send(t, pkts[i])
				r.expect(t, uint16(i))
			}
			r.send(t, pkts[1]) // again
			r.send(t, pkts[4])
			r.expect(t, 4)
			r.send(t, pkts[4]) // the same ciphertext, relayed twice more
			r.send(t, pkts[4])
			r.send(t, pkts[5])
			r.expect(t, 5)
			// 6 is held back while the stream moves on, beyond the window.
			for i := 7; i <= 80; i++ {
				r.send(t, pkts[i])
				r.expect(t, uint16(i))
			}
			r.send(t, pkts[6])  // never seen, but 74 behind: too old
			r.send(t, pkts[10]) // seen, and long ago
			r.send(t, pkts[81])
			r.expect(t, 81)
			if got := testutil.ToFloat64(m.dropReplayed); got != 5 {
				t.Errorf("replayed drops = %v, want 5", got)
			}
			// A forged packet from the browser's address: dropped, and the real one still passes.
			forged := append([]byte(nil), pkts[82]...)
			forged[20] ^= 0xff
			r.send(t, forged)
			r.send(t, pkts[82])
			r.expect(t, 82)
			if got := testutil.ToFloat64(m.dropUndecryptable); got != 1 {
				t.Errorf("undecryptable drops = %v, want 1", got)
			}
		})
	}
}

// TestFastPathHandover: pion relays the browser's first packets until the fast path decrypts one;
// then pion's are dropped, and what pion relayed cannot be replayed through the fast path.
func TestFastPathHandover(t *testing.T) {
	r := newFastPathRig(t, srtp.ProtectionProfileAes128CmHmacSha1_80)
	gate := &slowGate{}
	pion := &relayBuffer{line: r.line, gate: gate, closed: make(chan struct{})}
	var cipher, plain [8][]byte
	for i := range cipher {
		cipher[i], plain[i] = r.srtp.next(t, uint16(i))
	}
	for i := range 3 { // pion decrypted and relays them: the fast path is not up yet
		if _, err := pion.Write(plain[i]); err != nil {
			t.Fatal(err)
		}
		r.expect(t, uint16(i))
	}
	r.fastPath(t, gate)
	r.send(t, cipher[1]) // what pion relayed, again, as the fast path's first packet
	r.send(t, cipher[2])
	r.send(t, cipher[3])
	r.expect(t, 3)
	if _, err := pion.Write(plain[4]); err != nil { // pion, after the handover
		t.Fatal(err)
	}
	r.send(t, cipher[4])
	r.expect(t, 4)
	m := r.gw.metrics
	if got := testutil.ToFloat64(m.dropReplayed); got != 2 {
		t.Errorf("replayed drops = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.dropSlowPath); got != 1 {
		t.Errorf("slow path drops = %v, want 1", got)
	}
}

// TestFastPathGivesUp: a fast path whose keys are wrong never decrypts; its browser goes back to
// pion for good, and pion's relay is never closed.
func TestFastPathGivesUp(t *testing.T) {
	r := newFastPathRig(t, srtp.ProtectionProfileAes128CmHmacSha1_80)
	gate := &slowGate{}
	wrong := newTestSRTP(t, srtp.ProtectionProfileAes128CmHmacSha1_80)
	p, err := newFastPath(r.line, 0, r.gw.iceConn, gate, wrong.decKey, wrong.decSalt, wrong.profile)
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxFastFailures {
		c, _ := r.srtp.next(t, uint16(i))
		if p.relay(c, time.Now()) {
			t.Fatalf("packet %d: relayed with the wrong keys", i)
		}
	}
	p.mu.Lock()
	ended := p.ended
	p.mu.Unlock()
	if !ended {
		t.Error("the fast path did not give up")
	}
	_, plain := r.srtp.next(t, 99)
	pion := &relayBuffer{line: r.line, gate: gate, closed: make(chan struct{})}
	if _, err := pion.Write(plain); err != nil {
		t.Fatal(err)
	}
	r.expect(t, 99)
}
