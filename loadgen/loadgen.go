// Package loadgen drives the whole call path at a steady rate and measures it: simulated callers
// dial the hotline, go through the IVR to the general queue, wait, are answered by agents the
// process plays (the demo's crew, answering at once), talk and are hung up on. It reports call
// setups a second, the time from dialling to the IVR's answer and from entering the queue to an
// agent's answer (p50, p99), and the calls that failed.
package loadgen

import (
	"context"
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

// Target is the running hotline the generator loads: its simulated Asterisk and its ACD.
type Target interface {
	Sim() *asterisksim.Sim
	Center() *acd.Center
}

// Config is the load.
type Config struct {
	Rate     float64       // calls dialled a second
	Duration time.Duration // how long to dial; the run then waits for the calls in flight
	DID      string        // default 8800
	Progress io.Writer     // a line a second; nil for none
}

// Result is what a run measured.
type Result struct {
	Dialled, Answered, Connected, Failed int
	Elapsed                              time.Duration // dialling time
	SetupsPerSecond                      float64       // calls that reached an agent, per second of dialling
	AnswerP50, AnswerP99                 time.Duration // dial → the IVR answers
	QueueP50, QueueP99                   time.Duration // queue → an agent answers (the ACD's CONNECT)
}

func (r Result) String() string {
	return fmt.Sprintf("dialled %d, answered by the IVR %d, reached an agent %d, failed %d in %v: %.1f setups/s; "+
		"IVR answer p50 %v p99 %v; queue to agent p50 %v p99 %v",
		r.Dialled, r.Answered, r.Connected, r.Failed, r.Elapsed.Round(time.Millisecond), r.SetupsPerSecond,
		r.AnswerP50, r.AnswerP99, r.QueueP50, r.QueueP99)
}

// Run dials at cfg.Rate for cfg.Duration, then waits (until ctx ends) for every call to reach an
// agent or fail.
func Run(ctx context.Context, t Target, cfg Config) (Result, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return Result{}, fmt.Errorf("loadgen: rate and duration must be positive")
	}
	if cfg.DID == "" {
		cfg.DID = "8800"
	}
	last, err := t.Center().LastEventID(ctx)
	if err != nil {
		return Result{}, err
	}
	var (
		mu        sync.Mutex
		answers   []time.Duration
		waits     []time.Duration
		ours      = map[string]bool{}
		connected = map[string]bool{}
		dialled   atomic.Int64
		failed    atomic.Int64
	)
	// The ACD's CONNECT events say when each call reached an agent and how long it waited.
	take := func(evs []acd.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			last = ev.ID
			if ev.Event == "CONNECT" && ours[ev.Call] && !connected[ev.Call] {
				connected[ev.Call] = true
				if ms, err := strconv.Atoi(firstField(ev.Data)); err == nil {
					waits = append(waits, time.Duration(ms)*time.Millisecond)
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

	var wg sync.WaitGroup
	start := time.Now()
	every := time.Duration(float64(time.Second) / cfg.Rate)
	tick := time.NewTicker(every)
	defer tick.Stop()
	progress := time.NewTicker(time.Second)
	defer progress.Stop()
	report := func() {
		if cfg.Progress == nil {
			return
		}
		mu.Lock()
		n := len(connected)
		mu.Unlock()
		fmt.Fprintf(cfg.Progress, "loadgen: %5.1fs dialled %d, reached an agent %d, failed %d\n",
			time.Since(start).Seconds(), dialled.Load(), n, failed.Load())
	}
dialling:
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			break dialling
		case <-progress.C:
			report()
			continue
		case <-tick.C:
		}
		if time.Since(start) >= cfg.Duration {
			break
		}
		dialled.Add(1)
		t0 := time.Now()
		c, err := t.Sim().Dial(ctx, asterisksim.CallerSpec{DID: cfg.DID, Number: fmt.Sprintf("7916%07d", i%10_000_000),
			Dialplan: "caller-agent-tone", NoAudio: true})
		if err != nil {
			failed.Add(1)
			continue
		}
		mu.Lock()
		ours[c.ChannelID()] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-c.Answered():
				mu.Lock()
				answers = append(answers, time.Since(t0))
				mu.Unlock()
			case <-c.Done():
			}
			<-c.Done() // the agent hangs up
		}()
	}
	elapsed := time.Since(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-ctx.Done():
			waiting = false
		case <-progress.C:
			report()
		}
	}
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
	// Calls that never reached an agent failed, as did dials Asterisk refused.
	failed.Add(int64(len(ours) - len(connected)))
	mu.Unlock()
	report()
	mu.Lock()
	defer mu.Unlock()
	r := Result{Dialled: int(dialled.Load()), Answered: len(answers), Connected: len(connected), Failed: int(failed.Load()), Elapsed: elapsed}
	r.SetupsPerSecond = float64(r.Connected) / elapsed.Seconds()
	r.AnswerP50, r.AnswerP99 = quantile(answers, 0.5), quantile(answers, 0.99)
	r.QueueP50, r.QueueP99 = quantile(waits, 0.5), quantile(waits, 0.99)
	return r, nil
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
