// Package promhist reads quantiles out of a Prometheus histogram's buckets, as Prometheus's
// histogram_quantile does: the legs load test and the load generator report the gateway's
// per-packet time from its production histogram, not from a measurement of their own.
package promhist

import (
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Buckets is a snapshot of one series of a histogram: cumulative counts by upper bound.
type Buckets struct {
	Upper []float64 // seconds
	Cum   []uint64
	Count uint64
}

// Gather reads the histogram name from g, one Buckets per value of the label.
func Gather(g prometheus.Gatherer, name, label string) (map[string]Buckets, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("promhist: gather %s: %w", name, err)
	}
	out := map[string]Buckets{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			var b Buckets
			for _, bk := range h.GetBucket() {
				b.Upper = append(b.Upper, bk.GetUpperBound())
				b.Cum = append(b.Cum, bk.GetCumulativeCount())
			}
			b.Count = h.GetSampleCount()
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] = b
				}
			}
		}
	}
	return out, nil
}

// Minus is what was counted since before.
func (b Buckets) Minus(before Buckets) Buckets {
	out := Buckets{Upper: b.Upper, Cum: slices.Clone(b.Cum), Count: b.Count - before.Count}
	for i := range out.Cum {
		if i < len(before.Cum) {
			out.Cum[i] -= before.Cum[i]
		}
	}
	return out
}

// Quantile interpolates linearly within the bucket that holds q, as Prometheus's
// histogram_quantile does; beyond the last bound it says "> bound", with no samples "-".
func (b Buckets) Quantile(q float64) string {
	if b.Count == 0 {
		return "-"
	}
	rank := q * float64(b.Count)
	lower, below := 0.0, uint64(0)
	for i, c := range b.Cum {
		if float64(c) >= rank {
			in := float64(c - below)
			frac := 1.0
			if in > 0 {
				frac = (rank - float64(below)) / in
			}
			return time.Duration((lower + frac*(b.Upper[i]-lower)) * float64(time.Second)).Round(time.Microsecond).String()
		}
		lower, below = b.Upper[i], c
	}
	return "> " + time.Duration(lower*float64(time.Second)).String()
}
