package loadgen_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/crew"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/server"
)

// startCrewServer runs the whole hotline on the simulator and a real redis-server of its own, with
// crew agents that answer 50 ms after the ring and talk 100 ms to talkMax, until the test ends. It
// returns the server and its Redis's address.
func startCrewServer(t *testing.T, center string, crewSize int, talkMax time.Duration) (*server.Server, string) {
	return startCrewServerOn(t, nil, center, crewSize, talkMax)
}

// startCrewServerOn is startCrewServer on the real Asterisk tg (nil: the simulator): the crew
// then comes through server.Options, as `hotline loadgen -ari` has it.
func startCrewServerOn(t *testing.T, tg *aritest.Target, center string, crewSize int, talkMax time.Duration) (*server.Server, string) {
	t.Helper()
	rs := redistest.Start(t)
	cfg := config.Default()
	cfg.Center, cfg.Instance = center, center+"-1"
	cfg.ARI.Simulate = tg == nil
	cfg.Redis.Addr = rs.Addr
	cfg.Simulator.TimeScale, cfg.Simulator.CallersPerMinute, cfg.Simulator.Crew = 0.05, 0, crewSize
	opt := server.Options{LoopbackOnly: true}
	if tg != nil {
		cfg.ARI.URL, cfg.ARI.User, cfg.ARI.Password = tg.ARIURL(), tg.User, tg.Password
		cfg.Simulator.Crew, opt.CrewSize = 0, crewSize
	}
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Softphone.ICEPort = 0
	cfg, err := config.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opt.CrewTiming = &crew.Config{TimeScale: 1, AnswerAfter: 50 * time.Millisecond, TalkMin: 100 * time.Millisecond, TalkMax: talkMax,
		WrapUp: 50 * time.Millisecond, BreakEvery: 1 << 30, Poll: 20 * time.Millisecond, ArriveWithin: 10 * time.Millisecond}
	srv, err := server.New(ctx, cfg, opt, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv, rs.Addr
}
