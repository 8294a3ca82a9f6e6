package softphone_test

import (
	"fmt"
	"testing"

	"github.com/hotline-cc/hotline/softphone"
)

// TestReplayDropsLapsedWrapUps: 100 wrap-ups that lapsed by time (the ACD made the agent available
// by itself, and nobody told the page) are not replayed: the agent's page still connects and is
// told its present state, nothing more.
func TestReplayDropsLapsedWrapUps(t *testing.T) {
	desk, hs := signalingRig(t)
	for i := range 100 {
		desk.notify("a1", softphone.WrapUpStarted{CallID: fmt.Sprintf("w%d", i), Seconds: 0})
	}
	desk.notify("a1", softphone.StateChanged{State: "available"})
	ca, _ := login(t, hs.URL, "a1", "secret-a")
	a := dial(t, hs.URL, ca)
	if m := a.next(); m["type"] != softphone.MsgStateChanged || m["state"] != "available" {
		t.Fatalf("after hello: %v, want the state", m)
	}
	a.send(`{"type":"ping","id":"p"}`)
	if m := a.next(); m["type"] != softphone.MsgPong {
		t.Fatalf("got %v, want pong: a lapsed wrap-up was replayed", m)
	}
}

// TestReplayBounded: however many wrap-ups are still running, the replay fits the page's queue:
// it connects and gets the newest.
func TestReplayBounded(t *testing.T) {
	desk, hs := signalingRig(t)
	desk.notify("a1", softphone.StateChanged{State: "wrapup"})
	for i := range 100 {
		desk.notify("a1", softphone.WrapUpStarted{CallID: fmt.Sprintf("w%d", i), Seconds: 3600})
	}
	ca, _ := login(t, hs.URL, "a1", "secret-a")
	a := dial(t, hs.URL, ca)
	if m := a.next(); m["type"] != softphone.MsgStateChanged {
		t.Fatalf("after hello: %v, want the state", m)
	}
	a.send(`{"type":"ping","id":"p"}`)
	var last any
	n := 0
	for {
		m := a.next()
		if m["type"] == softphone.MsgPong {
			break
		}
		if m["type"] != softphone.MsgWrapUpStarted {
			t.Fatalf("replay sent %v", m)
		}
		last = m["call"]
		n++
	}
	if n == 0 || n >= 64 || last != "w99" {
		t.Fatalf("replayed %d wrap-ups ending with %v, want a bounded number ending with the newest", n, last)
	}
}
