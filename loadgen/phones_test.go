package loadgen_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/loadgen"
)

// TestRunPhones: the crew's agents with WebRTC phones on the gateway, a short ramp and window:
// audio flows both ways through the gateway with nothing lost on loopback, and the window's
// counts agree with each other. The phones run in this process, and in a child process of their
// own (this test binary again, as `hotline loadgen-phones`), negotiating through its pipes.
func TestRunPhones(t *testing.T) {
	for _, tc := range []struct {
		name string
		dial func(ctx context.Context, gw loadgen.Negotiator, agents []string) (loadgen.PhoneSet, func() error, error)
	}{
		{"here", func(ctx context.Context, gw loadgen.Negotiator, agents []string) (loadgen.PhoneSet, func() error, error) {
			p, err := loadgen.DialPhones(ctx, gw, agents)
			if err != nil {
				return nil, nil, err
			}
			return p, func() error { p.Close(); return nil }, nil
		}},
		{"child process", func(ctx context.Context, gw loadgen.Negotiator, agents []string) (loadgen.PhoneSet, func() error, error) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), phonesChildEnv+"=1")
			cmd.Stderr = os.Stderr
			cpu := runtime.NumCPU() - 1
			p, err := loadgen.StartPhoneProcess(ctx, cmd, cpu, gw, agents)
			if err != nil {
				return nil, nil, err
			}
			if got := allowedCPUs(t, cmd.Process.Pid); got != strconv.Itoa(cpu) {
				t.Errorf("the phones' process may run on CPUs %q, want %d only", got, cpu)
			}
			if got, all := allowedCPUs(t, os.Getpid()), allowedCPUs(t, cmd.Process.Pid); got == all && runtime.NumCPU() > 1 {
				t.Errorf("this process is pinned as its child is, to %q", got)
			}
			return p, p.Close, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { testRunPhones(t, tc.dial) })
	}
}

func testRunPhones(t *testing.T, dial func(ctx context.Context, gw loadgen.Negotiator, agents []string) (loadgen.PhoneSet, func() error, error)) {
	// Talks long enough (0.1-1.5 s, 3 calls/s on 5 agents) that the window's once-a-second samples
	// find someone on a call: at 0.1-0.6 s both samples found nobody once in CI.
	srv, _ := startCrewServer(t, "loadgen-phones", 5, 1500*time.Millisecond)
	waitCrew(t, srv, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	phones, hangUp, err := dial(ctx, srv.Gateway(), srv.CrewAgents())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := hangUp(); err != nil {
			t.Errorf("hanging the phones up: %v", err)
		}
	}()
	res, err := loadgen.Run(ctx, srv, loadgen.Config{Rate: 3, Duration: 3 * time.Second, Ramp: 3, RampRate: 10, Phones: phones})
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, 9)
	w := res.Window
	if w == nil {
		t.Fatal("no window measured")
	}
	t.Log(w)
	if w.Setups == 0 || w.Setups > res.Connected || w.OnCallMax == 0 || w.OnCallMax > 5 || w.HearingMax == 0 || w.HearingMax > 5 || w.Samples == 0 {
		t.Errorf("window %+v", w)
	}
	for name, f := range map[string]loadgen.Flow{"to the agents": w.ToAgent, "from the agents": w.FromAgent} {
		// Relayed within what was sent, received within what was relayed: in flight at the
		// window's ends is at most a few packets a leg (5 legs).
		if f.Received == 0 || f.Lost != 0 || f.Relayed > f.Sent+25 || f.Received > f.Relayed+25 || f.P99 == "-" {
			t.Errorf("%s: %v", name, f)
		}
	}
	// Every phone talks all the time; the gateway relays only the talking agents' audio.
	if w.FromAgent.Relayed >= w.FromAgent.Sent {
		t.Errorf("from the agents: relayed %d of %d sent, with agents idle between calls", w.FromAgent.Relayed, w.FromAgent.Sent)
	}
}

// phonesChildEnv makes this test binary the phones' process of TestRunPhones.
const phonesChildEnv = "HOTLINE_TEST_PHONES_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(phonesChildEnv) != "" {
		if err := loadgen.ServePhones(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// allowedCPUs is the CPU list Linux lets process pid run on.
func allowedCPUs(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list in /proc/%d/status", pid)
	return ""
}
