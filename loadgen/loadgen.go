// Package loadgen drives the whole call path at a steady rate and measures it: callers dial the
// hotline, go through the IVR to the general queue, wait, are answered by agents the process plays
// (the demo's crew, answering by themselves), talk and are hung up on. It reports call setups a
// second, the time from dialling to the IVR's answer, from entering the queue to an agent being
// offered the call (rung) and to an agent's answer (p50, p99), and the calls that failed.
//
// The callers are the in-process simulator's (Config.Asterisk nil) or Local channels on a real
// Asterisk, originated over ARI (Config.Asterisk). RunAppQueue loads Asterisk's own app_queue on
// the same Asterisk with the same callers, for comparison.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
)

// Target is the running hotline the generator loads: its ACD, and, for simulated callers, its
// simulated Asterisk (a Sim() *asterisksim.Sim method).
type Target interface {
	Center() *acd.Center
}

type simTarget interface {
	Sim() *asterisksim.Sim
}

// Config is the load.
type Config struct {
	Rate     float64       // calls dialled a second
	Duration time.Duration // how long to dial; the run then waits for the calls in flight
	DID      string        // default 8800
	Progress io.Writer     // a line a second; nil for none
	// Asterisk, when set, is the real Asterisk the hotline runs on: callers are Local channels
	// into its [from-pstn], running CallerContext (default caller-bench) on their own side. It
	// must be connected (Connect). The simulator's callers run CallerContext too. A list with
	// weights, "caller-seed*3,caller-seed-business*2", gives callers the contexts in turn.
	Asterisk      *Asterisk
	CallerContext string
	// Entry is the context of the hotline's dialplan the callers enter on a real Asterisk:
	// from-pstn (the default), or from-carrier, where the node counts them against
	// HOTLINE_MAX_CALLS as it counts a carrier's calls and refuses those past it.
	Entry string
	// Drain bounds the wait for the calls in flight after the last dial: those left then are
	// hung up and count as failed. Default 2 minutes.
	Drain time.Duration
	// Hold measures how many calls the hotline carries at once rather than how fast it sets them
	// up: the callers still on the line when dialling ends (talking, waiting, in the IVR) are hung
	// up then, and count as held, not failed.
	Hold bool
	// Ramp callers are dialled first, at RampRate (default 20 a second), to fill the center before
	// the measured window: the Duration at Rate after them. Result.Window measures that window.
	Ramp     int
	RampRate float64
	// Phones, when set, are the crew's WebRTC sessions on the target's gateway (DialPhones, or
	// StartPhoneProcess): the window then counts the audio each way, and reads the gateway's
	// per-packet time from the target's metrics (a Metrics() prometheus.Gatherer method).
	Phones PhoneSet
}

// Window is the measured part of a run: after the ramp, the dialling at Rate.
type Window struct {
	Length          time.Duration
	Setups          int // calls that reached an agent (CONNECT) in the window
	SetupsPerSecond float64
	// Sampled every second: agents on a call (the ACD's oncall), phones that received audio in
	// the second before, and callers on the line but not on a call (in the IVR, queued, ringing).
	OnCallMin, OnCallMax   int
	HearingMin, HearingMax int
	WaitingMin, WaitingMax int
	Samples                int
	CPU                    time.Duration // the process's CPU time in the window
	UDPRcvbufErrors        uint64        // the machine's UDP drops for full receive buffers, in the window
	// With phones: the audio each way.
	ToAgent, FromAgent Flow
}

// Flow is one direction's audio in the window.
type Flow struct {
	Sent     uint64 // by the simulator's externalMedia legs (to the agent) or the agents' phones
	Relayed  uint64 // written by the gateway (its relay histogram's count)
	Received uint64 // by the phones (to the agent) or the simulator's legs
	Lost     uint64 // missing in sequence at the receiver
	// LostBeforeGateway is the part the gateway saw missing on arrival (rtp_lost_packets_total).
	LostBeforeGateway uint64
	// The gateway's time from read to write, from its histogram (interpolated within buckets).
	P50, P99, P999 string
}

func (f Flow) String() string {
	return fmt.Sprintf("sent %d, relayed %d, received %d, lost %d (sequence gaps at the receiver; %d already missing on arrival at the gateway); in the gateway p50 %s p99 %s p99.9 %s",
		f.Sent, f.Relayed, f.Received, f.Lost, f.LostBeforeGateway, f.P50, f.P99, f.P999)
}

