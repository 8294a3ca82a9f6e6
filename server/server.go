// Package server assembles a hotline process from its config: Redis, the ACD, the IVR, the softphone
// gateway and pages, the dashboard and the switchboard, and, for the demo, the Asterisk simulator,
// an embedded Redis and simulated callers. It runs them together and drains them on shutdown.
package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/cluster"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/crew"
	"github.com/hotline-cc/hotline/dashboard"
	"github.com/hotline-cc/hotline/internal/guard"
	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/ivr/lookupdemo"
	"github.com/hotline-cc/hotline/presence"
	"github.com/hotline-cc/hotline/prompts"
	"github.com/hotline-cc/hotline/records"
	"github.com/hotline-cc/hotline/redisconn"
	"github.com/hotline-cc/hotline/softphone"
	"github.com/hotline-cc/hotline/switchboard"
)

// Server is one running hotline process.
type Server struct {
	cfg config.Config
	log *slog.Logger

	rdb      redis.UniversalClient
	center   *acd.Center
	model    *acd.Model    // the center file as started: its agents are the ACD's until a restart
	menus    *ivr.Reloader // nil when the built-in menus run
	gw       *softphone.Gateway
	metrics  Registry
	agentWeb *softphone.Server
	board    *dashboard.Server
	sb       *switchboard.Switchboard
	sim      *asterisksim.Sim
	handler  http.Handler
	web      net.Listener
	tls      *tls.Config  // nil: plain HTTP
	ops      net.Listener // nil: /metrics, /healthz and /readyz are on web
	opsMux   http.Handler
	serving  atomic.Bool // Run is serving and not draining: /readyz
	drainOne sync.Once
	drained  chan struct{} // closed when a drain is over (Drain): Run returns

	ivrEvents    *ivrEvents
	recorder     *records.Recorder // nil without records.postgres
	records      *records.Store    // nil without records.postgres
	audit        *audit.Stream
	accounts     *account.Service // logins and sessions of both pages
	pages        *presence.Pages  // where agents' pages are open; nil when softphone.disconnect_grace is 0
	states       *stateSync       // keeps the agent pages showing the ACD's state
	desk         *desk
	link         *link // the bus to the center's other controllers
	legSweep     time.Duration
	dispositions []softphone.Disposition
	crew         []string // agents the demo plays itself (simulator.crew)
	crewTiming   *crew.Config
	annKey       string // the supervisor's announcement switch in Redis
	loopPanics   *prometheus.CounterVec

	// closers run in reverse order on shutdown, after every goroutine has stopped.
	closers []func()
}

// Registry is where the server's metrics go: a *prometheus.Registry, or one that wraps it.
type Registry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// Options are what tests and the demo set beyond the config.
type Options struct {
	// LoopbackOnly keeps WebRTC on loopback (tests: their traffic must not leave the machine).
	LoopbackOnly bool
	// IncludeLoopback offers the loopback address beside the host's own (the demo, whose browser is
	// on the same machine).
	IncludeLoopback bool
	// Registry receives the metrics and serves them on /metrics; nil makes a fresh one.
	Registry Registry
	// CrewTiming, when set, is how the simulator.crew agents behave (answer delay, talk time, breaks):
	// the load generator's. Its Agents and Dispositions are ignored.
	CrewTiming *crew.Config
	// CrewSize, with CrewTiming, is how many agents the process plays on a real Asterisk: the load
	// generator's, who answer real channels with silence (simulator.crew, which the configuration
	// refuses without ari.simulate, is the simulator's).
	CrewSize int
	// LegSweep is how often the legs opened here for other controllers' calls are checked for ones
	// nobody will close (their controller died); 0: every 10 s.
	LegSweep time.Duration
	// RefusedEvery is how often the node's count of refused carrier calls is read; 0: every 10 s.
	RefusedEvery time.Duration
}

