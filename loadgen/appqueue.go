package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AppQueueConfig is a load on Asterisk's own app_queue (asterisk-config/bench), for comparison
// with hotline on the same Asterisk: the same callers (Config's Rate, Duration, CallerContext),
// the same number of agents, talk time and wrap-up.
type AppQueueConfig struct {
	Config
	Agents           int           // queue members: Local/agentN@bench-agents, state from Custom:agentN
	TalkMin, TalkMax time.Duration // each agent talks a uniform time between them (TalkMin ≥ 500 ms)
	// NoIVR sends callers straight to Queue(); otherwise they first hear hotline's prompts on the
	// path to its general queue (greeting, private menu, "connecting you"), each cut short by the
	// caller's key, as in hotline's IVR.
	NoIVR bool
}

// BenchModules are the modules asterisk-config/bench needs beside the shipped ones.
var BenchModules = []string{"app_queue", "func_devstate", "func_rand", "func_math", "app_read"}

// RunAppQueue loads Queue(bench) on a (connected) Asterisk whose dialplan includes
// asterisk-config/bench/extensions-bench.conf (scripts/bench-asterisk.sh sets it up). The
// queue's figures are Asterisk's own event times: Queue() starting on the caller's channel
// (ChannelDialplan), the first member's Dial, and the Dial that a member answered.
func RunAppQueue(ctx context.Context, a *Asterisk, cfg AppQueueConfig) (Result, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 || cfg.Agents <= 0 {
		return Result{}, fmt.Errorf("loadgen: rate, duration and agents must be positive")
	}
	if cfg.TalkMin < 500*time.Millisecond || cfg.TalkMax < cfg.TalkMin {
		return Result{}, fmt.Errorf("loadgen: app_queue talk time %v..%v: at least 500 ms (an agent's Answer() takes that)", cfg.TalkMin, cfg.TalkMax)
	}
	if cfg.CallerContext == "" {
		cfg.CallerContext = "caller-bench"
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 2 * time.Minute
	}
	for _, m := range BenchModules {
		ok, err := a.Loaded(ctx, m)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return Result{}, fmt.Errorf("loadgen: Asterisk does not run %s: start it with scripts/bench-asterisk.sh (or load %v and include asterisk-config/bench)", m, BenchModules)
		}
	}
	ivr := "1"
	if cfg.NoIVR {
		ivr = "0"
	}
	for name, v := range map[string]string{"BENCH_TALK_MIN": strconv.FormatInt(cfg.TalkMin.Milliseconds(), 10),
		"BENCH_TALK_MAX": strconv.FormatInt(cfg.TalkMax.Milliseconds(), 10), "BENCH_IVR": ivr} {
		if err := a.setGlobal(ctx, name, v); err != nil {
			return Result{}, err
		}
	}
	if err := a.setupMembers(ctx, cfg.Agents); err != nil {
		return Result{}, err
	}
	reached := func() int {
		a.mu.Lock()
		defer a.mu.Unlock()
		n := 0
		for _, t := range a.tracks {
			if !t.connect.IsZero() {
				n++
			}
		}
		return n
	}
	d := dialLoop(ctx, cfg.Config, func(ctx context.Context, i int) (placed, error) {
		return a.originate(ctx, "s", "bench-queue", cfg.CallerContext, fmt.Sprintf("7916%07d", i%10_000_000), nil)
	}, a.hangup, reached, &windowHooks{begin: func() {}, end: func() {}})
	d.progress()
	a.mu.Lock()
	r := Result{Answered: len(d.answers), Elapsed: d.elapsed}
	var offers, queue []time.Duration
	for _, id := range d.ids {
		t := a.tracks[id]
		delete(a.tracks, id)
		if t.connect.IsZero() || t.enter.IsZero() {
			r.Failed++
			continue
		}
		r.Connected++
		queue = append(queue, t.connect.Sub(t.enter))
		if !t.offer.IsZero() {
			offers = append(offers, t.offer.Sub(t.enter))
		}
	}
	a.mu.Unlock()
	r.Dialled, r.Failed = len(d.ids)+d.failed, r.Failed+d.failed
	return r.finish(d.answers, offers, queue), nil
}

// setupMembers logs agent1..agentN into Queue(bench) through [bench-setup] and waits until it
// is done: the ;1 half waits in the generator's own Stasis app while the ;2 half runs the context,
// which hangs up when every member is in.
func (a *Asterisk) setupMembers(ctx context.Context, n int) error {
	id := a.nextID()
	t := newTrack(id)
	a.mu.Lock()
	a.tracks[id] = t
	a.mu.Unlock()
	defer a.forget(id)
	q := url.Values{"endpoint": {"Local/s@bench-setup"}, "app": {a.App}, "channelId": {"one-" + id}, "otherChannelId": {id}, "formats": {a.Format}}
	body := map[string]any{"variables": map[string]string{"BENCH_AGENTS": strconv.Itoa(n)}}
	if err := a.do(ctx, http.MethodPost, "/channels?"+q.Encode(), body, nil); err != nil {
		return err
	}
	if err := a.follow(ctx, t); err != nil {
		return err
	}
	select {
	case <-t.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Minute):
		return fmt.Errorf("loadgen: the queue's %d members were not logged in within a minute", n)
	}
}
