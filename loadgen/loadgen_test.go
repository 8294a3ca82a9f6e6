package loadgen_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/crew"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/loadgen"
	"github.com/hotline-cc/hotline/server"
)

// TestRun: a short run through the real controller on the simulator and a real redis-server: every
// call dialled goes through the IVR and the queue to a crew agent, none fails, and the figures are
// filled in.
func TestRun(t *testing.T) {
	cfg := config.Default()
	cfg.Center, cfg.Instance = "loadgen", "loadgen-1"
	cfg.ARI.Simulate = true
	cfg.Redis.Addr = redistest.Start(t).Addr
	cfg.Simulator.TimeScale, cfg.Simulator.CallersPerMinute, cfg.Simulator.Crew = 0.05, 0, 30
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Softphone.ICEPort = 0
	cfg, err := config.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timing := crew.Config{TimeScale: 1, AnswerAfter: 50 * time.Millisecond, TalkMin: 100 * time.Millisecond, TalkMax: 300 * time.Millisecond,
		WrapUp: 50 * time.Millisecond, BreakEvery: 1 << 30, Poll: 20 * time.Millisecond, ArriveWithin: 10 * time.Millisecond}
	srv, err := server.New(ctx, cfg, server.Options{LoopbackOnly: true, CrewTiming: &timing}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitfor.True(t, "the crew available", 20*time.Second, func() bool {
		snap, err := srv.Center().Snapshot(ctx)
		if err != nil {
			return false
		}
		n := 0
		for _, a := range snap.Agents {
			if a.State == acd.Available {
				n++
			}
		}
		return n >= 10
	})
	res, err := loadgen.Run(ctx, srv, loadgen.Config{Rate: 10, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Dialled < 5 || res.Connected != res.Dialled || res.Answered != res.Dialled || res.Failed != 0 ||
		res.QueueP99 < res.QueueP50 || res.AnswerP50 <= 0 {
		t.Errorf("result %+v", res)
	}
}
