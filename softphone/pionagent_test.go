package softphone_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hotline-cc/hotline/softphone"
)

// pionAgent stands in for an agent's browser in tests and benchmarks that need no Chromium: a
// pion PeerConnection on loopback that negotiates with the gateway as the page does.
type pionAgent struct {
	pc        *webrtc.PeerConnection
	track     *webrtc.TrackLocalStaticRTP
	connected chan struct{}
}

// newPionAgent connects agentID's "browser" to gw; onRTP gets every packet the gateway sends it.
func newPionAgent(tb testing.TB, gw *softphone.Gateway, agentID string, onRTP func(*rtp.Packet)) *pionAgent {
	tb.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1},
		PayloadType:        0,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		tb.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pc.Close() })
	a := &pionAgent{pc: pc, connected: make(chan struct{})}
	a.track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, "mic", "agent")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(a.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		tb.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			onRTP(p)
		}
	})
	var once bool
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected && !once {
			once = true
			close(a.connected)
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		tb.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		tb.Fatal(err)
	}
	<-gathered
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := gw.Negotiate(ctx, agentID, pc.LocalDescription().SDP)
	if err != nil {
		tb.Fatalf("negotiate: %v", err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-a.connected:
	case <-ctx.Done():
		tb.Fatal("pion agent never connected")
	}
	return a
}
