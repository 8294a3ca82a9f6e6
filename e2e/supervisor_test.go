package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/media"
	"github.com/hotline-cc/hotline/prompts"
)

// TestSupervisorStepsIn: a supervisor (logged in on the softphone with their own account, p002)
// listens to p001's call from the dashboard and hears both sides; then barges in and the caller
// hears them; then leaves. Audio is real WebRTC to pion clients playing the browsers, checked by tone.
// Simulator only: it checks by tone what the caller hears.
func TestSupervisorStepsIn(t *testing.T) {
	const callerTone, agentTone, supervisorTone = 440, 1000, 1500
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	srv := startHotline(t, tg)
	base := "http://" + srv.WebAddr().String()

	agent := connectAgent(t, base, "p001", "hotline-demo")
	agentPhone := agent.startAudio(agentTone)
	agent.setState("available")
	sup := connectAgent(t, base, "p002", "hotline-demo") // logged in, not available: no calls come
	supPhone := sup.startAudio(supervisorTone)

	caller := dial(t, tg, "79160000009", "Caller")
	agent.waitRinging(caller.ChannelID, 30*time.Second)
	agent.request("call.answer", map[string]any{"call": caller.ChannelID})
	waitfor.True(t, "the caller at the agent", 15*time.Second, func() bool { return has(agentPhone.Heard(500*time.Millisecond), callerTone) })

	act := func(action string) {
		t.Helper()
		body := `{"call":"` + caller.ChannelID + `","supervisor":"p002"}`
		resp, err := http.Post(base+"/supervisor/api/"+action, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s: %s", action, resp.Status)
		}
	}
	act("listen")
	waitfor.True(t, "the supervisor hearing caller and agent", 15*time.Second, func() bool {
		heard := supPhone.Heard(500 * time.Millisecond)
		return has(heard, callerTone) && has(heard, agentTone)
	})
	if has(caller.Sim.Heard(500*time.Millisecond), supervisorTone) {
		t.Fatal("the caller hears a supervisor who only listens")
	}
	act("barge")
	waitfor.True(t, "the caller hearing the supervisor", 15*time.Second, func() bool {
		return has(caller.Sim.Heard(500*time.Millisecond), supervisorTone)
	})
	act("leave")
	waitfor.True(t, "the supervisor gone from the call", 15*time.Second, func() bool {
		heard := caller.Sim.Heard(500 * time.Millisecond)
		return !has(heard, supervisorTone) && has(heard, agentTone)
	})
}

// has says whether freq stands out in pcm, even mixed with other tones.
func has(pcm []int16, freq float64) bool {
	return len(pcm) > 0 && media.Power(pcm, freq, media.SampleRate) > 100*media.Power(pcm, 2750, media.SampleRate)+1
}

// TestSupervisorWithoutSoftphone: listening needs the supervisor's softphone open; the dashboard
// says so instead of sending the call's audio nowhere.
func TestSupervisorWithoutSoftphone(t *testing.T) {
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	srv := startHotline(t, tg)
	base := "http://" + srv.WebAddr().String()
	resp, err := http.Post(base+"/supervisor/api/listen", "application/json", strings.NewReader(`{"call":"x","supervisor":"p003"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "softphone") {
		t.Fatalf("listen without a softphone: %s %s, want 409 with the reason", resp.Status, body)
	}
}
