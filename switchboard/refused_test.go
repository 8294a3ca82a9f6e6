package switchboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestRefusedCounted: a carrier call that the node refuses at HOTLINE_MAX_CALLS never reaches the
// controller, yet hotline_carrier_calls_refused_total counts it, read from the node's dialplan, and
// Deps.Refusals hears the count with the node run it belongs to.
func TestRefusedCounted(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.refusedEvery = 20 * time.Millisecond
		heard := &heardRefusals{}
		r.refusals = heard
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
		tg.NodeCeiling(t, 1)
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
		waitfor.True(t, "the count reported", 10*time.Second, func() bool { _, n := heard.last(); return n == int64(before)+1 })
		// The node run: Asterisk's entity id, and its start time, which a restart changes.
		node, _ := heard.last()
		if id, start, ok := strings.Cut(node, "@"); !ok || id == "" || !strings.HasPrefix(start, "20") {
			t.Errorf("the count reported for node run %q, want entity-id@startup-time", node)
		}
		if !up(t, tg, first) {
			t.Error("the first caller was dropped")
		}
	})
}

// heardRefusals is a Refusals that keeps the last report.
type heardRefusals struct {
	mu    sync.Mutex
	node  string
	count int64
}

func (h *heardRefusals) Seen(_ context.Context, node string, count int64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.node, h.count = node, count
	return nil
}

func (h *heardRefusals) last() (string, int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.node, h.count
}

// TestRefusedRunChanged: when the node run read after the count is not the one read before it
// (Asterisk restarted between the reads), the count is not reported under either run: the next
// read reports it whole. An ARI of our own, since no Asterisk restarts on cue between two requests.
func TestRefusedRunChanged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		starts []string // startup_time answered by successive /asterisk/info requests
		want   error
	}{
		{"the same run", []string{"2026-12-04T10:00:00.000+0000", "2026-12-04T10:00:00.000+0000"}, nil},
		{"a restart between the reads", []string{"2026-12-04T10:00:00.000+0000", "2026-12-04T10:05:00.000+0000"}, errRunChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var infos atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/ari/asterisk/info":
					i := min(int(infos.Add(1))-1, len(tc.starts)-1)
					fmt.Fprintf(w, `{"system":{"entity_id":"aa:bb"},"status":{"startup_time":%q}}`, tc.starts[i])
				case "/ari/asterisk/variable":
					io.WriteString(w, `{"value":"7"}`)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			sb := &Switchboard{ari: newREST(srv.URL+"/ari", "hotline", "u", "p", time.Second), refusals: &heardRefusals{}}
			node, nodeErr, v, err := sb.readRefused(context.Background())
			if err != nil || v != "7" || !errors.Is(nodeErr, tc.want) || (tc.want == nil && node != "aa:bb@"+tc.starts[0]) {
				t.Fatalf("read %q of run %q (%v, %v), want 7 with %v", v, node, nodeErr, err, tc.want)
			}
		})
	}
}
