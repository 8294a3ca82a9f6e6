package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/crew"
	"github.com/hotline-cc/hotline/loadgen"
	"github.com/hotline-cc/hotline/server"
)

// loadGen runs the whole hotline in this process, as the demo does, with agents that answer at once,
// and dials callers at a steady rate through IVR, queue and agent (see package loadgen).
func loadGen(args []string) error {
	cfg := config.Default()
	cfg.ARI.Simulate, cfg.Redis.Embedded, cfg.InsecureDemo = true, true, true
	cfg.Simulator.CallersPerMinute = 0
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Softphone.ICEPort = 0
	cfg.Log.Level = "error"
	fs := flag.NewFlagSet("loadgen", flag.ExitOnError)
	lg := loadgen.Config{Progress: os.Stdout}
	fs.Float64Var(&lg.Rate, "rate", 20, "calls dialled a second")
	fs.DurationVar(&lg.Duration, "duration", 30*time.Second, "how long to dial")
	fs.IntVar(&cfg.Simulator.Crew, "agents", 500, "agents answering (the last of each group; 300 of the 500 serve the general queue)")
	talk := fs.Duration("talk", 5*time.Second, "talk time (uniform from half to one and a half of it)")
	fs.Float64Var(&cfg.Simulator.TimeScale, "time-scale", 0.05, "the IVR's prompts and waits run this much of real time")
	fs.StringVar(&cfg.Log.Level, "log", cfg.Log.Level, "log level: debug, info, warn, error")
	fs.Parse(args)
	cfg, err := config.Resolve(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	timing := crew.Config{TimeScale: 1, AnswerAfter: 200 * time.Millisecond, TalkMin: *talk / 2, TalkMax: *talk * 3 / 2,
		WrapUp: 500 * time.Millisecond, BreakEvery: 1 << 30, Poll: 100 * time.Millisecond, ArriveWithin: time.Second}
	srv, err := server.New(ctx, cfg, server.Options{LoopbackOnly: true, CrewTiming: &timing}, newLogger(cfg.Log))
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	time.Sleep(timing.ArriveWithin + time.Second) // the crew logs in before the first caller
	res, err := loadgen.Run(ctx, srv, lg)
	cancel()
	<-done
	if err != nil {
		return err
	}
	fmt.Println("loadgen:", res)
	return nil
}
