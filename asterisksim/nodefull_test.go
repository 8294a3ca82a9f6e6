package asterisksim_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestNodeFull: with HOTLINE_MAX_CALLS set (live, as an operator's "dialplan set global" does),
// the production dialplan's [from-carrier] refuses the caller past the limit before Stasis, so the
// controller never spends anything on them, and takes callers again once one has gone. The limit off (0, as
// shipped) refuses nobody. Runs on the simulator and on a real Asterisk; the refusal's 503 on a
// SIP trunk is asterisk-config's TestIPTrunk.
func TestNodeFull(t *testing.T) {
	// Real time: the callers' Wait(60) must outlast every wait here, so that a channel gone is a
	// refusal and not a caller who hung up.
	aritest.Run(t, asterisksim.Config{TimeScale: 1}, func(t *testing.T, tg *aritest.Target) {
		events := tg.Connect(t, tg.App) // the controller's app: admitted callers start there
		was := do(t, tg, http.MethodGet, "/ari/asterisk/variable?variable=HOTLINE_MAX_CALLS", nil, http.StatusOK)["value"]
		if was != "0" {
			t.Fatalf("HOTLINE_MAX_CALLS is %v before the test, want the shipped 0", was)
		}

		dial := func(number string) aritest.PlacedCall {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			call, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: number, Name: "Full Test", Context: "caller-long", Entry: "from-carrier"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { hangupQuietly(tg, call.ChannelID) })
			return call
		}
		// admitted waits for every call's StasisStart, in whatever order they come.
		admitted := func(what string, calls ...aritest.PlacedCall) {
			t.Helper()
			want := map[string]bool{}
			for _, c := range calls {
				want[c.ChannelID] = true
			}
			for len(want) > 0 {
				ev := events.WaitFor(t, wait, what, aritest.Type("StasisStart", ""))
				ch, _ := ev["channel"].(map[string]any)
				id, _ := ch["id"].(string)
				delete(want, id)
			}
		}
		gone := func(id, what string) {
			t.Helper()
			waitfor.True(t, what, wait, func() bool {
				st, _, err := tg.Do(context.Background(), http.MethodGet, "/ari/channels/"+id, nil)
				return err == nil && st == http.StatusNotFound
			})
		}

		// Off: two callers at once are both taken.
		a, b := dial("79160000061"), dial("79160000062")
		admitted("two callers, no limit", a, b)
		do(t, tg, http.MethodDelete, "/ari/channels/"+b.ChannelID, nil, http.StatusNoContent)
		gone(b.ChannelID, "the second caller hung up")

		// One at most: the caller past it is refused without reaching Stasis, the first stays.
		tg.NodeCeiling(t, 1)
		c := dial("79160000063")
		gone(c.ChannelID, "the caller past HOTLINE_MAX_CALLS refused")
		for drained := false; !drained; {
			select {
			case ev := <-events.C:
				if aritest.Type("StasisStart", c.ChannelID)(ev) {
					t.Fatalf("the refused caller reached Stasis: %v", ev)
				}
			default:
				drained = true
			}
		}
		do(t, tg, http.MethodGet, "/ari/channels/"+a.ChannelID, nil, http.StatusOK)

		// The first gone, a caller is taken again.
		do(t, tg, http.MethodDelete, "/ari/channels/"+a.ChannelID, nil, http.StatusNoContent)
		gone(a.ChannelID, "the first caller hung up")
		admitted("a caller once the node has room", dial("79160000064"))
	})
}
