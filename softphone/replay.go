package softphone

// replayLog keeps what a page that connects now must be told to show the agent's present: the last
// state and, for each call not yet wrapped up, its messages since it rang. Hello, answers and acks
// are per connection and never kept.
type replayLog struct {
	state []byte
	calls []replayCall // in order of arrival
}

type replayCall struct {
	id   string
	msgs [][]byte
}

// maxReplayPerCall bounds a call's kept messages (a hold/resume flurry): the oldest beyond the
// first (the ringing or the connect) are dropped.
const maxReplayPerCall = 32

func (r *replayLog) remember(m Message, b []byte) {
	switch m := m.(type) {
	case StateChanged:
		if m.State == string(StateLoggedOut) {
			*r = replayLog{}
			return
		}
		r.state = b
	case Ringing:
		r.forget(m.Call.ID)
		r.calls = append(r.calls, replayCall{id: m.Call.ID, msgs: [][]byte{b}})
	case Ended:
		r.forget(m.CallID)
	case WrapUpStarted:
		r.forget(m.CallID)
		r.calls = append(r.calls, replayCall{id: m.CallID, msgs: [][]byte{b}})
	case CallEvent:
		if m.Kind == MsgWrapUpEnded {
			r.forget(m.CallID)
			return
		}
		r.add(m.CallID, b)
	case Consulting:
		r.add(m.CallID, b)
	}
}

func (r *replayLog) add(callID string, b []byte) {
	for i := range r.calls {
		if r.calls[i].id == callID {
			c := &r.calls[i]
			if len(c.msgs) >= maxReplayPerCall {
				c.msgs = append(c.msgs[:1], c.msgs[2:]...)
			}
			c.msgs = append(c.msgs, b)
			return
		}
	}
	r.calls = append(r.calls, replayCall{id: callID, msgs: [][]byte{b}})
}

func (r *replayLog) forget(callID string) {
	for i := range r.calls {
		if r.calls[i].id == callID {
			r.calls = append(r.calls[:i], r.calls[i+1:]...)
			return
		}
	}
}

func (r *replayLog) empty() bool { return r.state == nil && len(r.calls) == 0 }

// messages returns everything to replay, state first.
func (r *replayLog) messages() [][]byte {
	var out [][]byte
	if r.state != nil {
		out = append(out, r.state)
	}
	for _, c := range r.calls {
		out = append(out, c.msgs...)
	}
	return out
}
