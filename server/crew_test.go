package server

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestDemoCrewAnswers (issue 12, deliverable 5): with simulator.crew the process plays the last
// agents of each group itself; they go available and answer a caller without anyone at a page.
func TestDemoCrewAnswers(t *testing.T) {
	srv := startSimServer(t, "crew", func(c *config.Config) { c.Simulator.Crew = 3 })
	if want := []string{"p250", "b200", "f030"}; !slices.Equal(srv.crew, want) {
		t.Fatalf("crew %v, want %v", srv.crew, want)
	}
	caller, err := srv.Sim().Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Number: "79161112233", Dialplan: "caller-agent-tone"})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "a crew member talking to the caller", 30*time.Second, func() bool {
		c, ok := callOf(srv, caller.ChannelID())
		return ok && c.Stage == acd.StageOnCall && len(c.Agents) == 1 && slices.Contains(srv.crew, c.Agents[0])
	})
}

func TestCrewAgents(t *testing.T) {
	m, err := acd.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	got := crewAgents(m, 60)
	if len(got) != 60 || got[0] != "p221" || !slices.Contains(got, "b200") || !slices.Contains(got, "s020") || !slices.Contains(got, "f030") ||
		slices.Contains(got, "p001") {
		t.Errorf("crew of 60 = %v", got)
	}
	if got := crewAgents(m, 0); got != nil {
		t.Errorf("no crew = %v", got)
	}
}
