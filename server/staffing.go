package server

import (
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/dashboard"
	"github.com/hotline-cc/hotline/staffing"
)

// arrivalWindow is how far back the staffing advice counts arrivals: its longer rate.
const arrivalWindow = 30 * time.Minute

// arrivals keeps each queue's arrival times (ENQUEUE events) of the last arrivalWindow. It is not
// reset at midnight, unlike the day's counts: the rate at 00:10 includes 23:50.
type arrivals map[string][]time.Time

func (a arrivals) add(queue string, t time.Time) { a[queue] = append(a[queue], t) }

// prune drops what is older than the window before now.
func (a arrivals) prune(now time.Time) {
	for q, ts := range a {
		i := 0
		for i < len(ts) && now.Sub(ts[i]) > arrivalWindow {
			i++
		}
		if i == len(ts) {
			delete(a, q)
		} else if i > 0 {
			a[q] = append(ts[:0:0], ts[i:]...)
		}
	}
}

// perHour is the queue's arrival rate over the window before now, in calls an hour.
func (a arrivals) perHour(queue string, now time.Time, window time.Duration) float64 {
	n := 0
	for _, t := range a[queue] {
		if now.Sub(t) <= window {
			n++
		}
	}
	return float64(n) * float64(time.Hour) / float64(window)
}

// staffingAdvice is a queue's Erlang C advice: the agents its service-level target needs at the
// arrival rates of the last 15 and 30 minutes, with an agent busy for the talk time the ACD
// measures plus the queue's whole wrap-up (an agent may end it early; planning does not count on
// it). Nil for a queue without a target.
func staffingAdvice(mq acd.Queue, measured time.Duration, rate15, rate30 float64, loggedIn, available int) *dashboard.Staffing {
	share := float64(mq.ServiceLevel.Percent) / 100
	if share <= 0 || share >= 1 {
		return nil
	}
	talk := measured
	if talk <= 0 {
		talk = mq.HandleTime
	}
	handle := talk + mq.WrapUp
	st := &dashboard.Staffing{
		CallsPerHour15: rate15, CallsPerHour30: rate30, HandleSeconds: int(handle.Round(time.Second).Seconds()),
		LoggedIn: loggedIn, Available: available,
	}
	// The target is valid (checked above), so AgentsNeeded cannot fail.
	st.Needed15, _ = staffing.AgentsNeeded(staffing.Load{CallsPerHour: rate15, HandleTime: handle}, share, mq.ServiceLevel.Within)
	st.Needed30, _ = staffing.AgentsNeeded(staffing.Load{CallsPerHour: rate30, HandleTime: handle}, share, mq.ServiceLevel.Within)
	return st
}