func (w Window) String() string {
	s := fmt.Sprintf("window %v: %d setups, %.2f setups/s; agents on a call min %d max %d; callers in the IVR, queues or ringing min %d max %d",
		w.Length.Round(time.Millisecond), w.Setups, w.SetupsPerSecond, w.OnCallMin, w.OnCallMax, w.WaitingMin, w.WaitingMax)
	if w.HearingMax > 0 {
		s += fmt.Sprintf("; agents' phones hearing audio min %d max %d", w.HearingMin, w.HearingMax)
	}
	s += fmt.Sprintf(" (%d samples); process CPU %v (%.0f%% of a core)", w.Samples, w.CPU.Round(10*time.Millisecond), 100*w.CPU.Seconds()/w.Length.Seconds())
	if w.ToAgent.Sent+w.FromAgent.Sent > 0 {
		s += fmt.Sprintf("; the machine's UDP receive-buffer drops %d", w.UDPRcvbufErrors)
		s += fmt.Sprintf("\n  to the agents:   %v\n  from the agents: %v", w.ToAgent, w.FromAgent)
	}
	return s
}

// Result is what a run measured.
type Result struct {
	Dialled, Answered, Connected, Failed int
	Held                                 int           // on the line when dialling ended, hung up then (Config.Hold)
	Refused                              int           // of Failed, those the node refused at HOTLINE_MAX_CALLS (Config.Entry from-carrier)
	Peak                                 int           // the most calls on the line at once
	Elapsed                              time.Duration // dialling time
	SetupsPerSecond                      float64       // calls that reached an agent, per second of dialling
	AnswerP50, AnswerP99                 time.Duration // dial → the IVR answers
	OfferP50, OfferP99                   time.Duration // queue → an agent is offered the call (rung)
	QueueP50, QueueP99                   time.Duration // queue → an agent answers
	Window                               *Window       // with Config.Ramp or Config.Phones
}

func (r Result) String() string {
	held := ""
	if r.Held > 0 {
		held = fmt.Sprintf("; %d held to the end and hung up then", r.Held)
	}
	peak := ""
	if r.Peak > 0 {
		peak = fmt.Sprintf("at most %d calls at once%s; ", r.Peak, held)
	}
	refused := ""
	if r.Refused > 0 {
		refused = fmt.Sprintf(" (%d refused by the node at HOTLINE_MAX_CALLS)", r.Refused)
	}
	return peak + fmt.Sprintf("dialled %d, answered by the IVR %d, reached an agent %d, failed %d%s in %v: %.1f setups/s; "+
		"IVR answer p50 %v p99 %v; queue to offer p50 %v p99 %v; queue to agent p50 %v p99 %v",
		r.Dialled, r.Answered, r.Connected, r.Failed, refused, r.Elapsed.Round(time.Millisecond), r.SetupsPerSecond,
		r.AnswerP50, r.AnswerP99, r.OfferP50, r.OfferP99, r.QueueP50, r.QueueP99)
}

// placed is a caller on the line.
type placed interface {
	ID() string // the channel the hotline (or the queue) serves: the ACD's call id
	Answered() <-chan struct{}
	Done() <-chan struct{}
}

type simCaller struct{ *asterisksim.Caller }

func (c simCaller) ID() string { return c.ChannelID() }

// dialling is what dialLoop saw.
type dialling struct {
	ids      []string
	answers  []time.Duration
	failed   int // dials refused, and calls hung up at the drain's end
	held     map[string]bool
	peak     int
	elapsed  time.Duration
	progress func()
}

// windowHooks are told when the measured window (the dialling at cfg.Rate after the ramp) begins
// and ends; onLine is the callers dialled and not yet gone.
type windowHooks struct {
	begin, end func()
	onLine     atomic.Int64
}