// New builds every part from cfg and binds the web listener, so a caller learns WebAddr before Run.
func New(ctx context.Context, cfg config.Config, opt Options, log *slog.Logger) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: log, crewTiming: opt.CrewTiming, drained: make(chan struct{})}
	defer func() {
		if err != nil {
			s.close() // whatever was started before the failure
		}
	}()
	reg := opt.Registry
	if reg == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg = r
	}
	s.metrics = reg
	s.loopPanics = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hotline_loop_panics_total",
		Help: "Panics (bugs of ours) in the controller's long-running loops, each logged with its stack and the loop started again.",
	}, []string{"loop"})
	if err := reg.Register(s.loopPanics); err != nil {
		return nil, fmt.Errorf("loop metrics: %w", err)
	}
	if cfg.Instance == "" {
		// Stable across restarts, so a restarted controller takes its calls back; two controllers on
		// one host must name themselves.
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "hotline"
		}
		cfg.Instance = host
		s.cfg.Instance = cfg.Instance
	}

	if err := s.startRedis(ctx); err != nil {
		return nil, err
	}
	model, err := loadCenter(cfg.ACD.CenterFile)
	if err != nil {
		return nil, err
	}
	s.model = model
	maxLen := int64(streamMaxLen)
	if cfg.Redis.Embedded {
		maxLen = demoStreamMaxLen
	}
	s.center, err = acd.New(s.rdb, model, acd.Options{Center: cfg.Center, Instance: cfg.Instance, OfferOnEnqueue: true,
		EventsMaxLen: maxLen, Logger: log.With("part", "acd")})
	if err != nil {
		return nil, fmt.Errorf("acd: %w", err)
	}
	if err := s.center.Sync(ctx); err != nil {
		return nil, fmt.Errorf("acd: write the center's model to redis: %w", err)
	}
	if err := s.center.RegisterMetrics(reg); err != nil {
		return nil, fmt.Errorf("acd metrics: %w", err)
	}

	// Who did what (logins, supervisors' actions, outbound dials), shared by every part that acts for an account.
	s.audit = audit.NewStream(s.rdb, s.center.Key("audit"), audit.DefaultKeep, log.With("part", "audit"))
	if s.accounts, err = newAccounts(s.rdb, s.center.Key(""), model, cfg, s.audit, log.With("part", "accounts")); err != nil {
		return nil, err
	}
	s.ivrEvents = newIVREvents(s.rdb, s.center.Key("ivr"), maxLen, log.With("part", "ivr-events"))
	if err := s.ivrEvents.register(reg); err != nil {
		return nil, fmt.Errorf("ivr events metrics: %w", err)
	}
	if err := s.openRecords(reg); err != nil {
		return nil, err
	}
	s.annKey = s.center.Key("announcement")
	flows, err := s.buildIVR(model, reg)
	if err != nil {
		return nil, err
	}

	ariURL, ariUser, ariPassword := cfg.ARI.URL, cfg.ARI.User, cfg.ARI.Password
	if cfg.ARI.Simulate {
		if ariURL, ariUser, ariPassword, err = s.startSimulator(); err != nil {
			return nil, err
		}
	}

	gwCfg := softphone.GatewayConfig{
		ICEAddr:         netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(cfg.Softphone.ICEPort)),
		NAT1To1IPs:      cfg.Softphone.PublicIPs,
		RTPHost:         netip.MustParseAddr(cfg.Softphone.RTPHost),
		LoopbackOnly:    opt.LoopbackOnly,
		IncludeLoopback: opt.IncludeLoopback,
		Registerer:      reg,
		// The switchboard is built after the gateway; audio cannot come up before Run.
		OnAudio: func(agentID string, up bool) {
			if s.sb != nil {
				s.sb.AgentAudio(agentID, up)
			}
			if s.link != nil {
				s.link.audio(agentID, up) // for a call another controller holds
			}
		},
	}
	if opt.LoopbackOnly {
		gwCfg.ICEAddr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(cfg.Softphone.ICEPort))
	}
	for _, ice := range cfg.Softphone.ICEServers {
		gwCfg.ICEServers = append(gwCfg.ICEServers, softphone.ICEServer{URLs: ice.URLs, Username: ice.Username, Credential: ice.Credential})
	}
	gwCfg.ICENetworks = cfg.Softphone.ICENetworkPrefixes()
	if t := cfg.Softphone.TURN; t.Secret != "" {
		gwCfg.TURN = &softphone.TURNREST{URLs: t.URLs, Secret: t.Secret, TTL: t.TTL.D()}
	}
	for _, w := range cfg.Warnings() {
		log.Warn("config: " + w)
	}
	if s.gw, err = softphone.NewGateway(gwCfg, log.With("part", "softphone")); err != nil {
		return nil, fmt.Errorf("softphone gateway: %w", err)
	}
	s.closers = append(s.closers, func() { s.gw.Close() })

	prefix := s.center.Key("")
	hist := &history{rdb: s.rdb, prefix: prefix, maxLen: maxLen}
	ph := &phones{
		gw: s.gw, history: hist, ringSeconds: int(cfg.ARI.RingTimeout.D().Seconds()), disp: dispositions,
		log: log.With("part", "phones"), legs: map[string]*softphone.Leg{}, talks: map[string]time.Time{},
		name:       func(id string) string { a, _ := model.Agent(id); return a.Name },
		queueTitle: func(queue string) map[string]string { q, _ := model.Queue(queue); return q.Title },
		contacts:   s.contacts(model),
		wrapUp: func(queue string) time.Duration {
			q, _ := model.Queue(queue)
			return q.WrapUp
		},
	}
	dist := &distributor{center: s.center, log: log, cancel: func(agent, call, reason string) {
		ph.Notify(agent, switchboard.AgentEvent{Type: switchboard.EventRingCancelled, Call: switchboard.CallCard{ID: call}, Reason: reason})
	}}
	refusedCalls := &refusals{rdb: s.rdb, key: s.center.Key, loc: cfg.Records.Location(), now: time.Now, maxLen: maxLen}
	s.sb, err = switchboard.New(switchboard.Config{
		ARIURL: ariURL, User: ariUser, Password: ariPassword, App: cfg.ARI.App, Instance: cfg.Instance,
		RingTimeout: cfg.ARI.RingTimeout.D(), TransferContext: cfg.ARI.TransferContext, CallbackEndpoint: cfg.ARI.CallbackEndpoint,
		InternalEndpoint: cfg.ARI.InternalEndpoint,
		RequestTimeout:   cfg.ARI.RequestTimeout.D(), DrainContext: cfg.ARI.DrainContext, RefusedEvery: opt.RefusedEvery,
	}, switchboard.Deps{Flows: flows, ACD: dist, Phones: ph, Logger: log.With("part", "switchboard"),
		Dialing: cfg.Dialing.Rules(), Audit: s.audit, Refusals: refusedCalls,
		LoopPanicked: func(loop string) { s.loopPanics.WithLabelValues("switchboard " + loop).Inc() },
		Surveys:      &surveys{rdb: s.rdb, key: s.center.Key(surveysStream), model: model, maxLen: maxLen},
		Recordings:   recordingsOf{model: model, rdb: s.rdb, key: s.center.Key(recordingStream), maxLen: maxLen}})
	if err != nil {
		return nil, err
	}
	if err := s.sb.RegisterMetrics(reg); err != nil {
		return nil, fmt.Errorf("switchboard metrics: %w", err)
	}
	s.center.SetLive(liveCalls{s.sb})
	dsk := &desk{model: model, center: s.center, sb: s.sb, phones: ph, history: hist, autoAnswer: cfg.Softphone.AutoAnswer}
	spc := softphone.ServerConfig{SecureCookie: secureCookies(cfg.Web), Accounts: s.accounts, OnPages: s.pageEvent}
	if g := cfg.Softphone.DisconnectGrace.D(); g > 0 {
		s.pages = presence.New(s.rdb, s.center.Key("page:"), g)
	}
	s.agentWeb = softphone.NewServer(s.gw, dsk, spc, log.With("part", "agent-web"))
	s.desk, s.dispositions = dsk, dispositions
	if s.sim != nil {
		s.crew = crewAgents(model, cfg.Simulator.Crew)
	} else if opt.CrewTiming != nil && opt.CrewSize > 0 {
		s.crew = crewAgents(model, opt.CrewSize)
	}
	s.states = &stateSync{center: s.center, web: s.agentWeb, sent: map[string]softphone.StateChanged{}}
	dsk.states = s.states
	ph.web = s.agentWeb
	s.link = newLink(cluster.New(s.rdb, prefix, cfg.Instance, log.With("part", "cluster")), log.With("part", "cluster"))
	s.link.web, s.link.gw, s.link.ph, s.link.desk, s.link.sb = s.agentWeb, s.gw, ph, dsk, s.sb
	s.link.owner = s.center.Owner
	s.legSweep = cmp.Or(opt.LegSweep, legSweepEvery)
	for _, a := range s.crew {
		s.link.pinned[a] = true
	}
	if len(s.crew) > 0 {
		ph.bell = crew.NewBell(s.crew)
	}
	ph.link, dsk.link = s.link, s.link
	s.closers = append(s.closers, func() { s.agentWeb.Close() })

	brd := &board{sb: s.sb, audioUp: s.gw.Connected, legs: s.gw.OpenLegs, center: s.center, model: model, rdb: s.rdb, annKey: s.annKey,
		accounts: s.accounts, link: s.link, refused: refusedCalls, loc: cfg.Records.Location()}
	s.link.bus.Handle(kindBoardMonitor, brd.onMonitorAtHome)
	relay := newRecordingRelay(s.link.bus, s.sb.StoredRecording)
	dcfg := dashboard.Config{Accounts: s.accounts, SecureCookie: secureCookies(cfg.Web),
		Location: cfg.Records.Location()}
	if s.records != nil {
		dcfg.Reports = reports{store: s.records, model: model}
		dcfg.Recordings = recordingFiles{store: s.records, sb: s.sb, relay: relay}
	}
	s.board = dashboard.NewServer(brd, brd, dcfg,
		log.With("part", "dashboard"))
	s.closers = append(s.closers, func() { s.board.Close(context.Background()) })

	pages := http.NewServeMux()
	pages.Handle("/agent/", s.agentWeb)
	pages.Handle("/supervisor/", s.board)
	pages.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/agent/", http.StatusFound) })
	ops := http.NewServeMux()
	ops.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ops.HandleFunc("/healthz", s.healthz)
	ops.HandleFunc("/readyz", s.readyz)
	mux := http.NewServeMux()
	// The Host check is for the pages (DNS rebinding); scrapers and probes address the server by IP.
	mux.Handle("/", hostCheck(cfg.Web.Hosts, pages))
	if cfg.Web.OpsListen == "" {
		for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
			mux.Handle(p, ops)
		}
	}
	s.handler, s.opsMux = mux, ops
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hotline_web_connections_refused_total",
		Help: "Connections closed at once because their client address already had web.max_conns_per_ip open (listener \"forwarded\": requests through a trusted proxy, answered 429).",
	}, []string{"listener"})
	if err := reg.Register(refused); err != nil {
		return nil, fmt.Errorf("web metrics: %w", err)
	}

	if cfg.Web.TLSCert != "" || cfg.Web.SelfSigned {
		// Loaded now, so a missing or bad certificate stops the start with its reason.
		if s.tls, err = softphone.TLSConfig(cfg.Web.TLSCert, cfg.Web.TLSKey, []string{"localhost", "127.0.0.1"}); err != nil {
			return nil, fmt.Errorf("web tls: %w", err)
		}
	}
	proxies := s.accounts.TrustedProxies()
	s.handler = perClient(cfg.Web.MaxConnsPerIP, proxies, s.accounts.Remote, refused.WithLabelValues("forwarded"), s.handler)
	if s.web, err = listen("web", cfg.Web.Listen, cfg.Web.MaxConnsPerIP, proxies, refused.WithLabelValues("web")); err != nil {
		return nil, err
	}
	if cfg.Web.OpsListen != "" {
		if s.ops, err = listen("ops", cfg.Web.OpsListen, cfg.Web.MaxConnsPerIP, proxies, refused.WithLabelValues("ops")); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// WebAddr is where the pages are served.
func (s *Server) WebAddr() net.Addr { return s.web.Addr() }

// OpsAddr is where /metrics, /healthz and /readyz are served: WebAddr unless web.ops_listen is set.
func (s *Server) OpsAddr() net.Addr {
	if s.ops != nil {
		return s.ops.Addr()
	}
	return s.web.Addr()
}

// Sim is the in-process Asterisk simulator, nil against a real Asterisk.
func (s *Server) Sim() *asterisksim.Sim { return s.sim }

// Center is the ACD, for tools that watch it (the load generator follows its events).
func (s *Server) Center() *acd.Center { return s.center }

// Gateway is the agents' WebRTC gateway, for tools that stand in for agents' browsers in this
// process (the load generator's phones negotiate with it directly, without a page's WebSocket).
func (s *Server) Gateway() *softphone.Gateway { return s.gw }

// Metrics is what /metrics serves, for tools in this process that read the server's own series.
func (s *Server) Metrics() prometheus.Gatherer { return s.metrics }

// CrewAgents are the agents the process plays itself (the demo's crew), nil without a crew.
func (s *Server) CrewAgents() []string { return s.crew }

// Handler serves the pages, the APIs and /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// healthz says whether the process and its parts work: "redis" (no answer to PING), "bus" (Redis
// answers but the bus to the other controllers does not hear itself yet), "ari" (the events
// WebSocket is not connected). It names the parts down and nothing more: the reason goes to
// the log, not to whoever can reach the port.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) { s.check(w, r, false) }

// readyz says whether this process takes calls now: healthy, and serving (not starting, not
// draining), so a load balancer moves pages away before a shutdown.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) { s.check(w, r, true) }

func (s *Server) check(w http.ResponseWriter, r *http.Request, ready bool) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var down []string
	var detail []any
	if !s.sb.Connected() {
		down = append(down, "ari")
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		down = append(down, "redis")
		detail = append(detail, "redis_err", err)
	} else if err := s.checkBus(ctx); err != nil {
		// Only with Redis up: without it the bus is down too, and saying so adds nothing.
		down = append(down, "bus")
		detail = append(detail, "bus_err", err)
	}
	if ready && !s.serving.Load() {
		down = append(down, "serving")
	}
	w.Header().Set("Cache-Control", "no-store")
	if len(down) > 0 {
		s.log.Warn("health check failed", append([]any{"check", r.URL.Path, "down", down}, detail...)...)
		http.Error(w, "down: "+strings.Join(down, ", "), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// checkBus checks the bus within a second: its message comes back in a few milliseconds when it
// listens, and one lost while it resubscribes must not hold the check (and the next one a poller
// makes) for the whole request's deadline.
func (s *Server) checkBus(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return s.link.bus.Check(ctx)
}

// Run serves until ctx ends, then stops taking new work and drains: calls stay up in Asterisk for
// the next controller, pages are told to reconnect.
func (s *Server) Run(ctx context.Context) error {
	defer s.close()
	// A part that fails stops the others: Run returns its error instead of waiting for a signal.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	start := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	// A part that panics (a bug of ours) is logged and counted, and starts again: the process, with
	// every call's IVR and audio, does not end with it (internal/guard). Not the switchboard and the
	// listeners: they run their own goroutines, which guard their own loops (net/http its handlers).
	run := func(name string, f func(context.Context) error) {
		onPanic := func() { s.loopPanics.WithLabelValues(name).Inc() }
		start(name, func(ctx context.Context) error { return guard.Loop(ctx, s.log, name, onPanic, f) })
	}
	// The bus listens before the switchboard takes calls: a push or a request from another
	// controller is never sent to a controller that is up but deaf.
	if err := s.link.bus.Start(ctx); err != nil {
		return err
	}
	defer func() { cancel(); s.link.bus.Wait() }()
	run("agent homes", s.link.keepHomes)
	run("orphaned legs", func(ctx context.Context) error { return s.link.sweepLegs(ctx, s.legSweep) })
	start("switchboard", s.sb.Run)
	run("reconcile", func(ctx context.Context) error {
		s.center.ReconcileEvery(ctx, s.cfg.ACD.ReconcileEvery.D())
		return nil
	})
	run("ivr events", s.ivrEvents.run)
	if s.recorder != nil {
		run("records", s.recorder.Run)
		if s.cfg.Records.RecordingRetentionDays > 0 {
			run("recording retention", s.pruneRecordings)
		}
	}
	start("web", func(ctx context.Context) error {
		return serveHTTP(ctx, newHTTPServer(s.handler, s.cfg.Web, s.tls), s.web)
	})
	if s.ops != nil {
		start("ops", func(ctx context.Context) error {
			return serveHTTP(ctx, newHTTPServer(s.opsMux, s.cfg.Web, nil), s.ops)
		})
	}
	run("session revocations", s.accounts.Run)
	if s.cfg.ACD.CenterFile != "" {
		run("account reload", s.watchAccounts)
	}
	if s.pages != nil {
		run("disconnected agents", s.reapDisconnected)
	}
	run("agent states", func(ctx context.Context) error { return s.states.run(ctx, s.log) })
	if len(s.crew) > 0 {
		run("demo crew", s.runCrew)
	}
	s.serving.Store(!s.sb.Draining())
	if s.menus != nil {
		run("menu reload", func(ctx context.Context) error {
			return s.menus.Run(ctx, hangupSignal(ctx), s.cfg.IVR.ReloadEvery.D())
		})
	}
	if s.sim != nil && s.cfg.Simulator.CallersPerMinute > 0 {
		run("simulated callers", func(ctx context.Context) error {
			simulateCallers(ctx, s.sim, s.cfg.Simulator.DID, s.cfg.Simulator.CallersPerMinute, s.log.With("part", "callers"))
			return nil
		})
	}
	s.log.Info("hotline running", "web", s.web.Addr().String(), "ops", s.OpsAddr().String(), "instance", s.cfg.Instance, "center", s.cfg.Center)
	var err error
	select {
	case <-ctx.Done():
	case <-s.drained:
	case err = <-errc:
		s.log.Error("a part failed; stopping", "err", err)
	}
	s.serving.Store(false)
	cancel()
	wg.Wait()
	return err
}

// Drain begins a graceful stop: /readyz says not ready at once (a balancer sends agents' pages
// and probes elsewhere), callers who arrive go to ari.drain_context, and Run returns once the
// callers in the IVR and the survey are done with them, or after ari.drain_timeout. Waiting and
// talking callers stay where they are, for the controller that takes this node over next. Cancel
// Run's context to stop at once.
func (s *Server) Drain() {
	s.drainOne.Do(func() {
		s.serving.Store(false)
		done := s.sb.Drain()
		timeout := s.cfg.ARI.DrainTimeout.D()
		s.log.Info("draining", "timeout", timeout)
		go func() {
			t := time.NewTimer(timeout)
			defer t.Stop()
			select {
			case <-done:
				s.log.Info("drained: every caller is out of the IVR")
			case <-t.C:
				s.log.Warn("drain timed out with callers still in the IVR", "timeout", timeout)
			}
			close(s.drained)
		}()
	})
}

func (s *Server) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
	if s.web != nil {
		s.web.Close()
	}
	if s.ops != nil {
		s.ops.Close()
	}
}

// startRedis connects to the configured Redis (one server, Sentinel or Cluster), or starts an
// embedded one: the same client and the same Lua scripts, so the demo exercises production's code.
func (s *Server) startRedis(ctx context.Context) error {
	rc := s.cfg.Redis
	if rc.Embedded {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("embedded redis: %w", err)
		}
		s.closers = append(s.closers, mr.Close)
		rc = config.Redis{Mode: config.RedisSingle, Addr: mr.Addr(), DialTimeout: rc.DialTimeout,
			ReadTimeout: rc.ReadTimeout, WriteTimeout: rc.WriteTimeout}
		s.log.Info("embedded redis started", "addr", rc.Addr)
	}
	rdb, err := redisconn.New(rc)
	if err != nil {
		return err
	}
	s.rdb = rdb
	s.closers = append(s.closers, func() { s.rdb.Close() })
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.rdb.Ping(pingCtx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w", redisconn.Describe(rc), err)
	}
	return nil
}

func loadCenter(path string) (*acd.Model, error) {
	if path == "" {
		return acd.LoadDefault()
	}
	return acd.LoadFile(path)
}

// buildIVR loads the menus (checked against the center's queues and the prompt catalog) and their
// lookup backend: the configured one, or the demo backend served on loopback.
func (s *Server) buildIVR(model *acd.Model, reg prometheus.Registerer) (*ivr.Flows, error) {
	catalog, err := prompts.Default()
	if err != nil {
		return nil, err
	}
	var queues []string
	for _, q := range model.Queues {
		queues = append(queues, q.Name)
	}
	opts := []ivr.LoadOption{ivr.WithQueues(queues...), ivr.WithCatalog(catalog), menuNumbers(s.cfg)}
	var src ivr.MenuSource
	if s.cfg.IVR.Menus == "" {
		m, err := ivr.LoadDefault(opts...)
		if err != nil {
			return nil, err
		}
		src = m
	} else {
		r, err := ivr.NewReloader(s.cfg.IVR.Menus, s.log.With("part", "ivr"), opts...)
		if err != nil {
			return nil, err
		}
		s.menus, src = r, r
	}
	base := s.cfg.IVR.LookupURL
	if base == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("demo lookup backend: %w", err)
		}
		srv := &http.Server{Handler: lookupdemo.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		s.closers = append(s.closers, func() { srv.Close() })
		base = "http://" + ln.Addr().String()
		s.log.Info("demo lookup backend started", "url", base)
	}
	lookup := &ivr.HTTPLookup{Base: base, Timeout: s.cfg.IVR.LookupTimeout.D()}
	metrics, err := ivr.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	return ivr.NewFlows(src, lookup, s.log.With("part", "ivr"), ivr.WithMetrics(metrics),
		ivr.WithObserver(s.ivrEvents.observe), ivr.WithPreamble(s.announcement)), nil
}

