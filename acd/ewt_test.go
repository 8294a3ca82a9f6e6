package acd

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"
)

// TestEWTAccuracy drives one queue with a simulated stream of calls on a fake clock (Poisson arrivals
// at 90% load, exponential handle times) and compares each caller's estimated wait at enqueue with
// the wait they then had. The estimator must be unbiased on average and beat the naive guess of
// "the mean wait" for individual callers.
func TestEWTAccuracy(t *testing.T) {
	const (
		agents = 8
		calls  = 3000
		warmup = 300
		aht    = 60 * time.Second
	)
	src := fmt.Sprintf(`center: ewt
skills: [s]
queues:
  - {name: q, skill: s, wrapup: 0s, handle_time: 45s}
groups:
  - {name: g, count: %d, id: "a%%02d", skills: {s: 1}}
`, agents)
	e := newEnv(t, src)
	rng := rand.New(rand.NewSource(7))
	for i := 1; i <= agents; i++ {
		e.must(e.c.Login(e.ctx, fmt.Sprintf("a%02d", i)))
	}
	start := e.clock.Now()
	meanGap := float64(aht) / agents / 0.9
	nextArrival := start.Add(time.Duration(rng.ExpFloat64() * meanGap))
	var ends endHeap
	predicted := map[string]time.Duration{}
	enqueued := map[string]time.Time{}
	var pred, actual []float64
	arrived := 0

	connect := func() {
		offers, err := e.c.Dispatch(e.ctx)
		e.must(err)
		for _, o := range offers {
			_, err := e.c.Accept(e.ctx, o.CallID, o.Agent)
			e.must(err)
			idx := mustAtoi(o.CallID[1:])
			if idx >= warmup {
				pred = append(pred, predicted[o.CallID].Seconds())
				actual = append(actual, e.clock.Now().Sub(enqueued[o.CallID]).Seconds())
			}
			heap.Push(&ends, end{at: e.clock.Now().Add(time.Duration(rng.ExpFloat64() * float64(aht))), call: o.CallID, agent: o.Agent})
		}
	}
	for arrived < calls || ends.Len() > 0 {
		if arrived < calls && (ends.Len() == 0 || nextArrival.Before(ends[0].at)) {
			e.clock.Advance(nextArrival.Sub(e.clock.Now()))
			id := fmt.Sprintf("c%d", arrived)
			_, err := e.c.Enqueue(e.ctx, Waiting{CallID: id, Queue: "q"})
			e.must(err)
			p, err := e.c.Position(e.ctx, id)
			e.must(err)
			if !p.Known {
				t.Fatalf("no estimate for %s", id)
			}
			predicted[id], enqueued[id] = p.Wait, e.clock.Now()
			arrived++
			nextArrival = nextArrival.Add(time.Duration(rng.ExpFloat64() * meanGap))
		} else {
			x := heap.Pop(&ends).(end)
			e.clock.Advance(x.at.Sub(e.clock.Now()))
			e.must(e.c.Finish(e.ctx, x.call, x.agent))
		}
		connect()
	}
	var sumP, sumA, absErr, naive float64
	for i := range pred {
		sumP += pred[i]
		sumA += actual[i]
		absErr += math.Abs(pred[i] - actual[i])
	}
	n := float64(len(pred))
	meanA := sumA / n
	for i := range actual {
		naive += math.Abs(meanA - actual[i])
	}
	bias := (sumP - sumA) / sumA
	t.Logf("%d calls: mean wait %.1fs, mean estimate %.1fs (bias %+.1f%%), MAE %.1fs vs %.1fs for always guessing the mean",
		len(pred), meanA, sumP/n, 100*bias, absErr/n, naive/n)
	if math.Abs(bias) > 0.15 {
		t.Errorf("estimator bias %.1f%%, want within ±15%%", 100*bias)
	}
	if absErr >= naive {
		t.Errorf("estimator MAE %.1fs no better than the mean's %.1fs", absErr/n, naive/n)
	}
	e.must(e.c.Verify(e.ctx))
}

type end struct {
	at          time.Time
	call, agent string
}

type endHeap []end

func (h endHeap) Len() int           { return len(h) }
func (h endHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h endHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)        { *h = append(*h, x.(end)) }
func (h *endHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func mustAtoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
