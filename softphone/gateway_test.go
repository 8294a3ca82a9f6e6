package softphone_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-cc/hotline/internal/browsertest"
	"github.com/hotline-cc/hotline/internal/pionloop"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/softphone"
)

func newTestGateway(tb testing.TB, reg prometheus.Registerer) *softphone.Gateway {
	tb.Helper()
	gw, err := softphone.NewGateway(softphone.GatewayConfig{
		ICEAddr:      netip.MustParseAddrPort("127.0.0.1:0"),
		LoopbackOnly: true,
		Registerer:   reg,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { gw.Close() })
	return gw
}

// TestGatewayRelay: audio both ways by content through a pion "browser", and the leg surviving the agent's renegotiation with
// one continuous stream towards Asterisk.
func TestGatewayRelay(t *testing.T) {
	reg := prometheus.NewRegistry()
	gw := newTestGateway(t, reg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	heard := newToneSink()
	agent := newPionAgent(t, gw, "a1", func(p *rtp.Packet) { heard.add(p.Payload) })
	micCtx, stopMic := context.WithCancel(ctx)
	go sendTone(micCtx, 1000, agent.track.WriteRTP)

	leg, err := gw.OpenLeg("a1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	peer := newRTPPeer(t)
	leg.SetRemote(peer.addr())
	go peer.send(ctx, leg.LocalAddr(), 440)

	if _, err := heard.waitTone(ctx, 440, 20); err != nil {
		t.Fatalf("agent hears the caller: %v", err)
	}
	if _, err := peer.waitTone(ctx, 1000, 20); err != nil {
		t.Fatalf("caller hears the agent: %v", err)
	}

	// The page reloads: a new PeerConnection for the same agent, the same leg.
	stopMic()
	heard2 := newToneSink()
	agent2 := newPionAgent(t, gw, "a1", func(p *rtp.Packet) { heard2.add(p.Payload) })
	go sendTone(ctx, 1000, agent2.track.WriteRTP)
	peer.reset()
	if _, err := heard2.waitTone(ctx, 440, 20); err != nil {
		t.Fatalf("after renegotiation, agent hears the caller: %v", err)
	}
	if _, err := peer.waitTone(ctx, 1000, 20); err != nil {
		t.Fatalf("after renegotiation, caller hears the agent: %v", err)
	}
	if _, ssrcs, _ := peer.counts(); ssrcs != 1 {
		t.Errorf("Asterisk saw %d SSRCs, want 1 stream across the renegotiation", ssrcs)
	}
	st := leg.Stats()
	if st.ToAgent.Packets == 0 || st.FromAgent.Packets == 0 || st.Call != "c1" {
		t.Errorf("leg stats %+v: want packets both ways", st)
	}
	if !gw.Connected("a1") {
		t.Error("agent not connected")
	}
	// The browser's audio took the fast path (fastpath.go), not pion's inbound chain: the gateway
	// derived its SRTP keys right, through both PeerConnections.
	if gw.FastPathPackets() == 0 {
		t.Error("no packet from the browser took the fast path")
	}
	if n := seriesCount(t, reg, "hotline_softphone_fast_path_packets_total"); n != 1 {
		t.Errorf("%d fast path series, want 1", n)
	}
	if n := seriesCount(t, reg, "hotline_softphone_rtp_packets_total"); n != 2 {
		t.Errorf("%d packet series, want 2 (one per direction)", n)
	}
	// Every packet relayed either way was timed, from its read to its write.
	for dir, n := range relayTimed(t, reg) {
		if n == 0 {
			t.Errorf("no packet timed %s", dir)
		}
	}
	leg.SetMuted(true)
	peer.reset()
	if err := peer.waitQuiet(ctx); err != nil {
		t.Fatalf("muted leg: %v", err)
	}
	if err := leg.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := gw.Stats("a1"); ok {
		t.Error("stats of a closed leg")
	}
}

// TestLegsIsolated: a leg's audio reaches only its own agent.
func TestLegsIsolated(t *testing.T) {
	gw := newTestGateway(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	heardA, heardB := newToneSink(), newToneSink()
	newPionAgent(t, gw, "a", func(p *rtp.Packet) { heardA.add(p.Payload) })
	newPionAgent(t, gw, "b", func(p *rtp.Packet) { heardB.add(p.Payload) })
	legA, err := gw.OpenLeg("a", "ca")
	if err != nil {
		t.Fatal(err)
	}
	legB, err := gw.OpenLeg("b", "cb")
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := newRTPPeer(t), newRTPPeer(t)
	legA.SetRemote(pa.addr())
	legB.SetRemote(pb.addr())
	go pa.send(ctx, legA.LocalAddr(), 440)
	go pb.send(ctx, legB.LocalAddr(), 700)
	if _, err := heardA.waitTone(ctx, 440, 20); err != nil {
		t.Fatalf("a: %v", err)
	}
	if _, err := heardB.waitTone(ctx, 700, 20); err != nil {
		t.Fatalf("b: %v", err)
	}
}

// relayTimed is how many packets hotline_softphone_relay_seconds counted, by direction (both
// there, zero or not).
func relayTimed(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]uint64{softphone.DirToAgent: 0, softphone.DirFromAgent: 0}
	for _, mf := range mfs {
		if mf.GetName() != "hotline_softphone_relay_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "direction" {
					n[l.GetValue()] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return n
}

func seriesCount(t *testing.T, reg *prometheus.Registry, name string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() != "direction" {
						t.Errorf("%s has label %s: only direction is allowed", name, l.GetName())
					}
				}
			}
			return len(mf.GetMetric())
		}
	}
	return 0
}