// announcement is what the supervisor's switch makes every caller hear before the menu.
func (s *Server) announcement(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	switch v, _ := s.rdb.Get(ctx, s.annKey).Result(); v {
	case "holiday":
		return []string{"announcement_holiday"}
	case "outage":
		return []string{"announcement_outage"}
	}
	return nil
}

// startSimulator serves the Asterisk simulator on a loopback port of its own, as a real Asterisk
// would be, and returns how to reach it.
func (s *Server) startSimulator() (url, user, password string, err error) {
	user, password = s.cfg.ARI.User, s.cfg.ARI.Password
	if password == "" {
		password = "hotline-demo"
	}
	sounds := prompts.Durations()
	s.sim, err = asterisksim.New(asterisksim.Config{
		User: user, Password: password, TimeScale: s.cfg.Simulator.TimeScale,
		SoundsDir: s.cfg.Simulator.SoundsDir, Sounds: sounds, Logger: s.log.With("part", "asterisksim"),
	})
	if err != nil {
		return "", "", "", fmt.Errorf("asterisk simulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", "", fmt.Errorf("asterisk simulator: %w", err)
	}
	srv := &http.Server{Handler: s.sim, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	s.closers = append(s.closers, func() { srv.Close(); s.sim.Close() })
	url = "http://" + ln.Addr().String() + "/ari"
	s.log.Info("asterisk simulator started", "ari", url)
	return url, user, password, nil
}

// Check loads the files cfg names (the center, the menus) as a start would, and returns every
// mistake in them, and, unless cfg.InsecureDemo, every demo setting (Unsafe): `hotline
// check-config` runs it so a bad menu or an open page is found before a deploy, not after.
func Check(cfg config.Config) error {
	errs := []error{checkFiles(cfg)}
	if !cfg.InsecureDemo {
		errs = append(errs, Unsafe(cfg))
	}
	return errors.Join(errs...)
}

func checkFiles(cfg config.Config) error {
	model, err := loadCenter(cfg.ACD.CenterFile)
	if err != nil {
		return err
	}
	if cfg.IVR.Menus == "" {
		return nil
	}
	catalog, err := prompts.Default()
	if err != nil {
		return err
	}
	var queues []string
	for _, q := range model.Queues {
		queues = append(queues, q.Name)
	}
	_, err = ivr.LoadFile(cfg.IVR.Menus, ivr.WithQueues(queues...), ivr.WithCatalog(catalog), menuNumbers(cfg))
	return err
}

// menuNumbers checks the menus' transfer numbers against the center's dialing rules, as the
// switchboard checks them when a caller reaches the node. The configuration has already made sure
// that extensions, if allowed, have a route (ari.internal_endpoint).
func menuNumbers(cfg config.Config) ivr.LoadOption {
	rules := cfg.Dialing.Rules()
	return ivr.WithNumberCheck(func(number string) error {
		_, err := rules.Check(number)
		return err
	})
}
