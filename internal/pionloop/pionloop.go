// Package pionloop builds the pion WebRTC APIs of stand-in browsers: PCMU only, ICE on loopback
// only, so their traffic never leaves the machine. The tests' browsers (internal/browsertest) and
// the load generator's agents' phones (loadgen) use the same ones; it imports no testing package,
// so the hotline binary can hold it.
package pionloop

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// PCMU is the one codec hotline's WebRTC speaks.
var PCMU = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}

// API is the pion API of stand-in browsers, with pion's default interceptors.
var API = sync.OnceValue(func() *webrtc.API { return APIWith(nil) })

// LoadAPI is API without pion's default interceptors (NACK, TWCC, RTCP reports every second,
// statistics): a load generator standing in for a thousand browsers then spends its CPU on their
// audio, so that the gateway under test, not the generator, is what saturates first.
var LoadAPI = sync.OnceValue(func() *webrtc.API {
	return APIWith(nil, webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
})

// APIWith is API with its settings changed by adjust (a stand-in browser that offers other SRTP
// profiles, say), and opts.
func APIWith(adjust func(*webrtc.SettingEngine), opts ...func(*webrtc.API)) *webrtc.API {
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

// Connect negotiates pc with the gateway as an agent's page does: a complete offer (every ICE
// candidate gathered, none trickled), answer's SDP in return, and a wait until pc is connected.
// answer carries the offer to the gateway, however the caller reaches it (the page's WebSocket, or
// the gateway in-process). ctx bounds the whole.
func Connect(ctx context.Context, pc *webrtc.PeerConnection, answer func(ctx context.Context, offerSDP string) (string, error)) error {
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("ICE gathering: %w", ctx.Err())
	}
	sdp, err := answer(ctx, pc.LocalDescription().SDP)
	if err != nil {
		return fmt.Errorf("the gateway's answer: %w", err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("the gateway's answer: %w", err)
	}
	select {
	case <-connected:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("not connected (state %s): %w", pc.ConnectionState(), ctx.Err())
	}
}
