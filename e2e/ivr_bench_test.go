package e2e

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/ivr/lookupdemo"
	"github.com/hotline-cc/hotline/prompts"
	"github.com/hotline-cc/hotline/switchboard"
)

// The IVR load test: thousands of simulated callers at once through the real default menus and the
// real switchboard, over the simulator's HTTP and WebSocket ARI at real time (prompts last their real
// durations), each pressing keys at scripted times. It measures how late prompts start.
//
//	HOTLINE_IVR_LOAD=5000 go test -run TestIVRLoad -v -timeout 10m ./e2e/
//	HOTLINE_IVR_LOAD=5000 go test -run TestIVRLoad -v -cpuprofile cpu.out ./e2e/    # then go tool pprof
//	HOTLINE_IVR_LOAD=2000 go test -run '^$' -bench BenchmarkIVRLoad -benchtime 1x ./e2e/
//
// HOTLINE_IVR_RAMP (a duration, default 10s) spreads the dialling; every caller stays longer than
// the ramp, so all of them are in the IVR at once.
const (
	envIVRLoad = "HOTLINE_IVR_LOAD"
	envIVRRamp = "HOTLINE_IVR_RAMP"
	// envIVRIdleConns ("idle[,max]"), when set, changes http.DefaultTransport's MaxIdleConnsPerHost
	// (2 by default) and MaxConnsPerHost (0, no limit), which the switchboard's ARI client uses: an
	// experiment on connection churn, not a fix.
	envIVRIdleConns = "HOTLINE_IVR_IDLECONNS"
	// envIVRGoroutines names a file for a goroutine profile taken 5 s after the last caller dialled.
	envIVRGoroutines = "HOTLINE_IVR_GOROUTINES"
)

// loadScenarios are the scenarios the load callers play, in turn: none waits for an IVR timeout (a
// prompt after a timeout is due when the timeout ends, which the measurement does not model), and
// each stays at least 20 s, queued callers listening to hold music before they hang up.
func loadScenarios() []ivrScenario {
	var out []ivrScenario
	for _, sc := range ivrScenarios() {
		switch sc.name {
		case "private_agent", "business_contract", "english_tracking_resolved", "tracking_invalid_thrice",
			"wrong_key_then_right", "lookup_error_500", "business_agent":
		default:
			continue
		}
		if last := sc.steps[len(sc.steps)-1]; last.Hold {
			sc.steps = append(slices.Clone(sc.steps[:len(sc.steps)-1]), asterisksim.Pause(15*time.Second), asterisksim.HangUp())
		}
		out = append(out, sc)
	}
	return out
}

// promptDelay is how late one prompt (or hold music) started: after the moment it was due, which is
// when the prompt before it was due to end or when the key that led to it reached the app.
type promptDelay struct {
	media string
	after string // what it was due after: "answer", "key" or "prompt"
	delay time.Duration
}

// loadReport is what a load run measured.
type loadReport struct {
	callers, answered, peak int
	prompts                 []time.Duration // every prompt's delay, sorted
	byCause                 map[string][]time.Duration
	stops                   []time.Duration // key → the prompt it interrupted stopped, sorted
	answers                 []time.Duration // dial → answered, sorted
	worst                   []promptDelay
	cpu                     time.Duration // user+system of the whole process during the run
	busiest                 time.Duration // CPU time used in the busiest second
	wall                    time.Duration
	peakHeap, maxRSS        uint64
	enqueued                int
	sessions                map[ivr.Outcome]int
	loadBefore, loadAfter   string // /proc/loadavg: other processes share the machine
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func over(sorted []time.Duration, d time.Duration) int {
	i, _ := slices.BinarySearch(sorted, d+1)
	return len(sorted) - i
}

func (r loadReport) String() string {
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	}
	s := fmt.Sprintf("callers %d (answered %d, at most %d at once), wall %v, CPU %v (%.0f%% of one core; busiest second %.0f%%), peak heap %d MiB, max RSS %d MiB\n",
		r.callers, r.answered, r.peak, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond),
		100*r.cpu.Seconds()/r.wall.Seconds(), 100*r.busiest.Seconds(), r.peakHeap>>20, r.maxRSS>>20)
	s += fmt.Sprintf("prompts %d: p50 %s p99 %s max %s; > 100 ms: %d; > 500 ms: %d\n",
		len(r.prompts), ms(pct(r.prompts, 0.5)), ms(pct(r.prompts, 0.99)), ms(pct(r.prompts, 1)), over(r.prompts, 100*time.Millisecond), over(r.prompts, 500*time.Millisecond))
	for _, after := range []string{"answer", "key", "prompt"} {
		d := r.byCause[after]
		s += fmt.Sprintf("  due after %s: %d: p50 %s p99 %s max %s; > 100 ms: %d\n", after, len(d),
			ms(pct(d, 0.5)), ms(pct(d, 0.99)), ms(pct(d, 1)), over(d, 100*time.Millisecond))
	}
	s += fmt.Sprintf("barge-in stops %d: p50 %s p99 %s max %s\n", len(r.stops), ms(pct(r.stops, 0.5)), ms(pct(r.stops, 0.99)), ms(pct(r.stops, 1)))
	s += fmt.Sprintf("dial → answer %d: p50 %s p99 %s max %s\n", len(r.answers), ms(pct(r.answers, 0.5)), ms(pct(r.answers, 0.99)), ms(pct(r.answers, 1)))
	s += fmt.Sprintf("IVR outcomes %v, Enqueue calls %d\n", r.sessions, r.enqueued)
	s += fmt.Sprintf("load average before: %s, after: %s\n", r.loadBefore, r.loadAfter)
	for _, w := range r.worst {
		s += fmt.Sprintf("  late: %s %s (due after %s)\n", ms(w.delay), w.media, w.after)
	}
	return s
}

