package switchboard

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestRefusedCounted: a carrier call that the node refuses at HOTLINE_MAX_CALLS never reaches the
// controller, yet hotline_carrier_calls_refused_total counts it, read from the node's dialplan.
func TestRefusedCounted(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.refusedEvery = 20 * time.Millisecond
		r.acd.setFree("a1", false)
		r.start(t, "i1")
		reg := prometheus.NewRegistry()
		if err := r.sb.RegisterMetrics(reg); err != nil {
			t.Fatal(err)
		}
		refused := r.sb.metrics.Load().refused
		waitfor.True(t, "the node's count read", 10*time.Second, func() bool { return r.sb.refused.Load() >= 0 })
		before := testutil.ToFloat64(refused) // a real Asterisk keeps its count across tests

		ctx := context.Background()
		setMax := func(v string) {
			if st, body, err := tg.Do(ctx, http.MethodPost, "/ari/asterisk/variable?variable=HOTLINE_MAX_CALLS&value="+v, nil); err != nil || st != http.StatusNoContent {
				t.Fatalf("set HOTLINE_MAX_CALLS=%s: %d %s %v", v, st, body, err)
			}
		}
		setMax("1")
		t.Cleanup(func() { setMax("0") })
		carrier := func(number string) aritest.PlacedCall {
			placed, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: number, Context: "caller-press1-tone", Entry: "from-carrier"})
			if err != nil {
				t.Fatal(err)
			}
			return placed
		}
		first := carrier("79161110001")
		waitfor.True(t, "the first caller at the controller", 20*time.Second, func() bool { return r.sb.call(first.ChannelID) != nil })
		second := carrier("79161110002")
		waitfor.True(t, "the refusal counted", 10*time.Second, func() bool { return testutil.ToFloat64(refused) == before+1 })
		if r.sb.call(second.ChannelID) != nil {
			t.Error("the refused caller reached the controller")
		}
		if !up(t, tg, first) {
			t.Error("the first caller was dropped")
		}
	})
}
