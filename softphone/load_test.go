package softphone_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline-cc/hotline/internal/pionloop"
	"github.com/hotline-cc/hotline/internal/promhist"
	"github.com/hotline-cc/hotline/softphone"
)

// TestLegsLoad is the gateway's load test, off unless asked for:
//
//	HOTLINE_LEGS_LOAD=100,500,1000 go test -run TestLegsLoad -v -timeout 30m ./softphone/
//
// For each N, N legs relay at the real packet rate: a fake Asterisk sends every leg 50 packets a
// second of 172-byte RTP (each carrying its send time), the gateway relays them into the agent's
// PeerConnection, a pion "browser" sends each packet back on its own track (so 50 packets a second
// the other way), and the gateway relays that to the leg and back to the fake Asterisk, which
// measures the round trip. Beside it, in the same run and at the same N and rate, a plain UDP echo
// stands where the gateway was: its round trip is the path without the gateway.
//
// The gateway (or the echo) runs in this process on one core: GOMAXPROCS=1 and, on a machine with
// two cores or more, pinned to CPU 0 (taskset). The fake Asterisk and the pion browsers run in a
// second process (this test binary again), pinned to the other CPUs with GOMAXPROCS as many, so
// they do not take the gateway's core (on two cores the load process has one core too, and at
// 1,000 legs it needs more than that: its pion browsers do the gateway's SRTP work again, and its
// fake Asterisk an echo's); both processes' CPU use is reported (HOTLINE_LEGS_PIN=0: no pinning and
// GOMAXPROCS=1 for both, for a machine that others use too: the scheduler then picks the idle
// core). HOTLINE_LEGS_SECONDS sets how long each phase runs (10 s); HOTLINE_LEGS_CPUPROFILE=file
// profiles this process during the gateway phase of the last N; HOTLINE_LEGS_DEBUG=1 shows the load
// process's output, its legs with losses and the worst round trip of each 100 ms.
//
// It reports and does not judge: loss, latency and CPU depend on the machine and on what else
// runs on it (the "waited for a CPU" figures say how much the scheduler held the test back).
func TestLegsLoad(t *testing.T) {
	if os.Getenv(loadChildEnv) != "" {
		loadChild(t)
		return
	}
	spec := os.Getenv("HOTLINE_LEGS_LOAD")
	if spec == "" {
		t.Skip("set HOTLINE_LEGS_LOAD=100,500,1000 to run the legs load test")
	}
	var ns []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("HOTLINE_LEGS_LOAD=%q: want a list of leg counts", spec)
		}
		ns = append(ns, n)
	}
	seconds := 10.0
	if s := os.Getenv("HOTLINE_LEGS_SECONDS"); s != "" {
		var err error
		if seconds, err = strconv.ParseFloat(s, 64); err != nil || seconds <= 0 {
			t.Fatalf("HOTLINE_LEGS_SECONDS=%q", s)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	childCPU, childProcs := "", 1
	if runtime.NumCPU() >= 2 && os.Getenv("HOTLINE_LEGS_PIN") != "0" {
		if out, err := exec.Command("taskset", "-a", "-p", "-c", "0", strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
			t.Logf("not pinned to CPU 0 (taskset: %v: %s)", err, out)
		} else {
			childCPU, childProcs = fmt.Sprintf("1-%d", runtime.NumCPU()-1), runtime.NumCPU()-1
		}
	}
	t.Logf("gateway process: GOMAXPROCS=%d, CPU 0 pinned: %v; load process: GOMAXPROCS=%d, CPUs %q; %d CPUs; %.0f s a phase",
		runtime.GOMAXPROCS(0), childCPU != "", childProcs, childCPU, runtime.NumCPU(), seconds)
	for i, n := range ns {
		profile := ""
		if i == len(ns)-1 {
			profile = os.Getenv("HOTLINE_LEGS_CPUPROFILE")
		}
		t.Run(fmt.Sprintf("legs=%d", n), func(t *testing.T) { legsLoad(t, n, seconds, childCPU, childProcs, profile) })
	}
}

const (
	loadChildEnv = "HOTLINE_LEGS_LOAD_CHILD"
	loadRate     = 50 // packets a second, each way, per leg
	loadPayload  = 160
	loadPerSock  = 50 // legs per fake-Asterisk socket
)

// loadMsg is the parent ↔ child protocol, one JSON value at a time over stdin and fd 3.
type loadMsg struct {
	Op      string           `json:"op"`
	N       int              `json:"n,omitempty"`
	SDP     []string         `json:"sdp,omitempty"`
	Peers   []netip.AddrPort `json:"peers,omitempty"`   // child: the fake Asterisk sockets
	Targets []netip.AddrPort `json:"targets,omitempty"` // parent: where leg i's packets go
	Seconds float64          `json:"seconds,omitempty"`
	Result  *loadResult      `json:"result,omitempty"`
	Err     string           `json:"err,omitempty"`
}

// loadResult is one phase as the fake Asterisk saw it.
type loadResult struct {
	Sent, Received, Late uint64
	RTTp50, RTTp99       time.Duration
	RTTmax               time.Duration
	DownP50, DownP99     time.Duration // fake Asterisk → browser, the first half of the round trip
	CPU                  time.Duration // the child's CPU time during the phase
	Wait                 time.Duration // the child's threads' time runnable but not running
	Wall                 time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// schedWait is how long this process's threads waited for a CPU while runnable (run_delay in
// /proc/self/task/*/schedstat): time the machine's other work took from the test.
func schedWait() time.Duration {
	dirs, _ := os.ReadDir("/proc/self/task")
	var sum time.Duration
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/self/task/" + d.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

func legsLoad(t *testing.T, n int, seconds float64, childCPU string, childProcs int, profile string) {
	args := []string{"-test.run", "^TestLegsLoad$", "-test.count=1"}
	bin := os.Args[0]
	if childCPU != "" {
		args = append([]string{"-c", childCPU, bin}, args...)
		bin = "taskset"
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), loadChildEnv+"=1", "GOMAXPROCS="+strconv.Itoa(childProcs))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{w}
	var childOut strings.Builder
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
		r.Close()
		if t.Failed() || os.Getenv("HOTLINE_LEGS_DEBUG") != "" {
			t.Logf("load process output:\n%s", childOut.String())
		}
	}()
	enc, dec := json.NewEncoder(stdin), json.NewDecoder(r)
	call := func(m loadMsg) loadMsg {
		t.Helper()
		if err := enc.Encode(m); err != nil {
			t.Fatalf("to the load process: %v", err)
		}
		var reply loadMsg
		if err := dec.Decode(&reply); err != nil {
			t.Fatalf("from the load process (%s): %v", m.Op, err)
		}
		if reply.Err != "" {
			t.Fatalf("load process, %s: %s", m.Op, reply.Err)
		}
		return reply
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	gw, err := softphone.NewGateway(softphone.GatewayConfig{ICEAddr: netip.MustParseAddrPort("127.0.0.1:0"), LoopbackOnly: true, Registerer: reg}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()

	setupStart := time.Now()
	offers := call(loadMsg{Op: "offers", N: n})
	answers := make([]string, n)
	legs := make([]*softphone.Leg, n)
	legAddrs := make([]netip.AddrPort, n)
	var wg sync.WaitGroup
	var failed atomic.Value
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			agent := fmt.Sprintf("load-%d", i)
			a, err := gw.Negotiate(ctx, agent, offers.SDP[i])
			if err != nil {
				failed.Store(err)
				return
			}
			answers[i] = a
			leg, err := gw.OpenLeg(agent, "call-"+agent)
			if err != nil {
				failed.Store(err)
				return
			}
			leg.SetRemote(offers.Peers[i/loadPerSock])
			legs[i], legAddrs[i] = leg, leg.LocalAddr()
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("set up %d legs: %v", n, err)
	}
	defer func() {
		for _, leg := range legs {
			leg.Close()
		}
	}()
	call(loadMsg{Op: "answers", SDP: answers})
	t.Logf("N=%d: %d PeerConnections connected and legs open in %v", n, n, time.Since(setupStart).Round(time.Millisecond))

	// The echo: one socket and goroutine per leg, as the gateway has.
	echoAddrs := make([]netip.AddrPort, n)
	for i := range n {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		echoAddrs[i] = c.LocalAddr().(*net.UDPAddr).AddrPort()
		go func() {
			buf := make([]byte, 1500)
			for {
				k, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				_, _ = c.WriteToUDPAddrPort(buf[:k], from)
			}
		}()
	}

	// counts sums the legs' packets and losses as the gateway saw them, both directions.
	counts := func() (packets, lostTo, lostFrom uint64) {
		for _, leg := range legs {
			st := leg.Stats()
			packets += st.ToAgent.Packets + st.FromAgent.Packets
			lostTo += st.ToAgent.Lost
			lostFrom += st.FromAgent.Lost
		}
		return
	}
	phase := func(targets []netip.AddrPort, prof string) (loadResult, time.Duration, time.Duration) {
		var stop func()
		if prof != "" {
			stop = startCPUProfile(t, prof)
		}
		cpu0, wait0 := cpuTime(), schedWait()
		res := call(loadMsg{Op: "run", Targets: targets, Seconds: seconds}).Result
		cpu, wait := cpuTime()-cpu0, schedWait()-wait0
		if stop != nil {
			stop()
		}
		return *res, cpu, wait
	}
	call(loadMsg{Op: "run", Targets: legAddrs, Seconds: 1}) // warm-up
	echo, echoCPU, echoWait := phase(echoAddrs, "")
	// The gateway's loss counters see the echo phase's pause as a gap: count from a second run.
	call(loadMsg{Op: "run", Targets: legAddrs, Seconds: 0.2})
	p0, lt0, lf0 := counts()
	inGw0 := relayBuckets(t, reg)
	relay, relayCPU, relayWait := phase(legAddrs, profile)
	p1, lt1, lf1 := counts()
	inGw := relayBuckets(t, reg)
	relayed, lostTo, lostFrom := p1-p0, lt1-lt0, lf1-lf0
	report := func(name string, r loadResult, cpu, wait time.Duration, hopPackets uint64) {
		wall := r.Wall.Seconds()
		lost := r.Sent - r.Received
		t.Logf("N=%d %-7s sent %d, back %d (%.0f/s), lost %d (%.3f%%), late(>1s) %d; RTT p50 %v p99 %v max %v (to the browser: p50 %v p99 %v); relayed %.0f pkt/s; CPU: this process %.0f%% of a core (%.0f relayed pkt per CPU-second; waited for a CPU %.0f%% of the time), load process %.0f%% (waited %.0f%%)",
			n, name, r.Sent, r.Received, float64(r.Received)/wall, lost, 100*float64(lost)/float64(max(r.Sent, 1)), r.Late,
			r.RTTp50.Round(time.Microsecond), r.RTTp99.Round(time.Microsecond), r.RTTmax.Round(time.Microsecond), r.DownP50, r.DownP99,
			float64(hopPackets)/wall, 100*cpu.Seconds()/wall, float64(hopPackets)/cpu.Seconds(), 100*wait.Seconds()/wall, 100*r.CPU.Seconds()/wall, 100*r.Wait.Seconds()/wall)
	}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		t.Logf("N=%d load average after the run: %s", n, strings.TrimSpace(string(la)))
	}
	report("echo", echo, echoCPU, echoWait, echo.Received)
	report("gateway", relay, relayCPU, relayWait, relayed)
	for _, dir := range []string{softphone.DirToAgent, softphone.DirFromAgent} {
		h := inGw[dir].Minus(inGw0[dir])
		t.Logf("N=%d in the gateway %-10s %d packets, read to write p50 %v p99 %v p99.9 %v (hotline_softphone_relay_seconds, within its buckets)",
			n, dir, h.Count, h.Quantile(0.5), h.Quantile(0.99), h.Quantile(0.999))
	}
	t.Logf("N=%d RESULT: gateway relayed %.0f pkt/s (both directions), loss %d (the gateway saw %d lost from Asterisk and %d missing in the browsers' echo, which carries the numbers of what they received); added RTT p99 %v (gateway %v − echo %v), p50 %v; echo %.0f pkt/s; gateway CPU %.0f%%, echo CPU %.0f%%",
		n, float64(relayed)/relay.Wall.Seconds(), relay.Sent-relay.Received, lostTo, lostFrom,
		(relay.RTTp99 - echo.RTTp99).Round(time.Microsecond), relay.RTTp99.Round(time.Microsecond), echo.RTTp99.Round(time.Microsecond),
		(relay.RTTp50 - echo.RTTp50).Round(time.Microsecond), float64(echo.Received)/echo.Wall.Seconds(),
		100*relayCPU.Seconds()/relay.Wall.Seconds(), 100*echoCPU.Seconds()/echo.Wall.Seconds())
}

func startCPUProfile(t *testing.T, path string) (stop func()) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// ---- the load process: fake Asterisk and pion browsers ----

func loadChild(t *testing.T) {
	out := os.NewFile(3, "parent")
	enc, dec := json.NewEncoder(out), json.NewDecoder(os.Stdin)
	var browsers []*loadBrowser
	var peers []*net.UDPConn
	defer func() {
		for _, b := range browsers {
			b.pc.Close()
		}
		for _, c := range peers {
			c.Close()
		}
	}()
	for {
		var m loadMsg
		if err := dec.Decode(&m); err != nil {
			return // the parent is done
		}
		reply := loadMsg{Op: m.Op}
		switch m.Op {
		case "offers":
			for i := range m.N {
				b, offer, err := newLoadBrowser()
				if err != nil {
					reply.Err = err.Error()
					break
				}
				browsers = append(browsers, b)
				reply.SDP = append(reply.SDP, offer)
				if i%loadPerSock == 0 {
					c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
					if err != nil {
						reply.Err = err.Error()
						break
					}
					_ = c.SetReadBuffer(4 << 20)
					peers = append(peers, c)
					reply.Peers = append(reply.Peers, c.LocalAddr().(*net.UDPAddr).AddrPort())
				}
			}
		case "answers":
			for i, sdp := range m.SDP {
				if err := browsers[i].pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
					reply.Err = err.Error()
					break
				}
			}
			deadline := time.After(60 * time.Second)
			for i := 0; i < len(browsers) && reply.Err == ""; i++ {
				select {
				case <-browsers[i].connected:
				case <-deadline:
					reply.Err = fmt.Sprintf("browser %d never connected", i)
				}
			}
		case "run":
			reply.Result = runLoad(peers, m.Targets, time.Duration(m.Seconds*float64(time.Second)))
		default:
			reply.Err = "unknown op " + m.Op
		}
		if err := enc.Encode(reply); err != nil {
			t.Fatal(err)
		}
	}
}

