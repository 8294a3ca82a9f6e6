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

// consultPair starts a hotline on tg with p001 (1000 Hz microphone) talking to a caller and p002
// (1500 Hz) logged in and available: the start of an attended transfer.
func consultPair(t *testing.T, tg *aritest.Target) (base string, p001, p002 *agentClient, p001Phone, p002Phone *pionPhone, caller aritest.PlacedCall) {
	t.Helper()
	srv := startHotline(t, tg)
	base = "http://" + srv.WebAddr().String()
	p001 = connectAgent(t, base, "p001", "hotline-demo")
	p001Phone = p001.startAudio(1000)
	p001.setState("available")
	p002 = connectAgent(t, base, "p002", "hotline-demo")
	p002Phone = p002.startAudio(1500)

	caller = dial(t, tg, "79160000020", "Caller")
	p001.waitRinging(caller.ChannelID, 30*time.Second)
	p001.request("call.answer", map[string]any{"call": caller.ChannelID})
	p001.waitFor("connected", 10*time.Second, isPush("call.connected", caller.ChannelID))
	waitfor.True(t, "p001 hearing the caller", 15*time.Second, func() bool { return has(p001Phone.Heard(500*time.Millisecond), 440) })
	p002.setState("available")
	return base, p001, p002, p001Phone, p002Phone, caller
}

// isConsultRing matches p002's ringing for a consultation by p001 about callID.
func isConsultRing(callID, from string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		cs, _ := m["consult"].(map[string]any)
		return m["type"] == "call.ringing" && ringingCall(m) == callID && cs != nil && cs["agent"] == from
	}
}

// TestAttendedTransferToColleague: p001 consults p002 by agent id; the caller holds while p002's
// page rings with the consultation and the caller's screen pop; p002 is reserved (the supervisor
// sees "consult"); p002 answers and the two agents hear each other; p001 completes: p001 wraps up,
// the call is p002's, the caller hears p002's microphone and p002 the caller; p002 hangs up into
// wrap-up and the call is in p002's calls today.
// Simulator only: it checks by tone what the caller hears.
func TestAttendedTransferToColleague(t *testing.T) {
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	base, p001, p002, p001Phone, p002Phone, caller := consultPair(t, tg)
	id := caller.ChannelID

	p001.request("call.consult", map[string]any{"call": id, "target": map[string]any{"kind": "agent", "value": "p002"}})
	ring := p002.waitFor("the consultation ringing", 10*time.Second, isConsultRing(id, "p001"))
	if info, _ := ring["call"].(map[string]any); info["caller_number"] != "79160000020" || info["queue"] != "general" {
		t.Fatalf("p002's consultation card: %v", info)
	}
	waitAgentState(t, base, "p002", "consult")
	p001.waitFor("p001 consulting p002", 10*time.Second, func(m map[string]any) bool {
		a, _ := m["agent"].(map[string]any)
		return m["type"] == "call.consulting" && m["call"] == id && a != nil && a["agent"] == "p002"
	})
	if reply := p001.try("call.complete", map[string]any{"call": id}); reply["type"] != "error" {
		t.Fatalf("complete before p002 answered: %v", reply)
	}

	p002.request("call.answer", map[string]any{"call": id})
	p002.waitFor("p002 in the consultation", 10*time.Second, func(m map[string]any) bool {
		return m["type"] == "call.connected" && m["call"] == id && m["consult"] != nil
	})
	p001.waitFor("p001 told p002 answered", 10*time.Second, func(m map[string]any) bool {
		return m["type"] == "call.consulting" && m["call"] == id && m["answered"] == true
	})
	waitfor.True(t, "p001 hearing p002", 15*time.Second, func() bool { return has(p001Phone.Heard(500*time.Millisecond), 1500) })
	waitfor.True(t, "p002 hearing p001", 15*time.Second, func() bool { return has(p002Phone.Heard(500*time.Millisecond), 1000) })
	waitfor.True(t, "the caller not hearing the agents while held", 15*time.Second, func() bool {
		heard := caller.Sim.Heard(500 * time.Millisecond)
		return !has(heard, 1000) && !has(heard, 1500)
	})

	p001.request("call.complete", map[string]any{"call": id})
	p001.waitFor("p001's wrap-up", 10*time.Second, isPush("wrapup.started", id))
	p002.waitFor("the call is p002's", 10*time.Second, func(m map[string]any) bool {
		return m["type"] == "call.connected" && m["call"] == id && m["consult"] == nil
	})
	waitfor.True(t, "the caller hearing p002", 15*time.Second, func() bool { return has(caller.Sim.Heard(500*time.Millisecond), 1500) })
	waitfor.True(t, "p002 hearing the caller", 15*time.Second, func() bool { return has(p002Phone.Heard(500*time.Millisecond), 440) })
	waitAgentState(t, base, "p002", "on_call")
	if reply := p001.try("call.hangup", map[string]any{"call": id}); reply["type"] != "error" {
		t.Fatalf("p001 still controls the transferred call: %v", reply)
	}

	p002.request("call.hold", map[string]any{"call": id})
	p002.waitFor("held", 10*time.Second, isPush("call.held", id))
	p002.request("call.resume", map[string]any{"call": id})
	p002.request("call.hangup", map[string]any{"call": id})
	p002.waitFor("p002's wrap-up", 10*time.Second, isPush("wrapup.started", id))
	reply := p002.request("calls.today.get", nil)
	if calls, _ := reply["calls"].([]any); len(calls) != 1 || calls[0].(map[string]any)["call"] != id {
		t.Fatalf("p002's calls today: %v", reply["calls"])
	}
}

