package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/prompts"
)

// TestTransferToColleague: a blind transfer to a colleague who is not available is refused and the
// agent keeps the caller; once the colleague is available the transfer rings them, and the caller
// reaches them with the data the IVR collected.
// Simulator only: it checks by tone what the caller hears.
func TestTransferToColleague(t *testing.T) {
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	srv := startHotline(t, tg)
	base := "http://" + srv.WebAddr().String()

	p001 := connectAgent(t, base, "p001", "hotline-demo")
	p001.startAudio(1000)
	p001.setState("available")
	p002 := connectAgent(t, base, "p002", "hotline-demo")
	p002Phone := p002.startAudio(1500)

	caller := dial(t, tg, "79160000010", "Caller")
	p001.waitRinging(caller.ChannelID, 30*time.Second)
	p001.request("call.answer", map[string]any{"call": caller.ChannelID})
	p001.waitFor("connected", 10*time.Second, isPush("call.connected", caller.ChannelID))

	transfer := map[string]any{"call": caller.ChannelID, "target": map[string]any{"kind": "agent", "value": "p002"}}
	reply := p001.try("call.transfer", transfer)
	if reply["type"] != "error" || !strings.Contains(reply["message"].(string), "p002") {
		t.Fatalf("transfer to an agent who is offline: %v, want an error naming them", reply)
	}
	waitfor.True(t, "p001 still talking to the caller", 10*time.Second, func() bool { return has(caller.Sim.Heard(500*time.Millisecond), 1000) })

	p002.setState("available")
	p001.request("call.transfer", transfer)
	p001.waitFor("p001's part ended", 10*time.Second, isPush("call.ended", caller.ChannelID))
	p002.waitRinging(caller.ChannelID, 15*time.Second)
	p002.request("call.answer", map[string]any{"call": caller.ChannelID})
	waitfor.True(t, "the caller hearing p002", 15*time.Second, func() bool { return has(caller.Sim.Heard(500*time.Millisecond), 1500) })
	waitfor.True(t, "p002 hearing the caller", 15*time.Second, func() bool { return has(p002Phone.Heard(500*time.Millisecond), 440) })
}