// dialLoop dials cfg.Ramp callers at cfg.RampRate, then at cfg.Rate for cfg.Duration and waits for every call to end (or the drain to
// run out: then it hangs up what is left with hangup). reached counts the calls that reached an
// agent so far, for the progress line.
func dialLoop(ctx context.Context, cfg Config, dial func(ctx context.Context, i int) (placed, error),
	hangup func(ctx context.Context, id string), reached func() int, w *windowHooks) dialling {
	if cfg.RampRate <= 0 {
		cfg.RampRate = 20
	}
	var (
		mu      sync.Mutex
		d       dialling
		wg      sync.WaitGroup
		failed  atomic.Int64
		dialled atomic.Int64
		calls   []placed
		onLine  int // calls dialled and not yet ended; mu
	)
	start := time.Now()
	rate := cfg.Rate
	var rampDur time.Duration
	if cfg.Ramp > 0 {
		rampDur, rate = time.Duration(float64(cfg.Ramp)/cfg.RampRate*float64(time.Second)), max(rate, cfg.RampRate)
	}
	every := time.Duration(float64(time.Second) / rate)
	tick := time.NewTicker(every)
	defer tick.Stop()
	progress := time.NewTicker(time.Second)
	defer progress.Stop()
	report := func() {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "loadgen: %5.1fs dialled %d, reached an agent %d, failed %d\n",
				time.Since(start).Seconds(), dialled.Load(), reached(), failed.Load())
		}
	}
	d.progress = report
	next := 0 // the next call's number
	inWindow := false
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-progress.C:
			report()
			continue
		case <-tick.C:
		}
		elapsed := time.Since(start)
		if elapsed >= rampDur+cfg.Duration {
			break
		}
		due := int(elapsed.Seconds() * cfg.RampRate)
		if elapsed >= rampDur {
			due = cfg.Ramp + int((elapsed-rampDur).Seconds()*cfg.Rate)
			if !inWindow {
				inWindow = true
				w.begin()
			}
		}
		// Every call due by now is dialled: a tick the process was too busy to take (the ticker
		// drops them) is made up at the next one, so the load offered stays the rate asked for on
		// a loaded machine (it lost a fifth of 30 calls/s at a load average of 80).
		for ; next < due; next++ {
			i := next
			dialled.Add(1)
			// Each dial in its own goroutine: a slow originate must not slow the rate down.
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				c, err := dial(ctx, i)
				if err != nil {
					if failed.Add(1) == 1 && cfg.Progress != nil {
						fmt.Fprintf(cfg.Progress, "loadgen: the first dial that failed: %v\n", err)
					}
					return
				}
				mu.Lock()
				calls = append(calls, c)
				onLine++
				d.peak = max(d.peak, onLine)
				mu.Unlock()
				w.onLine.Add(1)
				defer func() {
					mu.Lock()
					onLine--
					mu.Unlock()
					w.onLine.Add(-1)
				}()
				select {
				case <-c.Answered():
					mu.Lock()
					d.answers = append(d.answers, time.Since(t0))
					mu.Unlock()
				case <-c.Done():
				}
				<-c.Done() // the agent hangs up
			}()
		}
	}
	d.elapsed = time.Since(start)
	if inWindow {
		w.end()
	}
	if cfg.Hold {
		mu.Lock()
		d.held = map[string]bool{}
		for _, c := range calls {
			select {
			case <-c.Done():
			default:
				d.held[c.ID()] = true
				hangup(context.WithoutCancel(ctx), c.ID())
			}
		}
		mu.Unlock()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	drain := time.NewTimer(cfg.Drain)
	defer drain.Stop()
	var giveUp <-chan time.Time
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-ctx.Done():
			waiting = false
		case <-drain.C:
			// What is still on the line now is stuck: hang it up; it counts as failed (it never
			// reached an agent, or did and was never hung up). Then wait a little for the hangups
			// to show, and no longer (an Asterisk that stopped answering sends no more events).
			mu.Lock()
			stuck := slices.Clone(calls)
			mu.Unlock()
			for _, c := range stuck {
				select {
				case <-c.Done():
				default:
					hangup(context.WithoutCancel(ctx), c.ID())
				}
			}
			giveUp = time.After(15 * time.Second)
		case <-giveUp:
			waiting = false
		case <-progress.C:
			report()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, c := range calls {
		d.ids = append(d.ids, c.ID())
	}
	d.failed = int(failed.Load())
	return d
}

