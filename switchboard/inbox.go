package switchboard

import "sync"

// inbox queues one channel's events for its call goroutine without ever blocking the event reader:
// a slow call must not stall the events of every other call, and no DTMF key may be dropped.
type inbox struct {
	mu     sync.Mutex
	events []Event
	ready  chan struct{} // has a value while events is not empty
}

func newInbox() *inbox { return &inbox{ready: make(chan struct{}, 1)} }

func (b *inbox) put(ev Event) {
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// take returns the oldest event, if any.
func (b *inbox) take() (Event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.events) == 0 {
		return Event{}, false
	}
	ev := b.events[0]
	b.events[0] = Event{}
	b.events = b.events[1:]
	if len(b.events) > 0 {
		select {
		case b.ready <- struct{}{}:
		default:
		}
	}
	return ev, true
}