// TestFastPathKeys: whatever SRTP profile and DTLS cipher suite the browser settles on, the gateway
// derives its SRTP keys itself and relays its audio on the fast path (fastpath.go).
func TestFastPathKeys(t *testing.T) {
	tests := []struct {
		name    string
		profile dtls.SRTPProtectionProfile
		suite   dtls.CipherSuiteID
	}{
		{"AES-CM HMAC-SHA1-80, AES-128-GCM-SHA256", dtls.SRTP_AES128_CM_HMAC_SHA1_80, dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"AEAD AES-128-GCM, AES-128-GCM-SHA256", dtls.SRTP_AEAD_AES_128_GCM, dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"AEAD AES-256-GCM, AES-256-GCM-SHA384", dtls.SRTP_AEAD_AES_256_GCM, dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		{"AES-CM HMAC-SHA1-80, AES-256-CBC-SHA", dtls.SRTP_AES128_CM_HMAC_SHA1_80, dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gw := newTestGateway(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			api := pionloop.APIWith(func(se *webrtc.SettingEngine) {
				se.SetSRTPProtectionProfiles(tc.profile)
				se.SetDTLSCipherSuites(tc.suite)
			})
			agent := newPionAgentOn(t, api, gw, "a1", func(*rtp.Packet) {})
			go sendTone(ctx, 1000, agent.track.WriteRTP)
			leg, err := gw.OpenLeg("a1", "c1")
			if err != nil {
				t.Fatal(err)
			}
			defer leg.Close()
			peer := newRTPPeer(t)
			leg.SetRemote(peer.addr())
			if _, err := peer.waitTone(ctx, 1000, 20); err != nil {
				t.Fatalf("caller hears the agent: %v", err)
			}
			if gw.FastPathPackets() == 0 {
				t.Fatal("the browser's audio reached the caller through pion, not the fast path: the keys are wrong")
			}
		})
	}
}

// TestLegTakesOnlyAsterisk: a leg takes RTP from the address SetRemote gave it only, and none
// before it is told: a tone injected from another port, with the stream's own SSRC and sequence
// numbers, never reaches the agent, before SetRemote or after, and every packet of it is counted.
func TestLegTakesOnlyAsterisk(t *testing.T) {
	reg := prometheus.NewRegistry()
	gw := newTestGateway(t, reg)
	var mu sync.Mutex
	heard := map[uint16]int{}
	newPionAgent(t, gw, "a1", func(p *rtp.Packet) {
		if len(p.Payload) >= 2 {
			mu.Lock()
			heard[binary.BigEndian.Uint16(p.Payload)]++
			mu.Unlock()
		}
	})
	heardOf := func(mark uint16) int {
		mu.Lock()
		defer mu.Unlock()
		return heard[mark]
	}
	leg, err := gw.OpenLeg("a1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	asterisk, injector := benchSocket(t), benchSocket(t)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 0x5eed, SequenceNumber: 100}, Payload: make([]byte, 160)}
	send := func(c *net.UDPConn, mark uint16) {
		t.Helper()
		binary.BigEndian.PutUint16(pkt.Payload, mark)
		pkt.SequenceNumber++
		pkt.Timestamp += 160
		b, _ := pkt.Marshal()
		if _, err := c.WriteToUDPAddrPort(b, leg.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	dropped := func(reason string) float64 {
		return counterValue(t, reg, "hotline_softphone_rtp_dropped_packets_total", "reason", reason)
	}

	// Whoever sends first to a fresh leg is not taken for Asterisk.
	for range 10 {
		send(injector, 0xdddd)
	}
	waitfor.True(t, "the leg drops what comes before SetRemote", 10*time.Second, func() bool { return dropped("no_remote") == 10 })
	leg.SetRemote(asterisk.LocalAddr().(*net.UDPAddr).AddrPort())

	// until the agent hears Asterisk: the first packets of a fresh PeerConnection may go while
	// its track binds.
	waitfor.True(t, "the agent hears Asterisk", 10*time.Second, func() bool {
		send(asterisk, 1)
		return heardOf(1) > 0
	})
	for range 50 {
		send(injector, 0xeeee)
		send(asterisk, 2)
	}
	// Packets keep their order from the leg to the agent: once the agent hears 3, it has
	// heard whatever of the injected packets got through.
	waitfor.True(t, "the agent hears Asterisk after the injection", 10*time.Second, func() bool {
		send(asterisk, 3)
		return heardOf(3) > 0
	})
	if n, m := heardOf(0xdddd), heardOf(0xeeee); n+m > 0 {
		t.Fatalf("the agent heard %d packets injected before SetRemote and %d after", n, m)
	}
	if heardOf(2) == 0 {
		t.Fatal("the agent heard none of Asterisk's packets sent between the injected ones")
	}
	if got := leg.Remote(); got != asterisk.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Errorf("leg's remote %v, want Asterisk's %v", got, asterisk.LocalAddr())
	}
	if n := dropped("wrong_source"); n != 50 {
		t.Errorf("wrong_source drops = %v, want 50", n)
	}
}

// counterValue is the value of the named counter's series whose label is value.
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestICENetworks: the gateway checks only the remote candidates in its ICE networks. An offer
// names two candidates, both the test's sockets: one inside (127.0.0.1/32) and one outside
// (127.0.0.2), the outside one first by priority. The gateway checks every pair in each round, the
// outside one first, so by its third check of the inside candidate it would have checked the
// outside one too.
func TestICENetworks(t *testing.T) {
	for _, filtered := range []bool{true, false} {
		name := "unfiltered"
		if filtered {
			name = "filtered"
		}
		t.Run(name, func(t *testing.T) {
			cfg := softphone.GatewayConfig{ICEAddr: netip.MustParseAddrPort("127.0.0.1:0"), LoopbackOnly: true}
			if filtered {
				cfg.ICENetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			}
			gw, err := softphone.NewGateway(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer gw.Close()
			inside, insideN := stunCounter(t, "127.0.0.1")
			outside, outsideN := stunCounter(t, "127.0.0.2")

			pc, _ := browsertest.PionPeer(t, "agent")
			offer, err := pc.CreateOffer(nil)
			if err != nil {
				t.Fatal(err)
			}
			gathered := webrtc.GatheringCompletePromise(pc)
			if err := pc.SetLocalDescription(offer); err != nil {
				t.Fatal(err)
			}
			<-gathered
			var sdp []string
			for _, l := range strings.Split(pc.LocalDescription().SDP, "\r\n") {
				if strings.HasPrefix(l, "a=candidate:") {
					continue
				}
				sdp = append(sdp, l)
				if strings.HasPrefix(l, "a=ice-pwd:") {
					sdp = append(sdp,
						fmt.Sprintf("a=candidate:1 1 udp 2130706431 127.0.0.2 %d typ host", outside.Port()),
						fmt.Sprintf("a=candidate:2 1 udp 2113929471 127.0.0.1 %d typ host", inside.Port()))
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := gw.Negotiate(ctx, "a1", strings.Join(sdp, "\r\n")); err != nil {
				t.Fatal(err)
			}
			if filtered {
				waitfor.True(t, "three checks of the inside candidate", 10*time.Second, func() bool { return insideN.Load() >= 3 })
				if n := outsideN.Load(); n > 0 {
					t.Fatalf("the gateway sent %d packets to a candidate outside its ICE networks", n)
				}
			} else {
				waitfor.True(t, "a check of the outside candidate", 10*time.Second, func() bool { return outsideN.Load() > 0 })
			}
		})
	}
}

// TestICENetworksAgentConnects: a browser inside the ICE networks connects and talks as before.
func TestICENetworksAgentConnects(t *testing.T) {
	gw, err := softphone.NewGateway(softphone.GatewayConfig{
		ICEAddr: netip.MustParseAddrPort("127.0.0.1:0"), LoopbackOnly: true,
		ICENetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8")},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	agent := newPionAgent(t, gw, "a1", func(*rtp.Packet) {})
	go sendTone(ctx, 1000, agent.track.WriteRTP)
	leg, err := gw.OpenLeg("a1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	peer := newRTPPeer(t)
	leg.SetRemote(peer.addr())
	if _, err := peer.waitTone(ctx, 1000, 20); err != nil {
		t.Fatalf("caller hears the agent: %v", err)
	}
}

// stunCounter listens on host and counts the packets it gets.
func stunCounter(t *testing.T, host string) (netip.AddrPort, *atomic.Int64) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var n atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			n.Add(1)
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).AddrPort(), &n
}
