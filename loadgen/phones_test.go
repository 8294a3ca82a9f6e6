package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/loadgen"
)

// TestRunPhones: the crew's agents with WebRTC phones on the gateway, a short ramp and window:
// audio flows both ways through the gateway with nothing lost on loopback, and the window's
// counts agree with each other.
func TestRunPhones(t *testing.T) {
	srv, _ := startCrewServer(t, "loadgen-phones", 5, 600*time.Millisecond)
	waitCrew(t, srv, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	phones, err := loadgen.DialPhones(ctx, srv.Gateway(), srv.CrewAgents())
	if err != nil {
		t.Fatal(err)
	}
	defer phones.Close()
	res, err := loadgen.Run(ctx, srv, loadgen.Config{Rate: 3, Duration: 3 * time.Second, Ramp: 3, RampRate: 10, Phones: phones})
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, 9)
	w := res.Window
	if w == nil {
		t.Fatal("no window measured")
	}
	t.Log(w)
	if w.Setups == 0 || w.Setups > res.Connected || w.OnCallMax == 0 || w.OnCallMax > 5 || w.HearingMax == 0 || w.HearingMax > 5 || w.Samples == 0 {
		t.Errorf("window %+v", w)
	}
	for name, f := range map[string]loadgen.Flow{"to the agents": w.ToAgent, "from the agents": w.FromAgent} {
		// Relayed within what was sent, received within what was relayed: in flight at the
		// window's ends is at most a few packets a leg (5 legs).
		if f.Received == 0 || f.Lost != 0 || f.Relayed > f.Sent+25 || f.Received > f.Relayed+25 || f.P99 == "-" {
			t.Errorf("%s: %v", name, f)
		}
	}
	// Every phone talks all the time; the gateway relays only the talking agents' audio.
	if w.FromAgent.Relayed >= w.FromAgent.Sent {
		t.Errorf("from the agents: relayed %d of %d sent, with agents idle between calls", w.FromAgent.Relayed, w.FromAgent.Sent)
	}
}
