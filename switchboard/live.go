package switchboard

import "slices"

// LiveCall is one call as this controller holds it now: what the ACD's reconciler compares with
// Redis to free what a lost write left stuck.
type LiveCall struct {
	Ringing []string // agents whose page rings for it, or is about to (the offer is on its way)
	Talking string   // the agent talking on it
}

// LiveCalls returns the calls this controller holds, by call id. ok is false while it cannot tell:
// before Run, while it is not connected to Asterisk (connected means it took its calls back after
// the connection), and once it is stopping (call goroutines end without recording anything).
func (sb *Switchboard) LiveCalls() (map[string]LiveCall, bool) {
	if sb.ctx == nil || !sb.connected.Load() {
		return nil, false
	}
	sb.mu.Lock()
	out := make(map[string]LiveCall, len(sb.calls))
	for id, c := range sb.calls {
		p := c.snapshot()
		var lc LiveCall
		if p.talking {
			lc.Talking = p.agent
		} else {
			lc.Ringing = slices.Clone(p.rung)
		}
		if o := c.offered.Load(); o != nil {
			for _, a := range *o {
				if !slices.Contains(lc.Ringing, a) {
					lc.Ringing = append(lc.Ringing, a)
				}
			}
		}
		out[id] = lc
	}
	sb.mu.Unlock()
	// Checked after the copy: a stop cancels ctx before any call goroutine ends, so a copy taken
	// while ctx was live misses no call.
	if sb.ctx.Err() != nil {
		return nil, false
	}
	return out, true
}