// loadSeqBase is where the next run's sequence numbers start (the load process's only state
// across runs besides its sockets and browsers).
var loadSeqBase int

// runLoad sends every target 50 packets a second for d, spread evenly over each 20 ms, and
// measures the round trips of what comes back. Packet: RTP header, then the leg (4 bytes), the
// packet's number (4), its send time (8, UnixNano), padding to 160 bytes of payload.
func runLoad(peers []*net.UDPConn, targets []netip.AddrPort, d time.Duration) *loadResult {
	n := len(targets)
	frames := int(d / (time.Second / loadRate))
	var received, late, want atomic.Uint64
	want.Store(^uint64(0))
	allBack := make(chan struct{})
	var allBackOnce sync.Once
	got := make([][]bool, n) // per leg, per packet number: duplicates are not counted
	for i := range got {
		got[i] = make([]bool, frames)
	}
	var mu sync.Mutex
	debug := os.Getenv("HOTLINE_LEGS_DEBUG") != ""
	worst := make([]time.Duration, int(d/(100*time.Millisecond))+1) // the worst round trip of each 100 ms, for debugging
	start := time.Now()
	rtts := make([]time.Duration, 0, n*frames)
	var wg sync.WaitGroup
	stopRead := make(chan struct{})
	for _, c := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			local := make([]time.Duration, 0, 4096)
			flush := func() {
				mu.Lock()
				rtts = append(rtts, local...)
				mu.Unlock()
				local = local[:0]
			}
			defer flush()
			for {
				select {
				case <-stopRead:
					return
				default:
				}
				_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				k, err := c.Read(buf)
				if err != nil {
					continue
				}
				now := time.Now()
				var h rtp.Header
				hl, err := h.Unmarshal(buf[:k])
				if err != nil || k-hl < 16 {
					continue
				}
				p := buf[hl:k]
				leg, num := int(binary.BigEndian.Uint32(p)), int(binary.BigEndian.Uint32(p[4:]))
				if leg >= n || num >= frames || got[leg][num] {
					continue
				}
				got[leg][num] = true // one reader per socket, and a leg's packets come back to one socket
				sentAt := time.Unix(0, int64(binary.BigEndian.Uint64(p[8:])))
				rtt := now.Sub(sentAt)
				if w := int(sentAt.Sub(start) / (100 * time.Millisecond)); debug && w >= 0 && w < len(worst) {
					mu.Lock()
					worst[w] = max(worst[w], rtt)
					mu.Unlock()
				}
				if rtt > time.Second {
					late.Add(1)
				}
				if received.Add(1) >= want.Load() {
					allBackOnce.Do(func() { close(allBack) })
				}
				if local = append(local, rtt); len(local) == cap(local) {
					flush()
				}
			}
		}()
	}

	downHist.reset()
	cpu0, wait0 := cpuTime(), schedWait()
	// Each leg has its slot in the 20 ms frame; a 1 ms ticker sends the slots that are due.
	pkts := make([][]byte, n)
	for i := range n {
		h := rtp.Header{Version: 2, PayloadType: 0, SSRC: uint32(i + 1), SequenceNumber: uint16(i * 7), Timestamp: uint32(i * 1000)}
		b, _ := h.Marshal()
		pkts[i] = append(b, make([]byte, loadPayload)...)
	}
	frame := time.Second / loadRate
	base := loadSeqBase
	var sent uint64
	tick := time.NewTicker(time.Millisecond)
	next := 0 // next packet to send: frame next/n, leg next%n
	for next < frames*n {
		now := <-tick.C
		due := int(float64(now.Sub(start)) / float64(frame) * float64(n))
		for ; next < due && next < frames*n; next++ {
			f, i := next/n, next%n
			b := pkts[i]
			// Numbering goes on across runs: SRTP drops a sequence number it has seen (replay).
			binary.BigEndian.PutUint16(b[2:], uint16(i*7+base+f))
			binary.BigEndian.PutUint32(b[4:], uint32(i*1000+(base+f)*loadPayload))
			p := b[12:]
			binary.BigEndian.PutUint32(p, uint32(i))
			binary.BigEndian.PutUint32(p[4:], uint32(f))
			binary.BigEndian.PutUint64(p[8:], uint64(time.Now().UnixNano()))
			if _, err := peers[i/loadPerSock].WriteToUDPAddrPort(b, targets[i]); err == nil {
				sent++
			}
		}
	}
	tick.Stop()
	wall := time.Since(start)
	loadSeqBase += frames
	// Let the last packets come back (after a second they are lost).
	if want.Store(sent); received.Load() >= sent {
		allBackOnce.Do(func() { close(allBack) })
	}
	select {
	case <-allBack:
	case <-time.After(time.Second):
	}
	cpu, wait := cpuTime()-cpu0, schedWait()-wait0
	close(stopRead)
	wg.Wait()
	if debug {
		for i := range got {
			k := 0
			for _, g := range got[i] {
				if g {
					k++
				}
			}
			if k < frames {
				fmt.Fprintf(os.Stderr, "leg %d: %d/%d\n", i, k, frames)
			}
		}
		fmt.Fprintf(os.Stderr, "worst RTT by 100 ms: %v\n", worst)
	}
	slices.Sort(rtts)
	res := &loadResult{Sent: sent, Received: received.Load(), Late: late.Load(), CPU: cpu, Wait: wait, Wall: wall}
	if len(rtts) > 0 {
		res.RTTp50, res.RTTp99, res.RTTmax = rtts[len(rtts)/2], rtts[len(rtts)*99/100], rtts[len(rtts)-1]
	}
	res.DownP50, res.DownP99 = downHist.quantile(.5), downHist.quantile(.99)
	return res
}

