package acd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Event is one entry of the center's event stream, in the spirit of Asterisk's queue_log: ENQUEUE,
// RING, CONNECT, RINGCANCELED, COMPLETE, RINGNOANSWER, ABANDON, EXIT, MOVE, CALLBACK, AGENTLOGIN, AGENTLOGOFF,
// PAUSE, UNPAUSE, WRAPUPEND, WRAPUPEXTEND (Data: the ms added), CONSULT, CONSULTEND, HANDOVER, HOLD, UNHOLD (Data: the ms held), CLAIM, CALLBACKNOANSWER, CALLBACKRETRY, PARK, UNPARK, RECONCILE. Each is written by the same script run as the state change it records.
type Event struct {
	ID    string // the stream entry id
	Time  time.Time
	Call  string
	Queue string
	Agent string // RING on a ring-all queue: the agents rung; ABANDON, EXIT: the agents it stopped ringing (space-separated)
	Event string
	Data  string // ENQUEUE: priority; CONNECT, ABANDON, EXIT: waited ms (EXIT: then the reason); RINGCANCELED
	// (a ring-all's agent, once another answered): the agent who answered;
	// COMPLETE: handle ms; MOVE: the previous queue; PAUSE: the reason; CONSULT (Agent: the
	// consulted agent): the consulting agent; CONSULTEND: why (cancel, finish, orphan); HANDOVER
	// (Agent: the agent leaving for wrap-up): the agent the call now belongs to; CLAIM: the previous
	// owner and the new one, space-separated; CALLBACKNOANSWER (Agent: the agent who dialled): the
	// attempts so far; EXIT after the last one: "<waited ms> callback_unanswered"; PARK (Agent: the
	// agents that were ringing): the owner whose heartbeat stopped; RECONCILE (Agent: the agent
	// freed): the kind (ring_lost, agent_orphaned; see Reconcile)
}

// Events reads up to count events after the stream id after ("" or "0" for the oldest kept).
// The stream is trimmed to about Options.EventsMaxLen entries.
func (c *Center) Events(ctx context.Context, after string, count int64) ([]Event, error) {
	start := "-"
	if after != "" && after != "0" {
		start = "(" + after
	}
	msgs, err := c.rdb.XRangeN(ctx, c.evKey, start, "+", count).Result()
	if err != nil {
		return nil, fmt.Errorf("acd: read events: %w", err)
	}
	return toEvents(msgs), nil
}

func toEvents(msgs []redis.XMessage) []Event {
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		s := func(k string) string { v, _ := m.Values[k].(string); return v }
		ms, _ := strconv.ParseInt(s("time"), 10, 64)
		out = append(out, Event{ID: m.ID, Time: time.UnixMilli(ms), Call: s("call"), Queue: s("queue"),
			Agent: s("agent"), Event: s("event"), Data: s("data")})
	}
	return out
}

// LastEventID is the id of the newest event, or "0-0" when there is none: where a follower starts.
func (c *Center) LastEventID(ctx context.Context) (string, error) {
	msgs, err := c.rdb.XRevRangeN(ctx, c.evKey, "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("acd: last event: %w", err)
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

// Follow waits up to block for events after the stream id after and returns them (none when block
// passed first). A follower passes the id of the last event it saw, so nothing between two calls
// is missed.
func (c *Center) Follow(ctx context.Context, after string, block time.Duration) ([]Event, error) {
	res, err := c.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{c.evKey, after}, Block: block, Count: 1000}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("acd: follow events: %w", err)
	}
	var out []Event
	for _, st := range res {
		out = append(out, toEvents(st.Messages)...)
	}
	return out, nil
}
