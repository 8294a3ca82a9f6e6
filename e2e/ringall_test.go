package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/prompts"
)

// TestRingAll: with the general queue set to ring-all, a caller rings both available agents' pages
// at once; p002 answers first and has the caller (tone both ways), and p001's page stops ringing
// with "answered_elsewhere" and p001 is available again.
// Simulator only: it checks by tone what the caller hears.
func TestRingAll(t *testing.T) {
	// The general queue's own strategy line, the first after its name.
	center := regexp.MustCompile(`(?s)(- name: general\n.*?strategy: )longest-idle`).
		ReplaceAllString(string(acd.DefaultCenter), "${1}ring-all")
	if m, err := acd.Load("center.yaml", []byte(center)); err != nil {
		t.Fatal(err)
	} else if q, _ := m.Queue("general"); q.Strategy != acd.RingAll {
		t.Fatalf("the general queue's strategy is %q: the default center is not shaped as this test expects", q.Strategy)
	}
	file := filepath.Join(t.TempDir(), "center.yaml")
	if err := os.WriteFile(file, []byte(center), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	// The default center's accounts, with their published password: a demo.
	srv := startHotline(t, tg, func(c *config.Config) { c.ACD.CenterFile, c.InsecureDemo = file, true })
	base := "http://" + srv.WebAddr().String()

	p001 := connectAgent(t, base, "p001", "hotline-demo")
	p001.startAudio(1000)
	p001.setState("available")
	p002 := connectAgent(t, base, "p002", "hotline-demo")
	p002Phone := p002.startAudio(1500)
	p002.setState("available")

	caller := dial(t, tg, "79160000030", "Caller")
	p001.waitRinging(caller.ChannelID, 30*time.Second)
	p002.waitRinging(caller.ChannelID, 5*time.Second)
	p002.request("call.answer", map[string]any{"call": caller.ChannelID})
	p002.waitFor("p002 connected", 10*time.Second, isPush("call.connected", caller.ChannelID))
	ended := p001.waitFor("p001's ringing stopped", 10*time.Second, isPush("call.ended", caller.ChannelID))
	if ended["reason"] != "answered_elsewhere" {
		t.Fatalf("p001's ringing ended with %v, want answered_elsewhere", ended["reason"])
	}
	waitfor.True(t, "the caller hearing p002", 15*time.Second, func() bool { return has(caller.Sim.Heard(500*time.Millisecond), 1500) })
	waitfor.True(t, "p002 hearing the caller", 15*time.Second, func() bool { return has(p002Phone.Heard(500*time.Millisecond), 440) })
	waitfor.True(t, "p001 available again", 10*time.Second, func() bool { return agentState(t, base, "p001") == "available" })
}
