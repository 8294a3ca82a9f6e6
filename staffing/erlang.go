// Package staffing says how many agents a queue needs for its service-level target, by Erlang C:
// calls arriving at random (Poisson) at a steady rate, handled in an exponentially distributed time,
// by agents serving one waiting line in order, nobody hanging up. Real queues lose some callers
// and are not steady, so the figure is advice for the next quarter hour, the way planners use it.
package staffing

import (
	"errors"
	"math"
	"time"
)

// Load is a queue's offered traffic: how many calls arrive and how long each takes to handle.
type Load struct {
	CallsPerHour float64
	HandleTime   time.Duration // average handle time: talk, hold and wrap-up
}

// Erlangs is the traffic intensity: the agents that would be busy all the time on average.
func (l Load) Erlangs() float64 {
	if l.CallsPerHour <= 0 || l.HandleTime <= 0 {
		return 0
	}
	return l.CallsPerHour * l.HandleTime.Seconds() / 3600
}

// WaitProbability is Erlang C: the chance that a call has to wait, with agents serving erlangs of
// traffic. It is 1 when the agents cannot keep up (agents <= erlangs). Computed through the Erlang B
// recursion, which stays exact for thousands of agents where the textbook factorials overflow.
func WaitProbability(agents int, erlangs float64) float64 {
	if erlangs <= 0 {
		return 0
	}
	n := float64(agents)
	if n <= erlangs {
		return 1
	}
	b := 1.0
	for k := 1; k <= agents; k++ {
		b = erlangs * b / (float64(k) + erlangs*b)
	}
	return n * b / (n - erlangs*(1-b))
}

// ServiceLevel is the share of calls answered within the given wait, with agents on load.
func ServiceLevel(agents int, l Load, within time.Duration) float64 {
	a := l.Erlangs()
	if a == 0 {
		return 1
	}
	n := float64(agents)
	if n <= a {
		return 0
	}
	return 1 - WaitProbability(agents, a)*math.Exp(-(n-a)*within.Seconds()/l.HandleTime.Seconds())
}

// ASA is the average speed of answer: the mean wait over all calls, those answered at once included.
// Unbounded (math.MaxInt64) when the agents cannot keep up.
func ASA(agents int, l Load) time.Duration {
	a := l.Erlangs()
	if a == 0 {
		return 0
	}
	n := float64(agents)
	if n <= a {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(WaitProbability(agents, a) * l.HandleTime.Seconds() / (n - a) * float64(time.Second))
}

// ErrTarget is a service-level target that is not a share in (0, 1), or a negative wait.
var ErrTarget = errors.New("staffing: target must be a share between 0 and 1 and a wait of 0 or more")

// maxAgents bounds the search: no queue of one center is staffed beyond it.
const maxAgents = 100_000

// AgentsNeeded is the fewest agents that answer the share of calls within the wait on load: for a
// target of 80% in 20 s, AgentsNeeded(load, 0.8, 20*time.Second). No traffic needs no agent.
func AgentsNeeded(l Load, share float64, within time.Duration) (int, error) {
	if !(share > 0 && share < 1) || within < 0 {
		return 0, ErrTarget
	}
	a := l.Erlangs()
	if a == 0 {
		return 0, nil
	}
	// One pass of the Erlang B recursion: each step adds an agent and checks the target, so the
	// answer costs as many steps as agents, not their square.
	b, aht := 1.0, l.HandleTime.Seconds()
	for n := 1; n <= maxAgents; n++ {
		b = a * b / (float64(n) + a*b)
		fn := float64(n)
		if fn <= a {
			continue // fewer agents than the traffic never keep up
		}
		c := fn * b / (fn - a*(1-b))
		if 1-c*math.Exp(-(fn-a)*within.Seconds()/aht) >= share {
			return n, nil
		}
	}
	return maxAgents, nil
}
