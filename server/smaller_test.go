package server

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/softphone"
)

// TestIVRStepsDroppedCounted: steps observed from many calls' goroutines while the writer's queue
// is full are counted without a race (go test -race), and the count is a Prometheus counter.
func TestIVRStepsDroppedCounted(t *testing.T) {
	e := newIVREvents(nil, "k", 0, slog.New(slog.DiscardHandler))
	e.ch = make(chan map[string]any, 1) // no writer runs: all but one are dropped
	reg := prometheus.NewRegistry()
	if err := e.register(reg); err != nil {
		t.Fatal(err)
	}
	const callers, steps = 8, 50
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for range steps {
				e.observe(ivr.Inbound{CallID: string(rune('a' + c))}, ivr.Step{Node: "main", Event: "key"})
			}
		})
	}
	wg.Wait()
	if n, err := testutil.GatherAndCount(reg, "hotline_ivr_steps_dropped_total"); err != nil || n != 1 {
		t.Fatalf("metric hotline_ivr_steps_dropped_total: %d series, %v", n, err)
	}
	mfs, _ := reg.Gather()
	if got := mfs[0].GetMetric()[0].GetCounter().GetValue(); got != callers*steps-1 {
		t.Errorf("dropped = %v, want %d", got, callers*steps-1)
	}
}

// TestMonitorLegForgottenOnClose: a supervisor's monitor leg gets no EventEnded; closing it (the
// monitor ends) must drop it from the phones' map, which otherwise grew with every monitor.
func TestMonitorLegForgottenOnClose(t *testing.T) {
	gw, err := softphone.NewGateway(softphone.GatewayConfig{
		ICEAddr: netip.MustParseAddrPort("127.0.0.1:0"), RTPHost: netip.MustParseAddr("127.0.0.1"), LoopbackOnly: true,
		Registerer: prometheus.NewRegistry(),
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	p := &phones{gw: gw, legs: map[string]*softphone.Leg{}}
	legs := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.legs)
	}
	for i := range 3 {
		leg, err := p.OpenLeg(context.Background(), "sup1", "monitor-c1")
		if err != nil {
			t.Fatal(err)
		}
		if n := legs(); n != 1 {
			t.Fatalf("monitor %d: %d legs while it runs, want 1", i, n)
		}
		leg.Close()
		if n := legs(); n != 0 {
			t.Fatalf("monitor %d ended: %d legs remembered, want 0", i, n)
		}
	}
	// A leg replaced by a newer one on the same call does not take the newer one with it.
	old, _ := p.OpenLeg(context.Background(), "a1", "c2")
	cur, _ := p.OpenLeg(context.Background(), "a1", "c2")
	old.Close()
	if p.leg("a1", "c2") == nil {
		t.Error("closing the old leg forgot the new one")
	}
	cur.Close()
}