// delays walks one caller's timeline: a prompt is due when the call is answered (the first), when
// the prompt before it was due to end, or when a key reached the app, whichever is last.
func delays(marks []asterisksim.Mark) (prompts []promptDelay, stops []time.Duration) {
	var (
		due, lastKey time.Time
		after        string
	)
	for _, m := range marks {
		switch m.Kind {
		case asterisksim.MarkUp:
			due, after = m.At, "answer"
		case asterisksim.MarkKey:
			due, lastKey, after = m.At, m.At, "key"
		case asterisksim.MarkFinished:
			if m.Due.After(due) {
				due, after = m.Due, "prompt"
			}
		case asterisksim.MarkStopped:
			if !lastKey.IsZero() {
				stops = append(stops, m.At.Sub(lastKey))
			}
		case asterisksim.MarkStarted, asterisksim.MarkMOH:
			media := m.Value
			if m.Kind == asterisksim.MarkMOH {
				media = "moh"
			}
			if !due.IsZero() {
				prompts = append(prompts, promptDelay{media: media, after: after, delay: m.At.Sub(due)})
			}
			due = time.Time{}
		}
	}
	return prompts, stops
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the first three fields of /proc/loadavg ("" elsewhere).
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	return strings.Join(f[:min(3, len(f))], " ")
}

func maxRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return uint64(ru.Maxrss) << 10 // KiB on Linux
}

