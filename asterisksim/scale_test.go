package asterisksim_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
)

// TestScale places many concurrent callers that all hear a prompt, to check the simulator keeps
// up (HOTLINE_SIM_SCALE=<calls>; skipped otherwise). It reports CPU time per second of wall time.
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("HOTLINE_SIM_SCALE"))
	if n <= 0 {
		t.Skip("set HOTLINE_SIM_SCALE=5000 to place that many concurrent callers")
	}
	tg, ev := simTarget(t, asterisksim.Config{TimeScale: 1, Sounds: map[string]time.Duration{"hotline/greeting": time.Minute}})
	ids := map[string]bool{}
	for i := 0; i < n; i++ {
		c, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Number: strconv.Itoa(i), Script: []asterisksim.Step{asterisksim.SendTone(440), asterisksim.Hold()}})
		if err != nil {
			t.Fatal(err)
		}
		ids[c.ChannelID()] = true
	}
	for len(ids) > 0 {
		e := ev.WaitFor(t, time.Minute, "StasisStart", aritest.Type("StasisStart", ""))
		id := chanID(e)
		delete(ids, id)
		do(t, tg, "POST", "/ari/channels/"+id+"/answer", nil, 204)
		do(t, tg, "POST", "/ari/channels/"+id+"/play?media=sound:hotline/greeting", nil, 201)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	cpu0 := cpuTime()
	time.Sleep(5 * time.Second) // measuring steady-state load, not synchronising
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	t.Logf("%d calls: %.0f%% of one core, heap %d MiB, goroutines %d", n, 100*cpu.Seconds()/time.Since(start).Seconds(), after.HeapAlloc>>20, runtime.NumGoroutine())
}
