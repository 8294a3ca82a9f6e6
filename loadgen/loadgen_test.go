package loadgen_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/loadgen"
	"github.com/hotline-cc/hotline/server"
)

// waitCrew waits until at least n agents are available.
func waitCrew(t *testing.T, srv *server.Server, n int) {
	t.Helper()
	ctx := context.Background()
	waitfor.True(t, "the crew available", 20*time.Second, func() bool {
		snap, err := srv.Center().Snapshot(ctx)
		if err != nil {
			return false
		}
		k := 0
		for _, a := range snap.Agents {
			if a.State == acd.Available {
				k++
			}
		}
		return k >= n
	})
}

// check asserts a smoke run's result: every call dialled went through the IVR and the queue to
// an agent, none failed, and the figures are filled in.
func check(t *testing.T, res loadgen.Result, atLeast int) {
	t.Helper()
	t.Log(res)
	if res.Dialled < atLeast || res.Connected != res.Dialled || res.Answered != res.Dialled || res.Failed != 0 ||
		res.QueueP99 < res.QueueP50 || res.OfferP99 < res.OfferP50 || res.OfferP50 > res.QueueP50 || res.AnswerP50 <= 0 {
		t.Errorf("result %+v", res)
	}
}

// TestRun: a short run through the real controller on the simulator and a real redis-server.
func TestRun(t *testing.T) {
	srv, _ := startCrewServer(t, "loadgen", 30, 300*time.Millisecond)
	waitCrew(t, srv, 10)
	res, err := loadgen.Run(context.Background(), srv, loadgen.Config{Rate: 10, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, 5)
}

// TestRunAsterisk: the same on a real Asterisk (HOTLINE_TEST_ARI_URL; TestRun is the simulator's):
// a few callers, Local channels originated over the generator's own ARI app into [from-pstn],
// press through hotline's IVR (caller-bench) to the general queue and are answered by the crew.
func TestRunAsterisk(t *testing.T) {
	tg, ok := aritest.RealTarget()
	if !ok {
		aritest.SkipOrFail(t, "no real Asterisk: set "+aritest.EnvURL+", "+aritest.EnvUser+" and "+aritest.EnvPassword+" (TestRun runs on the simulator)")
	}
	tg.Isolate(t)
	srv, _ := startCrewServerOn(t, tg, "loadgen-ast", 10, 300*time.Millisecond)
	tg.WaitApp(t, tg.App)
	waitCrew(t, srv, 5)
	ctx := context.Background()
	ast := &loadgen.Asterisk{URL: tg.BaseURL, User: tg.User, Password: tg.Password}
	if err := ast.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer ast.Close()
	res, err := loadgen.Run(ctx, srv, loadgen.Config{Rate: 2, Duration: 2 * time.Second, Asterisk: ast})
	if err != nil {
		t.Fatal(err)
	}
	check(t, res, 3)
}

// TestRunAsteriskNodeFull: callers that enter [from-carrier] are counted against the node's
// HOTLINE_MAX_CALLS as a carrier's calls are; with room for one, the callers dialled while it is
// on the line are refused before the controller sees them, and the run reports them as refused,
// the only failures. On a real Asterisk, as TestRunAsterisk (the simulator's runs place their
// callers in-process; asterisksim's TestNodeFull is the ceiling on both).
func TestRunAsteriskNodeFull(t *testing.T) {
	tg, ok := aritest.RealTarget()
	if !ok {
		aritest.SkipOrFail(t, "no real Asterisk: set "+aritest.EnvURL+", "+aritest.EnvUser+" and "+aritest.EnvPassword)
	}
	tg.Isolate(t)
	srv, _ := startCrewServerOn(t, tg, "loadgen-full", 10, 300*time.Millisecond)
	tg.WaitApp(t, tg.App)
	waitCrew(t, srv, 5)
	ctx := context.Background()
	tg.NodeCeiling(t, 1)
	ast := &loadgen.Asterisk{URL: tg.BaseURL, User: tg.User, Password: tg.Password}
	if err := ast.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer ast.Close()
	// Four callers half a second apart; each spends seconds in the IVR, so the first is still
	// there when the others come.
	res, err := loadgen.Run(ctx, srv, loadgen.Config{Rate: 2, Duration: 2 * time.Second, Asterisk: ast, Entry: "from-carrier"})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Connected < 1 || res.Refused < 1 || res.Failed != res.Refused || res.Connected+res.Refused != res.Dialled {
		t.Errorf("with room for one caller: %v; want at least one through, the rest refused and nothing else failed", res)
	}
	if !strings.Contains(res.String(), "refused by the node at HOTLINE_MAX_CALLS") {
		t.Errorf("the summary does not say who was refused: %v", res)
	}
}
