package browsertest

import (
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/hotline-cc/hotline/internal/pionloop"
)

// PionPeer is a PeerConnection standing in for an agent's browser where a real one is not needed,
// with one sendrecv audio track (returned) for its "microphone". It is closed when the test ends.
func PionPeer(tb testing.TB, streamID string) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticRTP) {
	tb.Helper()
	return PionPeerOn(tb, pionloop.API(), streamID)
}

// PionPeerOn is PionPeer built by api.
func PionPeerOn(tb testing.TB, api *webrtc.API, streamID string) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticRTP) {
	tb.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pc.Close() })
	track, err := webrtc.NewTrackLocalStaticRTP(pionloop.PCMU, "mic", streamID)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		tb.Fatal(err)
	}
	return pc, track
}
