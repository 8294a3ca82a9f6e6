package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/loadgen"
)

// TestRun: a short run through the real controller on the simulator and a real redis-server: every
// call dialled goes through the IVR and the queue to a crew agent, none fails, and the figures are
// filled in.
func TestRun(t *testing.T) {
	srv, _ := startCrewServer(t, "loadgen", 30, 300*time.Millisecond)
	ctx := context.Background()
	waitfor.True(t, "the crew available", 20*time.Second, func() bool {
		snap, err := srv.Center().Snapshot(ctx)
		if err != nil {
			return false
		}
		n := 0
		for _, a := range snap.Agents {
			if a.State == acd.Available {
				n++
			}
		}
		return n >= 10
	})
	res, err := loadgen.Run(ctx, srv, loadgen.Config{Rate: 10, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Dialled < 5 || res.Connected != res.Dialled || res.Answered != res.Dialled || res.Failed != 0 ||
		res.QueueP99 < res.QueueP50 || res.AnswerP50 <= 0 {
		t.Errorf("result %+v", res)
	}
}
