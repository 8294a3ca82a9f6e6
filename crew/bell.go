package crew

// Bell wakes crew members when something happens on their phone (a ring, the caller hanging up),
// as the controller's push wakes an agent's page. Without it a member only notices at its next
// look (Config.Poll): at a load generator's 500 members that wait was most of a caller's time from
// queue to agent, and the looks themselves a good part of the process's CPU.
type Bell struct {
	ch map[string]chan struct{} // fixed at NewBell: read without a lock
}

// NewBell makes a bell for these agents; Ring for anyone else does nothing.
func NewBell(agents []string) *Bell {
	b := &Bell{ch: make(map[string]chan struct{}, len(agents))}
	for _, a := range agents {
		b.ch[a] = make(chan struct{}, 1)
	}
	return b
}

// Ring wakes the agent's member, or leaves them a wake-up for when they next wait. It never
// blocks: it is called on the way of the controller's pushes.
func (b *Bell) Ring(agent string) {
	if b == nil {
		return
	}
	select {
	case b.ch[agent] <- struct{}{}:
	default:
	}
}

// of is what the agent's member waits on: nil (never ready) without a bell.
func (b *Bell) of(agent string) <-chan struct{} {
	if b == nil {
		return nil
	}
	return b.ch[agent]
}