// sampler records, every 100 ms, the live heap and the process's CPU time: peak heap, and the
// busiest second's CPU use (whether the process was CPU-bound at its peak).
func sampler(ctx context.Context) (peak func() (heap uint64, busiest time.Duration)) {
	var (
		heapMax uint64
		cpuMax  time.Duration
	)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var window []time.Duration // CPU time at each of the last 11 ticks
		for {
			metrics.Read(sample)
			heapMax = maxOf(heapMax, sample[0].Value.Uint64())
			window = append(window, cpuTime())
			if len(window) > 11 {
				window = window[1:]
			}
			if len(window) == 11 {
				cpuMax = max(cpuMax, window[10]-window[0])
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, time.Duration) {
		<-done
		return heapMax, cpuMax
	}
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// runIVRLoad dials n callers over ramp and waits for every call to end.
func runIVRLoad(tb testing.TB, n int, ramp time.Duration) loadReport {
	tb.Helper()
	if v := os.Getenv(envIVRIdleConns); v != "" {
		idle, maxConns, _ := strings.Cut(v, ",")
		n, err := strconv.Atoi(idle)
		m, err2 := strconv.Atoi(cmp.Or(maxConns, "0"))
		if err != nil || err2 != nil {
			tb.Fatalf("%s=%q: want idle[,max] connections per host", envIVRIdleConns, v)
		}
		tr := http.DefaultTransport.(*http.Transport)
		oldIdle, oldMax := tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost
		tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = n, m
		tb.Cleanup(func() { tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = oldIdle, oldMax })
	}
	tg := aritest.NewSimTarget(tb, asterisksim.Config{TimeScale: 1, Sounds: prompts.Durations()})
	lookup := httptest.NewServer(lookupdemo.Handler())
	tb.Cleanup(lookup.Close)

	menus := loadDefaultMenus(tb)
	log := testLog()
	flows := &routedFlows{
		byBackend: map[string]*ivr.Flows{backendDemo: ivr.NewFlows(menus, &ivr.HTTPLookup{Base: lookup.URL}, log)},
		backend:   map[string]string{}, sessions: map[string]*session{},
	}
	acd := newRecordingACD()
	sb, err := switchboard.New(switchboard.Config{
		ARIURL: tg.ARIURL(), User: tg.User, Password: tg.Password, App: tg.App, Instance: "ivr-load",
	}, switchboard.Deps{Flows: flows, ACD: acd, Phones: noPhones{}, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = sb.Run(ctx); close(stopped) }()
	tb.Cleanup(func() { cancel(); <-stopped })
	tg.WaitApp(tb, tg.App)

	scenarios := loadScenarios()
	loadBefore := loadAvg()
	runtime.GC()
	hctx, hcancel := context.WithCancel(context.Background())
	peaks := sampler(hctx)
	cpu0, start := cpuTime(), time.Now()

	type placed struct {
		c            *asterisksim.Caller
		dialled, end time.Time
	}
	calls := make([]placed, n)
	var wg sync.WaitGroup
	interval := ramp / time.Duration(max(n, 1))
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d) // pacing the dialling, not synchronisation
		}
		sc := scenarios[i%len(scenarios)]
		dialled := time.Now()
		c, err := tg.Sim.Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: sc.number, Name: sc.name, Script: sc.steps,
			NoAudio: true, Timeline: true})
		if err != nil {
			tb.Fatalf("dial caller %d: %v", i, err)
		}
		calls[i] = placed{c: c, dialled: dialled}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-c.Done()
			calls[i].end = time.Now()
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	if path := os.Getenv(envIVRGoroutines); path != "" {
		// A picture of where the goroutines wait once every caller is in, for finding bottlenecks.
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			if f, err := os.Create(path); err == nil {
				_ = pprof.Lookup("goroutine").WriteTo(f, 1)
				_ = f.Close()
			}
		}
	}
	select {
	case <-finished:
	case <-time.After(ramp + 3*time.Minute):
		tb.Fatalf("the callers did not all finish within %v", ramp+3*time.Minute)
	}
	rep := loadReport{callers: n, wall: time.Since(start), cpu: cpuTime() - cpu0, sessions: map[ivr.Outcome]int{},
		loadBefore: loadBefore, loadAfter: loadAvg()}
	hcancel()
	rep.peakHeap, rep.busiest = peaks()
	rep.maxRSS = maxRSS()

	var all []promptDelay
	type edge struct {
		at time.Time
		d  int
	}
	var edges []edge
	for _, p := range calls {
		marks := p.c.Timeline()
		if len(marks) > 0 && marks[0].Kind == asterisksim.MarkUp {
			rep.answered++
			rep.answers = append(rep.answers, marks[0].At.Sub(p.dialled))
			edges = append(edges, edge{marks[0].At, 1}, edge{p.end, -1})
		}
		pd, st := delays(marks)
		all = append(all, pd...)
		rep.stops = append(rep.stops, st...)
		if s := flows.session(p.c.ChannelID()); s != nil {
			select {
			case <-s.done:
				rep.sessions[s.res.Outcome]++
			default:
				rep.sessions["unfinished"]++
			}
		}
	}
	slices.SortFunc(edges, func(a, b edge) int { return a.at.Compare(b.at) })
	for cur := 0; len(edges) > 0; edges = edges[1:] {
		cur += edges[0].d
		rep.peak = max(rep.peak, cur)
	}
	rep.byCause = map[string][]time.Duration{}
	for _, d := range all {
		rep.prompts = append(rep.prompts, d.delay)
		rep.byCause[d.after] = append(rep.byCause[d.after], d.delay)
	}
	for _, d := range rep.byCause {
		slices.Sort(d)
	}
	slices.Sort(rep.prompts)
	slices.Sort(rep.stops)
	slices.Sort(rep.answers)
	slices.SortFunc(all, func(a, b promptDelay) int { return int(b.delay - a.delay) })
	rep.worst = all[:min(5, len(all))]
	acd.mu.Lock()
	for _, q := range acd.enqueued {
		rep.enqueued += len(q)
	}
	acd.mu.Unlock()
	return rep
}

func loadParams(tb testing.TB, defaultN int) (int, time.Duration) {
	n := defaultN
	if v := os.Getenv(envIVRLoad); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			tb.Fatalf("%s=%q: want a number of callers", envIVRLoad, v)
		}
	}
	ramp := 10 * time.Second
	if v := os.Getenv(envIVRRamp); v != "" {
		var err error
		if ramp, err = time.ParseDuration(v); err != nil {
			tb.Fatalf("%s=%q: %v", envIVRRamp, v, err)
		}
	}
	return n, ramp
}

// TestIVRLoad runs only when HOTLINE_IVR_LOAD names a number of callers.
func TestIVRLoad(t *testing.T) {
	if os.Getenv(envIVRLoad) == "" {
		t.Skipf("set %s=5000 to run the IVR load test", envIVRLoad)
	}
	n, ramp := loadParams(t, 0)
	rep := runIVRLoad(t, n, ramp)
	t.Logf("GOMAXPROCS %d, %d callers dialled over %v:\n%s", runtime.GOMAXPROCS(0), n, ramp, rep)
	if rep.answered != n {
		t.Errorf("%d of %d callers were answered", rep.answered, n)
	}
}

// BenchmarkIVRLoad runs one wave of HOTLINE_IVR_LOAD callers (default 1000) per iteration.
func BenchmarkIVRLoad(b *testing.B) {
	n, ramp := loadParams(b, 1000)
	for b.Loop() {
		rep := runIVRLoad(b, n, ramp)
		b.ReportMetric(float64(pct(rep.prompts, 0.5))/1e6, "p50-ms")
		b.ReportMetric(float64(pct(rep.prompts, 0.99))/1e6, "p99-ms")
		b.ReportMetric(float64(pct(rep.prompts, 1))/1e6, "max-ms")
		b.ReportMetric(float64(over(rep.prompts, 100*time.Millisecond)), "late100ms")
		b.ReportMetric(rep.cpu.Seconds(), "cpu-s")
		b.Logf("%s", rep)
	}
}
