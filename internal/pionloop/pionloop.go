// Package pionloop builds the pion WebRTC APIs of stand-in browsers: PCMU only, ICE on loopback
// only, so their traffic never leaves the machine. The tests' browsers (internal/browsertest) and
// the load generator's agents' phones (loadgen) use the same ones; it imports no testing package,
// so the hotline binary can hold it.
package pionloop

import (
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
