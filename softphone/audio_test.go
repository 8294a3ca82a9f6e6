package softphone

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"
)

// histogram returns the sample count and sum of the named histogram (first series).
func histogram(t *testing.T, reg *prometheus.Registry, name string) (uint64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	return 0, 0
}

// TestAnswerToAudioReport: the page's report is recorded once per call, with the leg's first
// packet from the browser, whichever comes first; absurd values, repeats and other agents' calls
// are acknowledged and ignored.
func TestAnswerToAudioReport(t *testing.T) {
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gw, err := NewGateway(GatewayConfig{ICEAddr: netip.MustParseAddrPort("127.0.0.1:0"), LoopbackOnly: true, Registerer: reg}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	s := NewServer(gw, nopDesk{}, ServerConfig{}, log)
	const name = "hotline_softphone_answer_to_audio_seconds"
	report := func(agent, call, ms string) {
		t.Helper()
		reply := s.dispatch(context.Background(), caller{id: agent, agent: true}, nil, []byte(`{"type":"call.audio","id":"r1","call":"`+call+`","answer_to_audio_ms":`+ms+`}`))
		if _, ok := reply.(Ack); !ok {
			t.Fatalf("report %s for %s/%s: reply %+v, want ack", ms, agent, call, reply)
		}
	}
	fromBrowser := func(leg *Leg) {
		leg.sendToAsterisk(1, &rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7}, Payload: make([]byte, 160)}, time.Now())
	}

	// Report first, then the browser's first packet.
	leg, err := gw.OpenLeg("a", "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	report("a", "c1", "120.5")
	if n, _ := histogram(t, reg, name); n != 0 {
		t.Fatalf("recorded %d before the browser's audio reached the leg", n)
	}
	report("b", "c1", "1") // not b's call
	fromBrowser(leg)
	n, sum := histogram(t, reg, name)
	st := leg.StartTiming()
	if n != 1 || st.PageAudio != 120500*time.Microsecond || st.AnswerToAudio < st.PageAudio || st.FirstFromAgent <= 0 {
		t.Fatalf("after the report and the first packet: %d samples (sum %v), timing %+v", n, sum, st)
	}
	if want := max(st.PageAudio, st.FirstFromAgent).Seconds(); sum != want {
		t.Fatalf("recorded %v s, want %v", sum, want)
	}
	report("a", "c1", "5") // a repeat
	fromBrowser(leg)
	if n, _ := histogram(t, reg, name); n != 1 {
		t.Fatalf("a repeated report was recorded: %d samples", n)
	}

	// The browser's packet first, then an absurd report, then a good one: nothing (the first
	// report counts, and it was absurd).
	leg2, err := gw.OpenLeg("a", "c2")
	if err != nil {
		t.Fatal(err)
	}
	defer leg2.Close()
	fromBrowser(leg2)
	report("a", "c2", "45000")
	report("a", "c2", "80")
	if n, _ := histogram(t, reg, name); n != 1 {
		t.Fatalf("an absurd report was recorded: %d samples", n)
	}

	// The browser's packet first, then the report: recorded at once.
	leg3, err := gw.OpenLeg("a", "c3")
	if err != nil {
		t.Fatal(err)
	}
	defer leg3.Close()
	fromBrowser(leg3)
	report("a", "c3", "80")
	if n, _ := histogram(t, reg, name); n != 2 {
		t.Fatalf("after the third call: %d samples, want 2", n)
	}
	report("a", "no-such-call", "80")
}

// TestLineHeldWhileJoining: a line about to get a PeerConnection or a leg (held) is not forgotten
// when another of its legs closes meanwhile (a hang-up racing the page's reload): what joins it is
// found on the agent's line afterwards, and the line goes once nothing holds or uses it.
func TestLineHeldWhileJoining(t *testing.T) {
	gw, err := NewGateway(GatewayConfig{ICEAddr: netip.MustParseAddrPort("127.0.0.1:0"), LoopbackOnly: true}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	l, release, err := gw.holdLine("a")
	if err != nil {
		t.Fatal(err)
	}
	gw.forget(l) // what a leg closing or a PeerConnection dropped does: the line is idle
	if gw.existingLine("a") != l {
		t.Fatal("a held line was forgotten")
	}
	leg, err := gw.OpenLeg("a", "c1") // a leg joining while the line is held
	if err != nil {
		t.Fatal(err)
	}
	release()
	if got := gw.existingLine("a"); got != l || got.legByCall("c1") != leg {
		t.Fatal("the leg is not on the agent's line")
	}
	leg.Close()
	if gw.existingLine("a") != nil {
		t.Error("the line outlived its last leg")
	}
}
