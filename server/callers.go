package server

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/ivr/lookupdemo"
)

// callerMix is what simulated callers want, so the demo shows every path: most want a person, some
// solve their question with self-service tracking, a few hang up while waiting.
var callerMix = []struct {
	weight int
	queue  string // where the script leads (TestDemoCallers); "" for the IVR alone
	script func(r *rand.Rand) []asterisksim.Step
}{
	// A private customer who asks for an agent (1, then 0) and talks: a tone the agent hears.
	{50, "general", func(r *rand.Rand) []asterisksim.Step {
		return []asterisksim.Step{
			asterisksim.Pause(2 * time.Second), asterisksim.Press("1"),
			asterisksim.Pause(time.Second), asterisksim.Press("0"),
			asterisksim.SendTone(pick(r, 440, 523, 659)),
			asterisksim.Pause(time.Duration(60+r.IntN(240)) * time.Second), asterisksim.HangUp(),
		}
	}},
	// A business customer with a question for an agent (2, then 0).
	{20, "business", func(r *rand.Rand) []asterisksim.Step {
		return []asterisksim.Step{
			asterisksim.Pause(2 * time.Second), asterisksim.Press("2"),
			asterisksim.Pause(time.Second), asterisksim.Press("0"),
			asterisksim.SendTone(pick(r, 392, 587)),
			asterisksim.Pause(time.Duration(60+r.IntN(240)) * time.Second), asterisksim.HangUp(),
		}
	}},
	// A private customer who agrees to the post-call survey (2 while waiting, when it is offered)
	// and, once the agent hangs up, rates the call. The score key is pressed every few seconds from
	// the start, as the caller cannot know when the agent hangs up: keys while waiting or talking are
	// not a score. Neither 1 (a callback while waiting) nor 10 (which starts with 1), so the scores
	// run 0 and 3–9.
	{15, "general", func(r *rand.Rand) []asterisksim.Step {
		score := pick(r, 0, 3, 5, 6, 7, 8, 8, 9, 9, 9)
		steps := []asterisksim.Step{
			asterisksim.Pause(2 * time.Second), asterisksim.Press("1"),
			asterisksim.Pause(time.Second), asterisksim.Press("0"),
			asterisksim.Pause(6 * time.Second), asterisksim.Press("2"),
			asterisksim.SendTone(pick(r, 440, 523, 659)),
		}
		for range 120 {
			steps = append(steps, asterisksim.Pause(3*time.Second), asterisksim.Press(fmt.Sprint(score)))
		}
		return append(steps, asterisksim.HangUp())
	}},
	// A private customer filing a claim (1, 2, then 1): the claims queue records its calls, so the
	// demo's recordings page fills.
	{10, "claims", func(r *rand.Rand) []asterisksim.Step {
		return []asterisksim.Step{
			asterisksim.Pause(2 * time.Second), asterisksim.Press("1"),
			asterisksim.Pause(time.Second), asterisksim.Press("2"),
			asterisksim.Pause(time.Second), asterisksim.Press("1"),
			asterisksim.SendTone(pick(r, 440, 523, 659)),
			asterisksim.Pause(time.Duration(60+r.IntN(240)) * time.Second), asterisksim.HangUp(),
		}
	}},
	// Tracking a parcel by itself: 1 private, 1 tracking, the number, then hangs up content.
	{20, "", func(r *rand.Rand) []asterisksim.Step {
		return []asterisksim.Step{
			asterisksim.Pause(2 * time.Second), asterisksim.Press("1"),
			asterisksim.Pause(time.Second), asterisksim.Press("1"),
			asterisksim.Pause(2 * time.Second), asterisksim.Press(lookupdemo.TrackingInTransit + "#"),
			asterisksim.Pause(25 * time.Second), asterisksim.HangUp(),
		}
	}},
	// Gives up while waiting.
	{10, "general", func(r *rand.Rand) []asterisksim.Step {
		return []asterisksim.Step{
			asterisksim.Pause(2 * time.Second), asterisksim.Press("10"),
			asterisksim.Pause(time.Duration(20+r.IntN(60)) * time.Second), asterisksim.HangUp(),
		}
	}},
}

func pick(r *rand.Rand, freqs ...float64) float64 { return freqs[r.IntN(len(freqs))] }

// simulateCallers dials the simulator at perMinute calls a minute on average (Poisson arrivals) until
// ctx ends.
func simulateCallers(ctx context.Context, sim *asterisksim.Sim, did string, perMinute float64, log *slog.Logger) {
	if perMinute <= 0 {
		return
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	total := 0
	for _, m := range callerMix {
		total += m.weight
	}
	mean := time.Duration(float64(time.Minute) / perMinute)
	for n := 1; ; n++ {
		wait := time.Duration(r.ExpFloat64() * float64(mean))
		if n == 1 {
			wait = 2 * time.Second // someone calls soon after start, so the demo has something to show
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		k := r.IntN(total)
		var script []asterisksim.Step
		for _, m := range callerMix {
			if k < m.weight {
				script = m.script(r)
				break
			}
			k -= m.weight
		}
		number := fmt.Sprintf("7916%07d", r.IntN(10_000_000))
		if _, err := sim.Dial(ctx, asterisksim.CallerSpec{DID: did, Number: number, Name: fmt.Sprintf("Caller %d", n), Script: script}); err != nil {
			log.Warn("simulated caller could not dial", "err", err)
			continue
		}
		log.Info("simulated caller dials", "number", number, "did", did)
	}
}
