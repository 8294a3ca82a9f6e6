package acd

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/staffing"
)

// The peak-hour simulation of issue 13: Poisson callers and exponential handle times driven through
// the real ACD (the Lua script on a redis-server) on a virtual clock, measured against Erlang C.
// The Go side only plays the callers and the agents: every routing decision is the script's.
//
// Besides service level and ASA it checks the fairness the issue asks for: no caller waits longer
// than a caller who arrived later in a queue the same agent serves. At every offer of call j to agent
// A it looks at the calls still waiting in A's queues: one whose score (enqueue time − priority ×
// weight, ROUTING.md) is lower than j's was passed over, an inversion. It also counts the calls that
// arrived earlier without the priority offset ("raw" inversions: what the weights buy), and after
// every dispatch it checks that no caller waits in a queue with a free agent.

// peakGroup is a group of agents serving the given queues (skill = queue name).
type peakGroup struct {
	name   string
	count  int
	queues []string
}

// peakQueue is one queue of the simulated center and its traffic.
type peakQueue struct {
	name     string
	prio     int
	strategy Strategy
	wrapup   time.Duration
	perHour  float64
}

type peakConfig struct {
	queues     []peakQueue
	groups     []peakGroup
	aht        time.Duration // mean of the exponential handle time
	warmup     time.Duration // simulated before measuring
	batch      time.Duration // the measured time is cut into batches of this length (the spread)
	batches    int
	seed       int64
	stationary bool // start each queue in Erlang C's steady state (dedicated groups, no wrap-up only)
}

// peakStats is one queue's figures over one batch (calls by arrival time).
type peakStats struct {
	calls, within int
	sumWait       float64 // seconds: a time.Duration overflows over 10,000 hours of an overloaded queue
	maxWait       time.Duration
}

func (s peakStats) sl() float64 { return float64(s.within) / float64(s.calls) }
func (s peakStats) asa() float64 {
	return s.sumWait / float64(s.calls)
}

func (s *peakStats) add(o peakStats) {
	s.calls += o.calls
	s.within += o.within
	s.sumWait += o.sumWait
	s.maxWait = max(s.maxWait, o.maxWait)
}

type peakResult struct {
	batches       []map[string]peakStats // per batch, per queue
	total         map[string]peakStats
	calls         int // every call that arrived, warm-up and tail included
	offers        int
	inversions    int               // offers that passed over a caller with a lower score in one of the agent's queues
	rawJumps      int               // offers that passed over a caller who arrived earlier, priority offset ignored
	idleWhileWait int               // dispatches that left a caller waiting beside a free agent of the queue
	waitMismatch  int               // answers whose wait by the ACD differs from the simulation's by more than 1 ms
	waits         [][]time.Duration // per queue, per caller in order of arrival; -1: not answered
	elapsed       time.Duration
}

const peakSLWithin = 20 * time.Second

// peakModel writes the center file for cfg.
func peakModel(cfg peakConfig) string {
	var b strings.Builder
	b.WriteString("center: peak\nweights: {queue_priority: 30s, caller_priority: 60s}\nskills: [")
	for i, q := range cfg.queues {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q.name)
	}
	b.WriteString("]\nqueues:\n")
	for _, q := range cfg.queues {
		fmt.Fprintf(&b, "  - {name: %s, priority: %d, strategy: %s, skill: %s, wrapup: %s, handle_time: %s}\n",
			q.name, q.prio, q.strategy, q.name, q.wrapup, cfg.aht)
	}
	b.WriteString("groups:\n")
	for _, g := range cfg.groups {
		skills := make([]string, len(g.queues))
		for i, q := range g.queues {
			skills[i] = q + ": 5"
		}
		fmt.Fprintf(&b, "  - {name: %s, count: %d, id: \"%s%%04d\", skills: {%s}}\n", g.name, g.count, g.name, strings.Join(skills, ", "))
	}
	return b.String()
}

type peakEventKind int

const (
	evArrive peakEventKind = iota
	evFinish
	evWrapEnd
)

type peakEvent struct {
	at    time.Duration // since the start
	seq   int           // ties in order of scheduling
	kind  peakEventKind
	queue int
	call  string
	agent string
}

type peakHeap []peakEvent

