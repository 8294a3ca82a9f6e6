package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/crew"
	"github.com/hotline-cc/hotline/loadgen"
	"github.com/hotline-cc/hotline/server"
)

// loadGen runs the whole hotline in this process, as the demo does, with agents that answer by
// themselves, and dials callers at a steady rate through IVR, queue and agent (see package
// loadgen): on the simulator, or, with -ari, on a real Asterisk (callers are Local channels), where
// -target appqueue loads Asterisk's own app_queue instead of hotline, for comparison.
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
	fs.IntVar(&cfg.Simulator.Crew, "agents", 500, "agents answering (hotline: the last of each group, 300 of 500 serve the general queue; appqueue: the queue's members)")
	talk := fs.Duration("talk", 5*time.Second, "talk time (uniform from half to one and a half of it)")
	wrapUp := fs.Duration("wrapup", 500*time.Millisecond, "agents' after-call time (appqueue: whole seconds, in asterisk-config/bench/queues.conf)")
	answerAfter := fs.Duration("answer-after", 200*time.Millisecond, "hotline's agents answer this long after the ring (the ring's push wakes them, as it wakes a page)")
	fs.Float64Var(&cfg.Simulator.TimeScale, "time-scale", 0.05, "the simulator's IVR prompts and waits run this much of real time")
	fs.StringVar(&cfg.Log.Level, "log", cfg.Log.Level, "log level: debug, info, warn, error")
	ariURL := fs.String("ari", "", "a real Asterisk's ARI, http://host:port (without /ari); empty: the simulator. Default user and password: HOTLINE_TEST_ARI_USER, HOTLINE_TEST_ARI_PASSWORD")
	ariUser := fs.String("ari-user", envOr("HOTLINE_TEST_ARI_USER", "hotline"), "ARI user")
	ariPassword := fs.String("ari-password", os.Getenv("HOTLINE_TEST_ARI_PASSWORD"), "ARI password")
	callerFormat := fs.String("caller-format", "alaw", "on a real Asterisk: the callers' codec (alaw, as the shipped trunk offers first; ulaw)")
	subscribeAll := fs.Bool("subscribe-all", false, "on a real Asterisk: the generator's app hears every channel, bridge and device state (ARI subscribeAll) instead of its callers' channels only")
	target := fs.String("target", "hotline", "on a real Asterisk: hotline, or appqueue (Asterisk's Queue(), asterisk-config/bench)")
	noIVR := fs.Bool("appqueue-no-ivr", false, "appqueue: callers go straight to Queue(), without the IVR's prompts")
	fs.StringVar(&lg.CallerContext, "caller-context", "caller-bench", "on a real Asterisk: the callers' own dialplan context (asterisk-config/test)")
	fs.StringVar(&lg.Entry, "entry", "from-pstn", "on a real Asterisk, hotline: the context callers enter, from-pstn, or from-carrier to count them against the node's HOTLINE_MAX_CALLS as carrier calls are (those refused are reported)")
	redisAddr := fs.String("redis", "", "a redis-server's address for the center's state; empty: embedded")
	fs.BoolVar(&lg.Hold, "hold", false, "measure calls carried at once: hang up the callers still on the line when dialling ends (held, not failed)")
	fs.DurationVar(&lg.Drain, "drain", 2*time.Minute, "after dialling, how long to wait for the calls in flight before hanging them up as failed")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run (controller, simulator and crew) to this file")
	talkMin := fs.Duration("talk-min", 0, "the shortest talk time (default: half of -talk)")
	talkMax := fs.Duration("talk-max", 0, "the longest talk time (default: one and a half of -talk)")
	fs.IntVar(&lg.Ramp, "ramp", 0, "dial this many callers first, at -ramp-rate, and measure the window of -duration at -rate after them")
	fs.Float64Var(&lg.RampRate, "ramp-rate", 20, "calls dialled a second during the ramp")
	phonesCPU := fs.Int("phones-cpu", -1, "with -phones: run the phones in a second process (`hotline loadgen-phones`) pinned to this CPU, so the center's own CPU is measurable; start loadgen itself under `taskset -c` on the other CPUs")
	phones := fs.Bool("phones", false, "give every crew agent a WebRTC phone on the gateway (a pion PeerConnection sending 20 ms PCMU every 20 ms) and count the audio both ways (simulator only)")
	seed := fs.Bool("seed", false, "the seed center (issue 13): 500 agents with phones, 700 callers ramped in at 20/s (500 talking, 200 in the IVR and queues), "+
		"then 1 call/s for 150 s, talk 20 s to 520 s (about one call ending a second), IVR at real time, callers spread 3:2 over the general and business queues; flags given as well override these")
	fs.Parse(args)
	if *seed {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"agents": "500", "phones": "true", "ramp": "700", "ramp-rate": "20", "rate": "1",
			"duration": "150s", "talk-min": "20s", "talk-max": "520s", "time-scale": "1", "hold": "true",
			"caller-context": "caller-seed*3,caller-seed-business*2"} {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					return fmt.Errorf("loadgen: -seed: %w", err)
				}
			}
		}
	}
	if *talkMin <= 0 {
		*talkMin = *talk / 2
	}
	if *talkMax <= 0 {
		*talkMax = *talk * 3 / 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("loadgen: -cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("loadgen: -cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if *target != "hotline" && *target != "appqueue" {
		return fmt.Errorf("loadgen: -target %q: hotline or appqueue", *target)
	}
	if *target == "appqueue" && *ariURL == "" {
		return errors.New("loadgen: -target appqueue needs a real Asterisk (-ari)")
	}
	if *phonesCPU >= 0 && !*phones {
		return errors.New("loadgen: -phones-cpu places the phones: it needs -phones (or -seed)")
	}
	if *phones && *ariURL != "" {
		return errors.New("loadgen: -phones counts the audio at the simulator: not with -ari")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var ast *loadgen.Asterisk
	if *ariURL != "" {
		ast = &loadgen.Asterisk{URL: strings.TrimSuffix(strings.TrimSuffix(*ariURL, "/"), "/ari"), User: *ariUser, Password: *ariPassword, Format: *callerFormat, SubscribeAll: *subscribeAll}
		if err := ast.Connect(ctx); err != nil {
			return err
		}
		defer ast.Close()
		lg.Asterisk = ast
	}
	if *target == "appqueue" {
		res, err := loadgen.RunAppQueue(ctx, ast, loadgen.AppQueueConfig{Config: lg, Agents: cfg.Simulator.Crew,
			TalkMin: *talkMin, TalkMax: *talkMax, NoIVR: *noIVR})
		if err != nil {
			return err
		}
		fmt.Printf("loadgen: app_queue: %v; generator CPU %v\n", res, loadgen.ProcessCPU())
		return nil
	}

	crewSize := cfg.Simulator.Crew
	if ast != nil {
		cfg.ARI.Simulate, cfg.Simulator.Crew = false, 0 // the crew comes through server.Options
		cfg.ARI.URL, cfg.ARI.User, cfg.ARI.Password = ast.URL+"/ari", ast.User, ast.Password
	}
	if *redisAddr != "" {
		cfg.Redis.Embedded, cfg.Redis.Addr = false, *redisAddr
	}
	cfg, err := config.Resolve(cfg)
	if err != nil {
		return err
	}
	timing := crew.Config{TimeScale: 1, AnswerAfter: *answerAfter, TalkMin: *talkMin, TalkMax: *talkMax,
		WrapUp: *wrapUp, BreakEvery: 1 << 30, Poll: time.Second, ArriveWithin: time.Second}
	srv, err := server.New(ctx, cfg, server.Options{LoopbackOnly: true, CrewTiming: &timing, CrewSize: crewSize}, newLogger(cfg.Log))
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	// The first caller comes when the controller holds its Stasis app and the crew is logged in.
	err = waitReady(ctx, func() bool {
		if ast != nil && !ast.AppRegistered(ctx, cfg.ARI.App) {
			return false
		}
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
		return n >= crewSize
	})
	hangUp := noHangUp
	if err == nil && *phones {
		t0 := time.Now()
		if lg.Phones, hangUp, err = dialPhones(ctx, srv, *phonesCPU); err == nil {
			fmt.Printf("loadgen: %d agents' phones connected in %v\n", len(srv.CrewAgents()), time.Since(t0).Round(time.Millisecond))
		}
	}
	var res loadgen.Result
	if err == nil {
		res, err = loadgen.Run(ctx, srv, lg)
	}
	if herr := hangUp(); herr != nil {
		fmt.Fprintf(os.Stderr, "loadgen: the phones' process: %v\n", herr)
	}
	cancel()
	<-done
	if err != nil {
		return err
	}
	fmt.Printf("loadgen: hotline: %v; controller, crew and generator CPU %v; load average %s\n", res, loadgen.ProcessCPU(), loadAverage())
	if res.Window != nil {
		fmt.Printf("loadgen: %v\n", res.Window)
	}
	if peak := peakRSS(); peak != "" {
		what := "controller, crew and generator"
		if ast == nil {
			what = "controller, simulator, crew and generator"
		}
		if cfg.Redis.Embedded {
			what += ", embedded Redis"
		}
		fmt.Printf("loadgen: the process's peak resident memory (%s): %s\n", what, peak)
	}
	return nil
}

// dialPhones connects the crew's phones to srv's gateway: in this process, or with cpu ≥ 0 in a
// `hotline loadgen-phones` process pinned to that CPU. Its hang-up is never nil.
func dialPhones(ctx context.Context, srv *server.Server, cpu int) (loadgen.PhoneSet, func() error, error) {
	if cpu < 0 {
		p, err := loadgen.DialPhones(ctx, srv.Gateway(), srv.CrewAgents())
		if err != nil {
			return nil, noHangUp, err
		}
		return p, func() error { p.Close(); return nil }, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, noHangUp, fmt.Errorf("loadgen: -phones-cpu: %w", err)
	}
	cmd := exec.Command(self, "loadgen-phones")
	cmd.Stderr = os.Stderr
	p, err := loadgen.StartPhoneProcess(ctx, cmd, cpu, srv.Gateway(), srv.CrewAgents())
	if err != nil {
		return nil, noHangUp, err
	}
	return p, p.Close, nil
}

// noHangUp is dialPhones's hang-up when no phones connected.
func noHangUp() error { return nil }

// loadGenPhones is the phones' process of `hotline loadgen -phones-cpu`: it serves
// loadgen.ServePhones on its stdin and stdout.
func loadGenPhones() error {
	return loadgen.ServePhones(context.Background(), os.Stdin, os.Stdout)
}

// peakRSS is the process's high-water resident set as Linux tells it (VmHWM), "" elsewhere.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage is the machine's load average (1, 5, 15 minutes) as Linux tells it, "" elsewhere:
// on a shared machine it says how much the figures had to share.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// waitReady polls ready every 100 ms for up to a minute.
func waitReady(ctx context.Context, ready func() bool) error {
	for deadline := time.Now().Add(time.Minute); !ready(); {
		if time.Now().After(deadline) {
			return errors.New("loadgen: the hotline was not ready (controller on ARI, crew available) within a minute")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
