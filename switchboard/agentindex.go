package switchboard

// The desk asks "which call rings or talks with this agent?" for every page reload, presence check
// and, in the demo and the load generator, every crew member's look at their phone: 500 members
// every 100 ms. Scanning every call for it made that O(calls) per question, so the switchboard keeps
// an index from agent to the calls whose published snapshot names them.

// agentsOf lists the agents a snapshot names: the agent, those rung and a consulted colleague.
func (p *published) agentsOf(yield func(string) bool) {
	if p == nil {
		return
	}
	if p.agent != "" && !yield(p.agent) {
		return
	}
	for _, a := range p.rung {
		if a != p.agent && !yield(a) {
			return
		}
	}
	if p.consultAgent != "" {
		yield(p.consultAgent)
	}
}

// reindex moves c in the index from the agents of old to those of now; sb.mu is held.
func (sb *Switchboard) reindex(c *call, old, now *published) {
	for a := range old.agentsOf {
		if set := sb.byAgent[a]; set != nil {
			delete(set, c)
			if len(set) == 0 {
				delete(sb.byAgent, a)
			}
		}
	}
	for a := range now.agentsOf {
		set := sb.byAgent[a]
		if set == nil {
			set = map[*call]struct{}{}
			sb.byAgent[a] = set
		}
		set[c] = struct{}{}
	}
}
