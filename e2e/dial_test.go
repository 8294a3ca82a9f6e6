package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/prompts"
)

// TestTransferInjectionFromPage: the dial-string injection of issue 10 (finding 3), sent by an
// agent's page as a blind transfer and as a consultation, gets a "refused" error saying why; the
// agent keeps the caller, nothing is dialled, and the center's audit stream in Redis holds both
// refusals under the agent's name. A premium-rate number is refused the same way.
// Simulator only: it checks by tone what the caller hears.
func TestTransferInjectionFromPage(t *testing.T) {
	dialled := make(chan string, 4)
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations(),
		Outbound: func(endpoint string) asterisksim.Outbound {
			dialled <- endpoint
			return asterisksim.Outbound{AnswerAfter: time.Second, Tone: 880}
		}})
	var redisAddr string
	srv := startHotline(t, tg, func(c *config.Config) { redisAddr = c.Redis.Addr })
	base := "http://" + srv.WebAddr().String()
	p001 := connectAgent(t, base, "p001", "hotline-demo")
	p001.startAudio(1000)
	p001.setState("available")

	caller := dial(t, tg, "79160000011", "Caller")
	p001.waitRinging(caller.ChannelID, 30*time.Second)
	p001.request("call.answer", map[string]any{"call": caller.ChannelID})
	p001.waitFor("connected", 10*time.Second, isPush("call.connected", caller.ChannelID))

	const injection = "1@trunk&PJSIP/88216000000@trunk,60,U(evil)"
	for _, tc := range []struct{ typ, to, why string }{
		{"call.transfer", injection, "not a phone number"},
		{"call.consult", injection, "not a phone number"},
		{"call.transfer", "8 809 555-01-00", "premium"},
	} {
		reply := p001.try(tc.typ, map[string]any{"call": caller.ChannelID, "target": map[string]any{"kind": "number", "value": tc.to}})
		if reply["type"] != "error" || reply["code"] != "refused" || !strings.Contains(reply["message"].(string), tc.why) {
			t.Errorf("%s to %q: %v, want a refused error saying %q", tc.typ, tc.to, reply, tc.why)
		}
	}
	waitfor.True(t, "p001 still talking to the caller", 10*time.Second, func() bool { return has(caller.Sim.Heard(500*time.Millisecond), 1000) })
	select {
	case ep := <-dialled:
		t.Fatalf("a refused number was dialled: %s", ep)
	default:
	}

	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	entries, err := audit.NewStream(rdb, "{hotline:e2e}:audit", 0, nil).Recent(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var dials []audit.Entry
	for _, e := range entries {
		if e.Action == "dial" {
			dials = append(dials, e)
		}
	}
	if len(dials) != 3 {
		t.Fatalf("audited dials: %+v, want the 3 refusals", dials)
	}
	for _, e := range dials {
		if e.Actor != "p001" || e.Outcome != "refused" || e.Detail["call"] != caller.ChannelID {
			t.Errorf("audit entry %+v", e)
		}
	}
	if dials[0].Target != "+78095550100" || dials[0].Detail["class"] != "premium" { // newest first
		t.Errorf("the premium refusal's entry: %+v", dials[0])
	}
}