// TestAttendedTransferCancel: p001 consults p002, who answers; p001 goes back to the caller: p002's
// consultation ends without wrap-up (available again), and p001 and the caller hear each other.
func TestAttendedTransferCancel(t *testing.T) {
	aritest.Run(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()}, func(t *testing.T, tg *aritest.Target) {
		base, p001, p002, p001Phone, p002Phone, caller := consultPair(t, tg)
		id := caller.ChannelID
		p001.request("call.consult", map[string]any{"call": id, "target": map[string]any{"kind": "agent", "value": "p002"}})
		p002.waitFor("the consultation ringing", 10*time.Second, isConsultRing(id, "p001"))
		p002.request("call.answer", map[string]any{"call": id})
		waitfor.True(t, "p002 hearing p001", 15*time.Second, func() bool { return has(p002Phone.Heard(500*time.Millisecond), 1000) })

		p001.request("call.cancel", map[string]any{"call": id})
		p002.waitFor("p002's consultation over", 10*time.Second, func(m map[string]any) bool {
			return m["type"] == "call.ended" && m["call"] == id && m["reason"] == "consult:cancelled"
		})
		p001.waitFor("p001 back with the caller", 10*time.Second, isPush("call.resumed", id))
		waitfor.True(t, "p001 hearing the caller again", 15*time.Second, func() bool { return has(p001Phone.Heard(500*time.Millisecond), 440) })
		if caller.Sim != nil {
			waitfor.True(t, "the caller hearing p001 again", 15*time.Second, func() bool { return has(caller.Sim.Heard(500*time.Millisecond), 1000) })
		}
		waitAgentState(t, base, "p002", "available")
		if _, ok := p002.find(isPush("wrapup.started", id)); ok {
			t.Fatal("p002 went to wrap-up after a consultation that was cancelled")
		}
	})
}

// TestAttendedTransferToQueue: p001 consults the general queue, whose only free agent is p002; p002
// declines and p001 is told and back with the caller; with p002 paused nobody is free, so the next
// consultation is refused at once and p001 keeps the caller.
func TestAttendedTransferToQueue(t *testing.T) {
	aritest.Run(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()}, func(t *testing.T, tg *aritest.Target) {
		base, p001, p002, p001Phone, _, caller := consultPair(t, tg)
		id := caller.ChannelID
		toQueue := map[string]any{"call": id, "target": map[string]any{"kind": "queue", "value": "general"}}
		p001.request("call.consult", toQueue)
		p002.waitFor("the consultation ringing", 10*time.Second, isConsultRing(id, "p001"))
		p002.request("call.reject", map[string]any{"call": id})
		p001.waitFor("p001 told p002 declined", 10*time.Second, func(m map[string]any) bool {
			return m["type"] == "call.consult_ended" && m["call"] == id && m["reason"] == "rejected"
		})
		waitfor.True(t, "p001 hearing the caller again", 15*time.Second, func() bool { return has(p001Phone.Heard(500*time.Millisecond), 440) })
		waitAgentState(t, base, "p002", "available")

		p002.setState("paused")
		reply := p001.try("call.consult", toQueue)
		if reply["type"] != "error" || reply["code"] != "unavailable" || !strings.Contains(reply["message"].(string), "general") {
			t.Fatalf("consult a queue with nobody free: %v, want an unavailable error naming the queue", reply)
		}
		waitfor.True(t, "p001 still with the caller", 15*time.Second, func() bool { return has(p001Phone.Heard(500*time.Millisecond), 440) })
	})
}
