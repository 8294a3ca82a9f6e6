package server

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestPageShowsACDState (issue 12, deliverable 2): after each event the agent page shows the state
// and reason the ACD holds, which is what the board shows: on opening, after a supervisor's forced
// pause, a ring the caller cancelled (the page used to stay "ringing"), a ring that timed out (the
// agent paused "no answer"), and a reload after it (it used to show the replayed "ringing").
func TestPageShowsACDState(t *testing.T) {
	srv := startSimServer(t, "pagestate", func(c *config.Config) { c.ARI.RingTimeout = config.Duration(2 * time.Second) })
	ctx := context.Background()
	p := loginPage(t, srv, "p001", "hotline-demo")
	agrees := func(what string) {
		t.Helper()
		waitfor.True(t, "the page and the ACD agreeing "+what, 20*time.Second, func() bool {
			st := agentStatus(t, srv, "p001")
			sh := p.shown()
			return sh.State == pageState(st.State) && sh.Reason == st.Reason
		})
	}
	p.open()
	agrees("on opening (offline)")
	if got := p.shown().State; got != "logged_out" {
		t.Fatalf("a page opened before the shift shows %q", got)
	}
	p.send(`{"type":"state.set","id":"1","state":"available"}`)
	// Offline agrees with the page until the request lands: a pause forced before it would be
	// undone by it.
	waitfor.True(t, "p001 available", 20*time.Second, func() bool { return agentStatus(t, srv, "p001").State == acd.Available })
	agrees("when available")

	// A supervisor forces a pause (the board's action is this call), then lets them go on.
	if err := srv.center.Pause(ctx, "p001", "forced by sup1"); err != nil {
		t.Fatal(err)
	}
	agrees("after a forced pause")
	if p.shown().Reason != "forced by sup1" {
		t.Fatalf("page shows %+v; it was told %q", p.shown(), p.history)
	}
	if err := srv.center.SetAvailable(ctx, "p001"); err != nil {
		t.Fatal(err)
	}
	agrees("available again")

	// A caller rings p001 and hangs up before the answer.
	caller, err := srv.Sim().Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79161112233", Dialplan: "caller-agent-tone"})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "p001 ringing", 30*time.Second, func() bool { return agentStatus(t, srv, "p001").State == acd.Ringing })
	agrees("while ringing")
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "p001 free after the caller left", 20*time.Second, func() bool { return agentStatus(t, srv, "p001").State == acd.Available })
	agrees("after the caller left while it rang")

	// Another caller rings out the ring timeout: p001 is paused "no answer".
	if _, err := srv.Sim().Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79161112234", Dialplan: "caller-agent-tone"}); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "p001 paused after the ring timeout", 60*time.Second, func() bool { return agentStatus(t, srv, "p001").State == acd.Paused })
	agrees("after the ring timed out")

	// The page reloads: it shows the pause, not the ring it was replayed.
	p.close()
	p.open()
	agrees("after a reload")
	if got := p.shown().State; got != "paused" {
		t.Fatalf("reloaded page shows %q, want paused", got)
	}
}