// downHist is the browsers' view: the time from the fake Asterisk's send to the browser, in
// 100 µs buckets up to 2 s.
var downHist latencyHist

type latencyHist struct{ b [20001]atomic.Uint64 }

const latencyBucket = 100 * time.Microsecond

func (h *latencyHist) add(d time.Duration) { h.b[min(max(int(d/latencyBucket), 0), len(h.b)-1)].Add(1) }

func (h *latencyHist) reset() {
	for i := range h.b {
		h.b[i].Store(0)
	}
}

func (h *latencyHist) quantile(q float64) time.Duration {
	var n uint64
	for i := range h.b {
		n += h.b[i].Load()
	}
	rank, seen := uint64(q*float64(n)), uint64(0)
	for i := range h.b {
		if seen += h.b[i].Load(); seen > rank {
			return time.Duration(i+1) * latencyBucket
		}
	}
	return 0
}

// loadBrowser is a pion "agent browser" that sends back every packet it hears, on its own track.
type loadBrowser struct {
	pc        *webrtc.PeerConnection
	connected chan struct{}
}

func newLoadBrowser() (*loadBrowser, string, error) {
	pc, err := pionloop.LoadAPI().NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", err
	}
	b := &loadBrowser{pc: pc, connected: make(chan struct{})}
	track, err := webrtc.NewTrackLocalStaticRTP(pionloop.PCMU, "mic", "agent")
	if err != nil {
		return nil, "", err
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		return nil, "", err
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			k, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			var h rtp.Header
			if hl, err := h.Unmarshal(buf[:k]); err == nil && k-hl >= 16 {
				downHist.add(time.Since(time.Unix(0, int64(binary.BigEndian.Uint64(buf[hl+8:])))))
			}
			_, _ = track.Write(buf[:k])
		}
	})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(b.connected) })
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return nil, "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, "", err
	}
	<-gathered
	return b, pc.LocalDescription().SDP, nil
}

// relayBuckets reads hotline_softphone_relay_seconds by direction.
func relayBuckets(t *testing.T, reg *prometheus.Registry) map[string]promhist.Buckets {
	t.Helper()
	b, err := promhist.Gather(reg, "hotline_softphone_relay_seconds", "direction")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
