package server

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestRedisBlip cuts the controller off Redis twice: while a caller waits in the queue (they keep
// waiting and are served once Redis is back), and while the call ends (the agent's wrap-up is recorded
// once Redis is back, so the agent is not left "on call" for ever).
func TestRedisBlip(t *testing.T) {
	rs := redistest.Start(t)
	proxy := redistest.NewProxy(t, rs.Addr)
	srv := startSimServer(t, "blip", func(c *config.Config) { c.Redis.Addr = proxy.Addr })

	caller, err := srv.Sim().Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Number: "79161112233", Dialplan: "caller-agent-tone"})
	if err != nil {
		t.Fatal(err)
	}
	id := caller.ChannelID()
	stage := func() (acd.Stage, string) {
		snap, err := srv.center.Snapshot(context.Background())
		if err != nil {
			return "", ""
		}
		for _, c := range snap.Calls {
			if c.ID == id {
				agent := ""
				if len(c.Agents) > 0 {
					agent = c.Agents[0]
				}
				return c.Stage, agent
			}
		}
		return "gone", ""
	}
	waitfor.True(t, "the caller waiting in the queue", 20*time.Second, func() bool { s, _ := stage(); return s == acd.StageWaiting })

	outage := func() {
		proxy.Cut()
		time.Sleep(1500 * time.Millisecond) // the outage's length is the scenario, not synchronisation
		proxy.Restore()
	}
	outage()
	select {
	case <-caller.Done():
		t.Fatal("the waiting caller was dropped by a Redis blip")
	default:
	}
	if err := srv.center.Login(context.Background(), "p001"); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the call offered to p001", 20*time.Second, func() bool { s, a := stage(); return s == acd.StageRinging && a == "p001" })
	waitfor.True(t, "p001 answering", 20*time.Second, func() bool { return srv.sb.Answer(context.Background(), "p001", id) == nil })
	waitfor.True(t, "the call on with p001", 20*time.Second, func() bool { s, _ := stage(); return s == acd.StageOnCall })

	proxy.Cut()
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the outage's length is the scenario, not synchronisation
	proxy.Restore()
	waitfor.True(t, "the call's end recorded after the blip", 20*time.Second, func() bool { s, _ := stage(); return s == "gone" })
	snap, err := srv.center.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range snap.Agents {
		if a.ID == "p001" && a.State != acd.WrapUp && a.State != acd.Available {
			t.Fatalf("p001 is %s after the call ended, want wrap-up or available", a.State)
		}
	}
}