// Run dials at cfg.Rate for cfg.Duration, then waits (until ctx ends) for every call to reach an
// agent or fail. The queue's figures come from the ACD's event stream (ENQUEUE, the first RING
// after it, CONNECT), whose times are Redis's clock.
func Run(ctx context.Context, t Target, cfg Config) (Result, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return Result{}, fmt.Errorf("loadgen: rate and duration must be positive")
	}
	if cfg.DID == "" {
		cfg.DID = "8800"
	}
	if cfg.CallerContext == "" {
		cfg.CallerContext = "caller-bench"
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 2 * time.Minute
	}
	if cfg.Entry == "" {
		cfg.Entry = "from-pstn"
	}
	contexts, err := callerContexts(cfg.CallerContext)
	if err != nil {
		return Result{}, err
	}
	var dial func(ctx context.Context, i int) (placed, error)
	hangup := func(context.Context, string) {}
	if a := cfg.Asterisk; a != nil {
		dial = func(ctx context.Context, i int) (placed, error) {
			return a.originate(ctx, cfg.DID, cfg.Entry, contexts[i%len(contexts)], fmt.Sprintf("7916%07d", i%10_000_000), nil)
		}
		hangup = a.hangup
	} else {
		st, ok := t.(simTarget)
		if !ok {
			return Result{}, errors.New("loadgen: no Asterisk given and the target has no simulator")
		}
		var sims sync.Map // id → *asterisksim.Caller
		dial = func(ctx context.Context, i int) (placed, error) {
			c, err := st.Sim().Dial(ctx, asterisksim.CallerSpec{DID: cfg.DID, Number: fmt.Sprintf("7916%07d", i%10_000_000),
				Dialplan: contexts[i%len(contexts)], NoAudio: true})
			if err != nil {
				return nil, err
			}
			sims.Store(c.ChannelID(), c)
			return simCaller{c}, nil
		}
		hangup = func(_ context.Context, id string) {
			if c, ok := sims.Load(id); ok {
				c.(*asterisksim.Caller).Hangup()
			}
		}
	}
	last, err := t.Center().LastEventID(ctx)
	if err != nil {
		return Result{}, err
	}
	var (
		mu          sync.Mutex
		enqueued    = map[string]time.Time{}
		offered     = map[string]time.Time{}
		waits       = map[string]time.Duration{}
		connectedAt = map[string]time.Time{}
		connected   atomic.Int64
	)
	// The ACD's events say when each call entered the queue, was first offered to an agent and
	// reached one (CONNECT carries how long it waited).
	take := func(evs []acd.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			last = ev.ID
			switch ev.Event {
			case "ENQUEUE":
				if _, ok := enqueued[ev.Call]; !ok {
					enqueued[ev.Call] = ev.Time
				}
			case "RING":
				if _, ok := enqueued[ev.Call]; ok {
					if _, ok := offered[ev.Call]; !ok {
						offered[ev.Call] = ev.Time
					}
				}
			case "CONNECT":
				if _, ok := waits[ev.Call]; !ok {
					if ms, err := strconv.Atoi(firstField(ev.Data)); err == nil {
						waits[ev.Call] = time.Duration(ms) * time.Millisecond
						connectedAt[ev.Call] = ev.Time
						connected.Add(1)
					}
				}
			}
		}
	}
	followCtx, stopFollow := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		for followCtx.Err() == nil {
			mu.Lock()
			from := last
			mu.Unlock()
			if evs, err := t.Center().Follow(followCtx, from, time.Second); err == nil {
				take(evs)
			}
		}
	}()
	// The node counts the callers it refuses in a global (asterisk-config's [from-carrier]); they
	// never reach the controller, so the count is the only way to tell them from other failures.
	refusedBefore := int64(-1)
	if cfg.Asterisk != nil {
		refusedBefore = cfg.Asterisk.refused(ctx)
	}
	wm := newWindowMeter(ctx, t, cfg.Phones, cfg.Ramp > 0 || cfg.Phones != nil)
	d := dialLoop(ctx, cfg, dial, hangup, func() int { return int(connected.Load()) }, wm.hooks)
	// Every caller is gone: what the follower has not read yet is in the stream.
	stopFollow()
	<-followed
	for {
		evs, err := t.Center().Events(context.WithoutCancel(ctx), last, 10_000)
		if err != nil || len(evs) == 0 {
			break
		}
		take(evs)
	}
	mu.Lock()
	r := Result{Dialled: len(d.ids) + d.failed, Answered: len(d.answers), Elapsed: d.elapsed, Peak: d.peak, Held: len(d.held)}
	var offers, queue []time.Duration
	for _, id := range d.ids {
		w, ok := waits[id]
		if !ok && d.held[id] {
			continue // still waiting or in the IVR when the run ended
		}
		if !ok {
			r.Failed++ // never reached an agent
			continue
		}
		r.Connected++
		queue = append(queue, w)
		if at, ok := offered[id]; ok {
			offers = append(offers, at.Sub(enqueued[id]))
		}
	}
	if cfg.Asterisk != nil {
		for _, id := range d.ids {
			cfg.Asterisk.forget(id)
		}
	}
	r.Window = wm.result(connectedAt)
	mu.Unlock()
	r.Dialled, r.Failed = len(d.ids)+d.failed, r.Failed+d.failed
	if refusedBefore >= 0 {
		if after := cfg.Asterisk.refused(context.WithoutCancel(ctx)); after >= refusedBefore {
			r.Refused = int(after - refusedBefore)
		}
	}
	d.progress()
	return r.finish(d.answers, offers, queue), nil
}

func (r Result) finish(answers, offers, queue []time.Duration) Result {
	r.SetupsPerSecond = float64(r.Connected) / r.Elapsed.Seconds()
	r.AnswerP50, r.AnswerP99 = quantile(answers, 0.5), quantile(answers, 0.99)
	r.OfferP50, r.OfferP99 = quantile(offers, 0.5), quantile(offers, 0.99)
	r.QueueP50, r.QueueP99 = quantile(queue, 0.5), quantile(queue, 0.99)
	return r
}

func firstField(s string) string {
	for i := range len(s) {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
