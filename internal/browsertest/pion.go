package browsertest

import (
	"net"
	"sync"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// PCMU is the one codec hotline's WebRTC speaks.
var PCMU = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}

// LoopbackAPI is the pion API of stand-in browsers: PCMU only, ICE on loopback only, so their traffic
// never leaves the machine.
var LoopbackAPI = sync.OnceValue(func() *webrtc.API { return LoopbackAPIWith(nil) })

// LoadAPI is LoopbackAPI without pion's default interceptors (NACK, TWCC, RTCP reports every
// second, statistics): a load generator standing in for a thousand browsers then spends its CPU on
// their audio, so that the gateway under test, not the generator, is what saturates first.
var LoadAPI = sync.OnceValue(func() *webrtc.API {
	return LoopbackAPIWith(nil, webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
})

// LoopbackAPIWith is LoopbackAPI with its settings changed by adjust (a stand-in browser that
// offers other SRTP profiles, say), and opts.
func LoopbackAPIWith(adjust func(*webrtc.SettingEngine), opts ...func(*webrtc.API)) *webrtc.API {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: PCMU, PayloadType: 0}, webrtc.RTPCodecTypeAudio); err != nil {
		panic(err) // a fixed, valid codec
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	if adjust != nil {
		adjust(&se)
	}
	return webrtc.NewAPI(append([]func(*webrtc.API){webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)}, opts...)...)
}

// PionPeer is a PeerConnection standing in for an agent's browser where a real one is not needed,
// with one sendrecv audio track (returned) for its "microphone". It is closed when the test ends.
func PionPeer(tb testing.TB, streamID string) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticRTP) {
	tb.Helper()
	return PionPeerOn(tb, LoopbackAPI(), streamID)
}

// PionPeerOn is PionPeer built by api.
func PionPeerOn(tb testing.TB, api *webrtc.API, streamID string) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticRTP) {
	tb.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pc.Close() })
	track, err := webrtc.NewTrackLocalStaticRTP(PCMU, "mic", streamID)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		tb.Fatal(err)
	}
	return pc, track
}
