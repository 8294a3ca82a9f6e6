package switchboard

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestDrain (issue 13, deliverable 2): a draining controller is not drained while a caller is in
// its IVR; a caller who arrives meanwhile goes to the drain context at the number dialled, never
// into this controller's IVR; once the first caller is queued the drain is over, and that caller
// is still on the line, waiting in the ACD for whoever takes the node over.
func TestDrain(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.drainContext = "test-drain"
		r.acd.setFree("a1", false)
		r.start(t, "i1")
		ctx := context.Background()
		first := r.dial(t, "79161110001") // presses 1 three seconds in
		waitfor.True(t, "the first caller in the IVR", 20*time.Second, func() bool { return r.sb.call(first.ChannelID) != nil })
		drained := r.sb.Drain()
		select {
		case <-drained:
			t.Fatal("drained with a caller in the IVR")
		default:
		}
		second, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: "79161110002", Context: "caller-wait"})
		if err != nil {
			t.Fatal(err)
		}
		waitfor.True(t, "the second caller in the drain context", 20*time.Second, func() bool {
			st, body, err := tg.Do(ctx, "GET", "/ari/channels/"+second.ChannelID, nil)
			if err != nil || st != 200 {
				return false
			}
			var ch struct {
				Dialplan struct{ Context, Exten string } `json:"dialplan"`
			}
			return json.Unmarshal(body, &ch) == nil && ch.Dialplan.Context == "test-drain" && ch.Dialplan.Exten == "8800"
		})
		waitClosed(t, drained, "the drain's end once the first caller is queued")
		waitQueued(t, r.acd, first.ChannelID)
		if r.sb.call(second.ChannelID) != nil {
			t.Error("the second caller was served here too")
		}
		r.acd.mu.Lock()
		_, queued := r.acd.calls[second.ChannelID]
		r.acd.mu.Unlock()
		if queued {
			t.Error("the second caller was queued by the draining controller")
		}
		if !up(t, tg, first) {
			t.Error("the first caller was dropped by the drain")
		}
	})
}
