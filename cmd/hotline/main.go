// Command hotline runs the contact center: `hotline run -config FILE` against a real Asterisk and
// Redis, `hotline demo` with everything simulated on this machine, `hotline check-config FILE` to
// check a config without starting, `hotline env` to list the environment overrides, `hotline
// hash-password` to make a password hash for the config and the center file.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/server"
)

const usage = `usage:
  hotline run -config FILE     serve the center described by FILE (see hotline.example.yaml)
  hotline demo [flags]         everything on this machine: simulated Asterisk and callers, embedded Redis
  hotline check-config FILE    report every mistake in FILE and the center and menu files it names
                               (file:line: field: message), and exit
  hotline env                  list the HOTLINE_* variables that override config fields
  hotline loadgen [flags]      the demo's hotline in this process, loaded at a steady call rate through
                               IVR, queue and agents that answer by themselves; prints setups/s and latencies
  hotline hash-password        read a password (typed without echo, or piped) and print its bcrypt
                               hash, for an account's password_hash in the center file
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "demo":
		err = demo(os.Args[2:])
	case "check-config":
		err = checkConfig(os.Args[2:])
	case "env":
		fmt.Println(strings.Join(config.EnvNames(), "\n"))
	case "loadgen":
		err = loadGen(os.Args[2:])
	case "loadgen-phones": // the phones' process of loadgen -phones-cpu; not for people
		err = loadGenPhones()
	case "hash-password":
		err = hashPassword(os.Stdin, os.Stdout, os.Stderr)
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "hotline: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hotline:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	path := fs.String("config", "hotline.yaml", "config file")
	fs.Parse(args)
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if err := refuseDemo(cfg); err != nil {
		return err
	}
	return serve(cfg, server.Options{})
}

// refuseDemo stops a production start on a setting only a demo may run with; insecure_demo lets
// it through, with a warning for each.
func refuseDemo(cfg config.Config) error {
	err := server.Unsafe(cfg)
	if err == nil {
		return nil
	}
	if !cfg.InsecureDemo {
		return fmt.Errorf("refusing to start with demo settings (insecure_demo: true allows them, for a demo only):\n%w", err)
	}
	log := newLogger(cfg.Log)
	for _, e := range unjoin(err) {
		log.Warn("insecure_demo: running with a demo setting", "problem", e.Error())
	}
	return nil
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func demo(args []string) error {
	cfg := config.Default()
	// The demo is what insecure_demo is for: its own center, simulator, embedded Redis, open pages.
	cfg.ARI.Simulate, cfg.Redis.Embedded, cfg.InsecureDemo = true, true, true
	// Reports that fill with the demo's traffic: a throwaway PostgreSQL when Debian's is installed.
	cfg.Records.Embedded = true
	// A center that looks alive: 60 agents answer by themselves, and callers keep them busy.
	cfg.Simulator.Crew, cfg.Simulator.CallersPerMinute = 60, 15
	// Its callers live in this process: nobody would take them over, so Ctrl-C stops at once.
	cfg.ARI.DrainTimeout = 0
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	fs.StringVar(&cfg.Web.Listen, "listen", cfg.Web.Listen, "where the pages are served")
	fs.Float64Var(&cfg.Simulator.CallersPerMinute, "callers", cfg.Simulator.CallersPerMinute, "simulated calls a minute (0: none)")
	fs.Float64Var(&cfg.Simulator.TimeScale, "time-scale", cfg.Simulator.TimeScale, "simulated prompts and waits run this much of real time")
	fs.StringVar(&cfg.Simulator.SoundsDir, "sounds", cfg.Simulator.SoundsDir, "generated prompts (make prompts) for the simulator to play")
	fs.BoolVar(&cfg.Softphone.AutoAnswer, "auto-answer", false, "answer ringing calls at once")
	fs.IntVar(&cfg.Simulator.Crew, "crew", cfg.Simulator.Crew, "agents the demo plays itself (the last of each group)")
	fs.StringVar(&cfg.Log.Level, "log", cfg.Log.Level, "log level: debug, info, warn, error")
	fs.Parse(args)
	cfg, err := config.Resolve(cfg)
	if err != nil {
		return err
	}
	fmt.Printf("hotline demo: agent page http://%s/agent/, supervisor page http://%s/supervisor/ (every password: hotline-demo)\n"+
		"  agents p001..p250 (private customers), b001..b200 (business), s001..s020 (social media), f001..f030 (payouts);\n"+
		"  %d of them, the last of each group, are played by the demo itself and answer on their own;\n"+
		"  supervisor sup1, administrator admin1 (the announcement switch is the administrator's);\n"+
		"  reports of the demo's calls: http://%s/supervisor/reports.html (when PostgreSQL is installed);\n"+
		"  to listen to calls, log the same account in on the agent page too: the call's audio comes there\n",
		cfg.Web.Listen, cfg.Web.Listen, cfg.Simulator.Crew, cfg.Web.Listen)
	return serve(cfg, server.Options{IncludeLoopback: true})
}

func checkConfig(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("check-config takes one file")
	}
	cfg, err := config.Load(args[0])
	if err != nil {
		return err
	}
	if err := server.Check(cfg); err != nil {
		return err
	}
	for _, w := range cfg.Warnings() {
		fmt.Println(args[0] + ": warning: " + w)
	}
	fmt.Println(args[0] + ": ok")
	return nil
}

// serve runs until a signal: the first drains (server.Drain), a second stops at once.
func serve(cfg config.Config, opt server.Options) error {
	log := newLogger(cfg.Log)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	srv, err := server.New(ctx, cfg, opt, log)
	if err != nil {
		return err
	}
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		log.Info("signal: draining; a second signal stops at once")
		srv.Drain()
		select {
		case <-sigs:
			log.Info("second signal: stopping now")
			stop()
		case <-ctx.Done():
		}
	}()
	return srv.Run(ctx)
}

func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.JSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
