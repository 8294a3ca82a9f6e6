package softphone_test

import (
	"context"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hotline-cc/hotline/internal/browsertest"
	"github.com/hotline-cc/hotline/internal/pionloop"
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
	return newPionAgentOn(tb, pionloop.API(), gw, agentID, onRTP)
}

// newPionAgentOn is newPionAgent with a "browser" built by api.
func newPionAgentOn(tb testing.TB, api *webrtc.API, gw *softphone.Gateway, agentID string, onRTP func(*rtp.Packet)) *pionAgent {
	tb.Helper()
	pc, track := browsertest.PionPeerOn(tb, api, "agent")
	a := &pionAgent{pc: pc, track: track, connected: make(chan struct{})}
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
