package server

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestDemoCallers: each kind of the demo's simulated callers goes where it says through the
// default IVR: into its queue, or (self-service) nowhere near one. The demo's board, reports and
// recordings show only what these reach.
func TestDemoCallers(t *testing.T) {
	srv := startSimServer(t, "demo-callers", nil)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	for i, m := range callerMix {
		caller, err := srv.Sim().Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79160000000", Script: m.script(r)})
		if err != nil {
			t.Fatal(err)
		}
		id := caller.ChannelID()
		if m.queue == "" {
			select {
			case <-caller.Done():
			case <-time.After(60 * time.Second):
				t.Fatalf("caller kind %d did not hang up after its self-service", i)
			}
			evs, err := srv.center.Events(ctx, "", 10_000)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Call == id && ev.Event == "ENQUEUE" {
					t.Errorf("caller kind %d (self-service) was queued in %s", i, ev.Queue)
				}
			}
			continue
		}
		waitfor.True(t, "caller kind "+m.queue+" in its queue", 30*time.Second, func() bool {
			snap, err := srv.center.Snapshot(ctx)
			if err != nil {
				return false
			}
			for _, c := range snap.Calls {
				if c.ID == id {
					if c.Queue != m.queue {
						t.Fatalf("caller kind %d is in %s, want %s", i, c.Queue, m.queue)
					}
					return true
				}
			}
			return false
		})
		if err := caller.Hangup(); err != nil {
			t.Fatal(err)
		}
	}
}
