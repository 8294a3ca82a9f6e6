package softphone

import "time"

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
	// lapses is when a wrap-up's time runs out: the ACD makes the agent available by itself then,
	// and nobody says so to the page, so the wrap-up is dropped from the log at that time.
	lapses time.Time
}

// maxReplayPerCall bounds a call's kept messages (a hold/resume flurry): the oldest beyond the
// first (the ringing or the connect) are dropped.
const maxReplayPerCall = 32

// maxReplay bounds the whole log (oldest calls dropped first). A connecting page is sent its hello
// and the log before its writer starts, into a queue of sendQueueLen: the log must leave room, or
// the page is cut off as too slow before it has read a thing.
const maxReplay = sendQueueLen / 2

// replayNow is the replay log's clock.
var replayNow = time.Now

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
		r.calls = append(r.calls, replayCall{id: m.CallID, msgs: [][]byte{b},
			lapses: replayNow().Add(time.Duration(m.Seconds) * time.Second)})
	case CallEvent:
		if m.Kind == MsgWrapUpEnded {
			r.forget(m.CallID)
			return
		}
		r.add(m.CallID, b)
	case Consulting:
		r.add(m.CallID, b)
	}
	r.trim()
}

// trim drops lapsed wrap-ups, then the oldest calls while the log is over maxReplay.
func (r *replayLog) trim() {
	now := replayNow()
	kept := r.calls[:0]
	n := 0
	for _, c := range r.calls {
		if c.lapses.IsZero() || now.Before(c.lapses) {
			kept = append(kept, c)
			n += len(c.msgs)
		}
	}
	clear(r.calls[len(kept):])
	r.calls = kept
	for n > maxReplay-1 && len(r.calls) > 1 { // -1: the state
		n -= len(r.calls[0].msgs)
		r.calls = r.calls[1:]
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
	r.trim()
	var out [][]byte
	if r.state != nil {
		out = append(out, r.state)
	}
	for _, c := range r.calls {
		out = append(out, c.msgs...)
	}
	return out
}