func (h peakHeap) Len() int { return len(h) }
func (h peakHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h peakHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *peakHeap) Push(x any)   { *h = append(*h, x.(peakEvent)) }
func (h *peakHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type peakCall struct {
	id      string
	queue   int
	n       int // the queue's n-th caller (from 0)
	arrived time.Duration
	handle  time.Duration
	enqMs   int64 // as the script sees it
	score   int64
}

// stationaryCount draws the number of calls in an M/M/n system in its steady state: Erlang C's own
// distribution, so the measurement does not start from an empty center.
func stationaryCount(rng *rand.Rand, n int, a float64) int {
	// p_k ∝ a^k/k! for k <= n, then p_n ρ^(k−n).
	logw := make([]float64, n+1)
	top := math.Inf(-1)
	for k := 0; k <= n; k++ {
		lg, _ := math.Lgamma(float64(k + 1))
		logw[k] = float64(k)*math.Log(a) - lg
		top = math.Max(top, logw[k])
	}
	w := make([]float64, n+1)
	sum := 0.0
	for k := range w {
		w[k] = math.Exp(logw[k] - top)
		sum += w[k]
	}
	rho := a / float64(n)
	tail := w[n] * rho / (1 - rho)
	u := rng.Float64() * (sum + tail)
	for k := range w {
		if u < w[k] {
			return k
		}
		u -= w[k]
	}
	// In the tail: geometric beyond n.
	return n + 1 + int(math.Floor(math.Log(rng.Float64())/math.Log(rho)))
}

// peakArrival is one caller: when they arrive (since the start) and how long their call will take.
type peakArrival struct {
	at     time.Duration
	handle time.Duration
}

// peakSource is one queue's callers, the same sequence for a given seed whoever reads it: the ACD's
// simulation and the textbook one (refWaits) see the very same callers.
type peakSource struct {
	rng     *rand.Rand
	perHour float64
	aht     time.Duration
	initial int // callers already there at the start (stationary), still to hand out
	t       time.Duration
}

func newPeakSource(cfg peakConfig, qi int) *peakSource {
	q := cfg.queues[qi]
	s := &peakSource{rng: rand.New(rand.NewSource(cfg.seed*1000 + int64(qi))), perHour: q.perHour, aht: cfg.aht}
	if cfg.stationary {
		s.initial = stationaryCount(s.rng, dedicated(cfg, q.name), q.perHour*cfg.aht.Seconds()/3600)
	}
	return s
}

func (s *peakSource) next() peakArrival {
	if s.initial > 0 {
		s.initial--
	} else {
		s.t += time.Duration(s.rng.ExpFloat64() * float64(time.Hour) / s.perHour)
	}
	return peakArrival{at: s.t, handle: time.Duration(s.rng.ExpFloat64() * float64(s.aht))}
}

// dedicated counts the agents who serve queue q and no other.
func dedicated(cfg peakConfig, q string) int {
	n := 0
	for _, g := range cfg.groups {
		if len(g.queues) == 1 && g.queues[0] == q {
			n += g.count
		}
	}
	return n
}

// peakCollector bins answered calls by arrival time into the measured batches.
type peakCollector struct {
	cfg     peakConfig
	batches []map[string]peakStats
}

func newPeakCollector(cfg peakConfig) *peakCollector {
	c := &peakCollector{cfg: cfg, batches: make([]map[string]peakStats, cfg.batches)}
	for i := range c.batches {
		c.batches[i] = map[string]peakStats{}
	}
	return c
}

func (c *peakCollector) measured(arrived time.Duration) bool {
	return arrived >= c.cfg.warmup && arrived < c.cfg.warmup+time.Duration(c.cfg.batches)*c.cfg.batch
}

func (c *peakCollector) add(queue string, arrived, wait time.Duration) {
	if !c.measured(arrived) {
		return
	}
	b := int((arrived - c.cfg.warmup) / c.cfg.batch)
	s := c.batches[b][queue]
	s.calls++
	if wait <= peakSLWithin {
		s.within++
	}
	s.sumWait += wait.Seconds()
	s.maxWait = max(s.maxWait, wait)
	c.batches[b][queue] = s
}

func (c *peakCollector) total() map[string]peakStats {
	tot := map[string]peakStats{}
	for _, b := range c.batches {
		for q, s := range b {
			x := tot[q]
			x.add(s)
			tot[q] = x
		}
	}
	return tot
}

// refWaits is the textbook FIFO M/M/n (with wrap-up if the queue has one) on the first n callers of
// queue qi: each caller takes the agent free soonest, in order of arrival. An ACD that serves its
// queue first come first served and never leaves an agent idle beside a waiting caller gives every
// caller exactly this wait, whichever agent it picks.
func refWaits(cfg peakConfig, qi, n int) []time.Duration {
	q := cfg.queues[qi]
	src := newPeakSource(cfg, qi)
	free := make(durHeap, dedicated(cfg, q.name)) // when each agent is next free
	waits := make([]time.Duration, n)
	for i := range waits {
		a := src.next()
		start := max(a.at, free[0])
		waits[i] = start - a.at
		free[0] = freeAgain(start+a.handle, q.wrapup)
		heap.Fix(&free, 0)
	}
	return waits
}

// freeAgain is when an agent whose call ends at end is free for the next: at once without wrap-up,
// else the wrap-up after the millisecond the call ended in (the script's clock has no finer grain).
func freeAgain(end, wrapup time.Duration) time.Duration {
	if wrapup == 0 {
		return end
	}
	return wrapEnd(end, wrapup)
}

func wrapEnd(end, wrapup time.Duration) time.Duration { return end.Truncate(time.Millisecond) + wrapup }

type durHeap []time.Duration

func (h durHeap) Len() int           { return len(h) }
func (h durHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h durHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *durHeap) Push(x any)        { *h = append(*h, x.(time.Duration)) }
func (h *durHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// refPeak measures the textbook model alone over cfg's batches: what Erlang C's sampling noise is
// without Redis in the loop, over as many hours as one likes.
func refPeak(cfg peakConfig) peakResult {
	start := time.Now()
	col := newPeakCollector(cfg)
	res := peakResult{}
	end := cfg.warmup + time.Duration(cfg.batches)*cfg.batch
	for qi, q := range cfg.queues {
		src := newPeakSource(cfg, qi)
		free := make(durHeap, dedicated(cfg, q.name))
		for {
			a := src.next()
			if a.at >= end {
				break
			}
			res.calls++
			start := max(a.at, free[0])
			col.add(q.name, a.at, start-a.at)
			free[0] = freeAgain(start+a.handle, q.wrapup)
			heap.Fix(&free, 0)
		}
	}
	res.batches, res.total, res.elapsed = col.batches, col.total(), time.Since(start)
	return res
}

// runPeak simulates cfg through the ACD on a fresh redis-server and returns its figures.
func runPeak(t *testing.T, cfg peakConfig) peakResult {
	t.Helper()
	e := newEnv(t, peakModel(cfg))
	var now time.Duration
	setNow := func(d time.Duration) {
		e.clock.Advance(d - now)
		now = d
	}
	qIdx := map[string]int{}
	for i, q := range cfg.queues {
		qIdx[q.name] = i
	}
	wq := e.c.model.Weights.QueuePriority.Milliseconds()

	// The simulation's mirror of the center: who waits where, which agents are free.
	type agentInfo struct {
		queues []int
		free   bool
	}
	agents := map[string]*agentInfo{}
	freeIn := make([]int, len(cfg.queues))
	for _, a := range e.c.model.Agents {
		ai := &agentInfo{}
		for _, q := range a.queues {
			ai.queues = append(ai.queues, qIdx[q])
		}
		agents[a.ID] = ai
	}
	setFree := func(id string, free bool) {
		ai := agents[id]
		if ai.free == free {
			t.Fatalf("agent %s already free=%v", id, free)
		}
		ai.free = free
		d := -1
		if free {
			d = 1
		}
		for _, q := range ai.queues {
			freeIn[q] += d
		}
	}
	for _, a := range e.c.model.Agents {
		e.must(e.c.Login(e.ctx, a.ID))
		setFree(a.ID, true)
	}

	waiting := make([][]*peakCall, len(cfg.queues)) // in arrival order
	calls := map[string]*peakCall{}
	var events peakHeap
	seq := 0
	push := func(ev peakEvent) {
		seq++
		ev.seq = seq
		heap.Push(&events, ev)
	}
	col := newPeakCollector(cfg)
	res := peakResult{waits: make([][]time.Duration, len(cfg.queues))}
	pending := 0 // measured calls not yet answered
	sources := make([]*peakSource, len(cfg.queues))
	nextArrival := make([]peakArrival, len(cfg.queues))
	for qi := range cfg.queues {
		sources[qi] = newPeakSource(cfg, qi)
		nextArrival[qi] = sources[qi].next()
		push(peakEvent{at: nextArrival[qi].at, kind: evArrive, queue: qi})
	}

	enqueue := func(qi int, a peakArrival) {
		res.calls++
		q := cfg.queues[qi]
		c := &peakCall{id: fmt.Sprintf("%s%08d", q.name, len(res.waits[qi])), queue: qi, n: len(res.waits[qi]), arrived: now, handle: a.handle}
		res.waits[qi] = append(res.waits[qi], -1)
		c.enqMs = e.clock.Now().UnixMilli()
		c.score = c.enqMs - int64(q.prio)*wq
		if _, err := e.c.Enqueue(e.ctx, Waiting{CallID: c.id, Queue: q.name}); err != nil {
			t.Fatal(err)
		}
		calls[c.id] = c
		waiting[qi] = append(waiting[qi], c)
		if col.measured(now) {
			pending++
		}
	}
	dispatch := func() {
		for {
			offers, err := e.c.Dispatch(e.ctx)
			e.must(err)
			for _, o := range offers {
				res.offers++
				c := calls[o.CallID]
				ai := agents[o.Agent]
				if c == nil || ai == nil || !ai.free {
					t.Fatalf("offer of %s to %s at %v: call known %v, agent %+v", o.CallID, o.Agent, now, c != nil, ai)
				}
				// Take the call out of the mirror, then look at who still waits in the agent's queues.
				w := waiting[c.queue]
				for i, x := range w {
					if x == c {
						waiting[c.queue] = append(w[:i:i], w[i+1:]...)
						break
					}
				}
				inverted, jumped := false, false
				for _, qi := range ai.queues {
					for _, x := range waiting[qi] {
						inverted = inverted || x.score < c.score
						jumped = jumped || x.enqMs < c.enqMs
					}
				}
				if inverted {
					res.inversions++
				}
				if jumped {
					res.rawJumps++
				}
				_, err := e.c.Accept(e.ctx, o.CallID, o.Agent)
				e.must(err)
				setFree(o.Agent, false)
				wait := now - c.arrived
				if acdWait := e.clock.Now().UnixMilli() - c.enqMs; math.Abs(float64(acdWait)-float64(wait.Milliseconds())) > 1 {
					res.waitMismatch++
				}
				res.waits[c.queue][c.n] = wait
				if col.measured(c.arrived) {
					pending--
					col.add(cfg.queues[c.queue].name, c.arrived, wait)
				}
				delete(calls, c.id)
				push(peakEvent{at: now + c.handle, kind: evFinish, queue: c.queue, call: c.id, agent: o.Agent})
			}
			if len(offers) < e.c.opt.DispatchBatch {
				break
			}
		}
		for qi := range waiting {
			if len(waiting[qi]) > 0 && freeIn[qi] > 0 {
				res.idleWhileWait++
			}
		}
	}

	measureTo := cfg.warmup + time.Duration(cfg.batches)*cfg.batch
	lastVerify := time.Duration(0)
	start := time.Now()
	for events.Len() > 0 {
		ev := heap.Pop(&events).(peakEvent)
		if ev.kind == evArrive && ev.at >= measureTo && pending == 0 {
			continue // every measured caller answered: no more arrivals
		}
		setNow(ev.at)
		switch ev.kind {
		case evArrive:
			enqueue(ev.queue, nextArrival[ev.queue])
			nextArrival[ev.queue] = sources[ev.queue].next()
			push(peakEvent{at: nextArrival[ev.queue].at, kind: evArrive, queue: ev.queue})
		case evFinish:
			e.must(e.c.Finish(e.ctx, ev.call, ev.agent))
			if w := cfg.queues[ev.queue].wrapup; w > 0 {
				// The script's clock counts whole milliseconds: the wrap-up ends at the finish's
				// millisecond plus the wrap-up.
				push(peakEvent{at: wrapEnd(now, w), kind: evWrapEnd, agent: ev.agent})
			} else {
				setFree(ev.agent, true)
			}
		case evWrapEnd:
			setFree(ev.agent, true)
		}
		// Wrap-ups ending in the same millisecond end in the same script run.
		for events.Len() > 0 && events[0].kind == evWrapEnd && events[0].at == now {
			setFree(heap.Pop(&events).(peakEvent).agent, true)
		}
		dispatch()
		if now-lastVerify >= 10*time.Minute {
			lastVerify = now
			e.must(e.c.Verify(e.ctx))
		}
		if ev.kind != evArrive && pending == 0 && now >= measureTo {
			break
		}
	}
	res.elapsed = time.Since(start)
	e.must(e.c.Verify(e.ctx))
	res.batches, res.total = col.batches, col.total()
	return res
}

// compareRef counts the callers whose wait through the ACD differs from the textbook M/M/n's by
// more than a millisecond (the script's clock), for the queues served by dedicated agents only.
func compareRef(cfg peakConfig, res peakResult) (compared, differ int) {
	for qi := range cfg.queues {
		got := res.waits[qi]
		ref := refWaits(cfg, qi, len(got))
		for i, w := range got {
			if w < 0 {
				continue // still waiting when the run stopped
			}
			compared++
			if d := w - ref[i]; d > time.Millisecond || d < -time.Millisecond {
				differ++
			}
		}
	}
	return compared, differ
}

// seedCenter is issue 13's staffing: the default center's two big groups, each on one queue of its
// own (private customers: 250 agents, 2,820 calls an hour; business: 200 agents, 2,256 an hour),
// with the default center's priorities and strategies.
func seedCenter(wrapPrivate, wrapBusiness time.Duration) ([]peakQueue, []peakGroup) {
	return []peakQueue{
			{name: "private", prio: 0, strategy: LongestIdle, wrapup: wrapPrivate, perHour: 2820},
			{name: "business", prio: 3, strategy: LeastCalls, wrapup: wrapBusiness, perHour: 2256},
		}, []peakGroup{
			{name: "p", count: 250, queues: []string{"private"}},
			{name: "b", count: 200, queues: []string{"business"}},
		}
}

// erlang is Erlang C's prediction for queue q of cfg, with the agents dedicated to it.
func erlang(cfg peakConfig, q peakQueue, handle time.Duration) (sl, asa float64) {
	n := dedicated(cfg, q.name)
	l := staffing.Load{CallsPerHour: q.perHour, HandleTime: handle}
	return staffing.ServiceLevel(n, l, peakSLWithin), staffing.ASA(n, l).Seconds()
}

// peakReport prints each batch and the total beside Erlang C, and returns the total's relative
// deviations from it per queue.
func peakReport(t *testing.T, cfg peakConfig, res peakResult) map[string][2]float64 {
	t.Helper()
	dev := map[string][2]float64{}
	t.Logf("%d calls simulated (%d offers) in %v; %d batches of %v after %v of warm-up; seed %d",
		res.calls, res.offers, res.elapsed.Round(time.Millisecond), cfg.batches, cfg.batch, cfg.warmup, cfg.seed)
	for _, q := range cfg.queues {
		sl, asa := erlang(cfg, q, cfg.aht)
		var sls, asas []float64
		for i, b := range res.batches {
			s := b[q.name]
			sls, asas = append(sls, s.sl()), append(asas, s.asa())
			if cfg.batches > 1 && cfg.batches <= 48 {
				t.Logf("  %-8s batch %2d: %5d calls, SL %.1f%%, ASA %5.2f s, longest wait %v", q.name, i+1, s.calls, 100*s.sl(), s.asa(), s.maxWait.Round(time.Second))
			}
		}
		s := res.total[q.name]
		line := fmt.Sprintf("%-8s %6d calls: SL %.2f%% (Erlang C %.2f%%, %+.1f%%), ASA %.2f s (Erlang C %.2f s, %+.1f%%), longest wait %v",
			q.name, s.calls, 100*s.sl(), 100*sl, 100*(s.sl()-sl)/sl, s.asa(), asa, 100*(s.asa()-asa)/asa, s.maxWait.Round(time.Second))
		if cfg.batches > 1 {
			msl, ssl := meanSD(sls)
			masa, sasa := meanSD(asas)
			line += fmt.Sprintf("; per batch SL %.2f%% ± %.2f, ASA %.2f ± %.2f s (sd); standard error of the total SL ±%.2f%%, ASA ±%.1f%%",
				100*msl, 100*ssl, masa, sasa, 100*ssl/math.Sqrt(float64(cfg.batches))/sl, 100*sasa/math.Sqrt(float64(cfg.batches))/asa)
		}
		if q.wrapup > 0 {
			wsl, wasa := erlang(cfg, q, cfg.aht+q.wrapup)
			if wasa > 1e9 {
				line += fmt.Sprintf("; Erlang C with the wrap-up in the handle time (%v): more traffic than agents, the queue grows without end", cfg.aht+q.wrapup)
			} else {
				line += fmt.Sprintf("; Erlang C with the wrap-up in the handle time (%v): SL %.2f%%, ASA %.2f s", cfg.aht+q.wrapup, 100*wsl, wasa)
			}
		}
		t.Log(line)
		dev[q.name] = [2]float64{(s.sl() - sl) / sl, (s.asa() - asa) / asa}
	}
	if res.offers == 0 {
		return dev // the textbook model alone: nothing routed
	}
	t.Logf("fairness: %d offers passed over a caller with a lower score in the agent's queues, %d passed over one who arrived earlier (priority offset ignored); %d dispatches left a caller waiting beside a free agent; %d waits disagree with the ACD's",
		res.inversions, res.rawJumps, res.idleWhileWait, res.waitMismatch)
	return dev
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	if len(xs) > 1 {
		sd = math.Sqrt(sd / float64(len(xs)-1))
	}
	return mean, sd
}

func checkFair(t *testing.T, res peakResult) {
	t.Helper()
	if res.inversions != 0 {
		t.Errorf("%d offers passed over a caller with a lower score in a queue the agent serves", res.inversions)
	}
	if res.idleWhileWait != 0 {
		t.Errorf("%d dispatches left a caller waiting beside a free agent", res.idleWhileWait)
	}
	if res.waitMismatch != 0 {
		t.Errorf("%d answers: the ACD's wait differs from the caller's", res.waitMismatch)
	}
}

// TestPeakHourShort is the CI version of issue 13's peak hour: the seed center's full staffing and
// load through the ACD, started in Erlang C's steady state, 5 minutes of warm-up and 20 measured
// minutes. Twenty minutes say little about service level and ASA (one 20-minute stretch's service
// level has a standard deviation of about 20 points, BENCHMARKS.md), so the test asserts what they
// rest on: every caller waits exactly as long as in the textbook FIFO M/M/n that Erlang C solves,
// fed the same callers. TestPeakErlangReference then checks that model against Erlang C over
// enough hours for 5% to mean something.
func TestPeakHourShort(t *testing.T) {
	qs, gs := seedCenter(0, 0)
	cfg := peakConfig{queues: qs, groups: gs, aht: 300 * time.Second, warmup: 5 * time.Minute,
		batch: 20 * time.Minute, batches: 1, seed: 13, stationary: true}
	res := runPeak(t, cfg)
	peakReport(t, cfg, res)
	checkFair(t, res)
	if res.rawJumps != 0 {
		t.Errorf("%d offers passed over an earlier caller: each agent serves one queue, so none should", res.rawJumps)
	}
	compared, differ := compareRef(cfg, res)
	t.Logf("%d callers compared with the textbook M/M/n: %d waited otherwise", compared, differ)
	if differ != 0 || compared < 1500 {
		t.Errorf("%d of %d callers waited otherwise than in a FIFO M/M/n fed the same callers", differ, compared)
	}
}

// TestPeakErlangReference runs the textbook FIFO M/M/n (refWaits's, which the ACD matches caller by
// caller) on the seed center for 500 simulated hours, without Redis: its service level and ASA must
// converge to Erlang C's, to within the sampling noise of that many hours (per hour the standard
// deviation is 12 to 19 points of service level and 150 to 160% of ASA, so 500 hours leave a
// standard error up to 1% and 7%; the tolerances are 4 of them).
func TestPeakErlangReference(t *testing.T) {
	qs, gs := seedCenter(0, 0)
	cfg := peakConfig{queues: qs, groups: gs, aht: 300 * time.Second, warmup: 30 * time.Minute,
		batch: time.Hour, batches: 500, seed: 1, stationary: true}
	dev := peakReport(t, cfg, refPeak(cfg))
	for q, d := range dev {
		if math.Abs(d[0]) > 0.04 {
			t.Errorf("%s: service level %+.1f%% from Erlang C over 500 hours, want within 4%%", q, 100*d[0])
		}
		if math.Abs(d[1]) > 0.30 {
			t.Errorf("%s: ASA %+.1f%% from Erlang C over 500 hours, want within 30%%", q, 100*d[1])
		}
	}
}

// TestPeakFairnessShared gives some agents both queues. With the default center's priorities
// (business 3 × 30 s ahead of private), an agent serving both takes a business caller who arrived up
// to 90 s after a private one still waiting; with equal priorities, never. In both, nobody ever takes
// a caller whose score is higher than one still waiting in a queue they serve.
func TestPeakFairnessShared(t *testing.T) {
	for _, tc := range []struct {
		name         string
		businessPrio int
	}{{"default priorities", 3}, {"equal priorities", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := peakConfig{
				queues: []peakQueue{
					{name: "private", prio: 0, strategy: LongestIdle, perHour: 290},
					{name: "business", prio: tc.businessPrio, strategy: LeastCalls, perHour: 170},
				},
				groups: []peakGroup{
					{name: "p", count: 20, queues: []string{"private"}},
					{name: "b", count: 10, queues: []string{"business"}},
					{name: "s", count: 10, queues: []string{"private", "business"}},
				},
				aht: 300 * time.Second, warmup: 30 * time.Minute, batch: time.Hour, batches: 1, seed: 13,
			}
			res := runPeak(t, cfg)
			for _, q := range cfg.queues {
				s := res.total[q.name]
				t.Logf("%-8s %d calls: SL %.1f%%, ASA %.1f s, longest wait %v", q.name, s.calls, 100*s.sl(), s.asa(), s.maxWait.Round(time.Second))
			}
			t.Logf("%d offers; %d passed over a caller with a lower score, %d over one who arrived earlier; %d idle-while-waiting",
				res.offers, res.inversions, res.rawJumps, res.idleWhileWait)
			checkFair(t, res)
			switch {
			case tc.businessPrio > 0 && res.rawJumps == 0:
				t.Errorf("no business caller overtook an earlier private one: the load is too light to show the weights")
			case tc.businessPrio == 0 && res.rawJumps != 0:
				t.Errorf("%d offers passed over a caller who arrived earlier, with equal priorities", res.rawJumps)
			}
		})
	}
}

// TestPeakHour is the full figure: HOTLINE_PEAK_HOURS=n simulates 30 minutes of warm-up and n
// measured hours (each one a batch; HOTLINE_PEAK_BATCH cuts them otherwise) through the ACD, and
// prints them beside Erlang C; then the same callers' waits in the textbook M/M/n, and that model
// alone over HOTLINE_PEAK_REF_HOURS hours (10,000). HOTLINE_PEAK_WRAPUP=default
// gives the queues the default center's wrap-ups (general 15 s, business 30 s); HOTLINE_PEAK_SEED
// changes the seed (1).
//
//	HOTLINE_PEAK_HOURS=1 go test ./acd -run 'TestPeakHour$' -v
func TestPeakHour(t *testing.T) {
	hours, _ := strconv.Atoi(os.Getenv("HOTLINE_PEAK_HOURS"))
	if hours <= 0 {
		t.Skip("HOTLINE_PEAK_HOURS=n runs n simulated peak hours (issue 13's figure)")
	}
	seed := int64(1)
	if s, err := strconv.ParseInt(os.Getenv("HOTLINE_PEAK_SEED"), 10, 64); err == nil {
		seed = s
	}
	var wp, wb time.Duration
	if os.Getenv("HOTLINE_PEAK_WRAPUP") == "default" {
		wp, wb = 15*time.Second, 30*time.Second
	}
	batch := time.Hour
	if d, err := time.ParseDuration(os.Getenv("HOTLINE_PEAK_BATCH")); err == nil && d > 0 {
		batch = d
	}
	qs, gs := seedCenter(wp, wb)
	cfg := peakConfig{queues: qs, groups: gs, aht: 300 * time.Second, warmup: 30 * time.Minute,
		batch: batch, batches: int(time.Duration(hours) * time.Hour / batch), seed: seed}
	res := runPeak(t, cfg)
	peakReport(t, cfg, res)
	checkFair(t, res)
	compared, differ := compareRef(cfg, res)
	t.Logf("%d callers compared with the textbook M/M/n fed the same callers: %d waited otherwise", compared, differ)
	if differ != 0 {
		t.Errorf("%d of %d callers waited otherwise than in a FIFO M/M/n", differ, compared)
	}
	refHours, _ := strconv.Atoi(os.Getenv("HOTLINE_PEAK_REF_HOURS"))
	if refHours <= 0 {
		refHours = 10000
	}
	cfg.batch, cfg.batches = time.Hour, refHours
	t.Logf("the same model without Redis (refWaits), %d hours:", refHours)
	peakReport(t, cfg, refPeak(cfg))
}
