package acd

import (
	"context"
	"time"
)

// Position is what a waiting caller is told.
type Position struct {
	Queue    string
	Position int           // 1 = next; 0 when the call is ringing or connected
	Wait     time.Duration // estimated wait (EWT); meaningful only when Known
	Known    bool          // false when nobody staffs the queue: no estimate can be given
}

// Position returns a waiting caller's place in their queue and the estimated wait.
//
// The estimate (EWT): with N agents staffing the queue (logged in and not paused: available, ringing,
// on call or in wrap-up), A of them available now, and a cycle time C = average handle time + wrap-up,
// a caller at position p waits for p−A agents to free up; agents free up at N/C per unit of time, so
//
//	EWT = max(0, p − A) × C / N
//
// The average handle time is an exponentially weighted mean over the queue's finished calls
// (α = 0.1, kept in Redis by the finish script), seeded with the queue's handle_time. The estimate is
// exact on average for one queue with exponential handle times; agents shared with other queues make it
// optimistic in proportion to the time they spend elsewhere (see ewt_test.go for measured accuracy).
func (c *Center) Position(ctx context.Context, callID string) (Position, error) {
	v, err := c.run(ctx, "position", callID)
	if err != nil {
		return Position{}, err
	}
	f, _ := v.([]any)
	if len(f) != 6 {
		return Position{}, nil
	}
	p := Position{Queue: toString(f[0]), Position: toInt(f[1])}
	staffed, avail := toInt(f[2]), toInt(f[3])
	cycle := time.Duration(toInt(f[4])+toInt(f[5])) * time.Millisecond
	p.Wait, p.Known = estimateWait(p.Position, staffed, avail, cycle)
	return p, nil
}

func estimateWait(pos, staffed, avail int, cycle time.Duration) (time.Duration, bool) {
	if pos <= 0 {
		return 0, true
	}
	if staffed <= 0 {
		return 0, false
	}
	ahead := pos - avail
	if ahead <= 0 {
		return 0, true
	}
	return time.Duration(int64(cycle) * int64(ahead) / int64(staffed)), true
}
