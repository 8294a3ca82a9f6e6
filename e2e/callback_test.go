package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/prompts"
)

// TestCallbackUnanswered: a waiting caller asks to be called back and hangs up; when p001 answers
// the callback the number does not answer: p001's page says so and p001 is available at once, with
// no wrap-up (the ACD tries the number again later).
// Simulator only: the far end of the trunk is the simulator's.
func TestCallbackUnanswered(t *testing.T) {
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations(),
		Outbound: func(string) asterisksim.Outbound {
			return asterisksim.Outbound{AnswerAfter: time.Second, Reject: true, Cause: 19} // no answer
		}})
	srv := startHotline(t, tg)
	base := "http://" + srv.WebAddr().String()
	p001 := connectAgent(t, base, "p001", "hotline-demo")
	p001.startAudio(1000)

	caller, err := tg.Callers.Dial(context.Background(), aritest.CallerSpec{DID: "8800", Number: "79160000040", Name: "Caller", Context: "caller-ivr-callback"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-caller.Sim.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("the caller who asked for a callback is still on the line")
	}

	p001.setState("available")
	p001.waitRinging(caller.ChannelID, 30*time.Second)
	p001.request("call.answer", map[string]any{"call": caller.ChannelID})
	ended := p001.waitFor("the callback's end", 20*time.Second, isPush("call.ended", caller.ChannelID))
	if ended["reason"] != "callback_no_answer" {
		t.Fatalf("the callback ended with %v, want callback_no_answer", ended["reason"])
	}
	p001.waitFor("p001 available", 10*time.Second, func(m map[string]any) bool {
		return m["type"] == "state" && m["state"] == "available"
	})
	waitfor.True(t, "p001 available on the dashboard", 10*time.Second, func() bool { return agentState(t, base, "p001") == "available" })
	if n := queueRetries(t, base, "general"); n != 1 {
		t.Fatalf("the dashboard shows %d callbacks to retry in general, want 1", n)
	}
}

// queueRetries reads a queue's callbacks waiting to be retried from the supervisor's API.
func queueRetries(t *testing.T, base, queue string) int {
	t.Helper()
	for _, q := range supervisorView(t, base).Queues {
		if q.Name == queue {
			return q.Retries
		}
	}
	t.Fatalf("no queue %s on the dashboard", queue)
	return 0
}
