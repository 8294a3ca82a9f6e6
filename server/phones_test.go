package server

import (
	"log/slog"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/softphone"
	"github.com/hotline-cc/hotline/switchboard"
)

// TestTalksForgetLostEnds: a call whose end never reached the agent's home (its owner went away)
// is not kept as talking for ever: the agent's next call replaces it, and each end forgets its
// call.
func TestTalksForgetLostEnds(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	p := &phones{
		web:        softphone.NewServer(nil, nil, softphone.ServerConfig{}, log),
		history:    &history{rdb: redistest.Start(t).Client(t), prefix: "{hotline:test}:"},
		wrapUp:     func(string) time.Duration { return 0 },
		queueTitle: func(string) map[string]string { return nil },
		log:        log,
		legs:       map[string]*softphone.Leg{}, talks: map[string]time.Time{},
	}
	connect := func(agent, call string) {
		p.deliver(agent, switchboard.AgentEvent{Type: switchboard.EventConnected, Call: switchboard.CallCard{ID: call}})
	}
	connect("p001", "lost") // its end never comes
	connect("p002", "other")
	connect("p001", "next")
	if p.talking("p001", "lost") || !p.talking("p001", "next") || !p.talking("p002", "other") {
		t.Fatalf("talks %v: want p001 on next only, p002 on other", p.talks)
	}
	p.deliver("p001", switchboard.AgentEvent{Type: switchboard.EventEnded, Call: switchboard.CallCard{ID: "next"}})
	if len(p.talks) != 1 || !p.talking("p002", "other") {
		t.Fatalf("talks %v after p001's end: want p002's only", p.talks)
	}
}
