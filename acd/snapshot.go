package acd

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Snapshot is the whole live picture of a center, read atomically: what a restarted controller
// rebuilds its view from, and what the dashboard and the metrics show.
type Snapshot struct {
	At     time.Time
	Queues []QueueState  // in model order
	Agents []AgentStatus // in model order
	Calls  []CallState   // every call in the ACD, by enqueue time
}

// QueueState is one queue's waiting line.
type QueueState struct {
	Name        string
	Waiting     []string // call ids, next served first
	LongestWait time.Duration
	HandleTime  time.Duration // the estimator's current average handle time
}

// AgentStatus is one agent's live state.
type AgentStatus struct {
	ID     string
	Group  string
	State  AgentState
	Since  time.Time
	Call   string // the call ringing or connected, if any
	Reason string // pause reason
	Calls  int    // calls answered
	// PauseNext is the pause asked for after the present call (Agent only; Snapshot leaves it).
	PauseNext string
}

// CallState is one call's live state.
type CallState struct {
	ID         string
	Queue      string
	Stage      Stage
	Priority   int
	EnqueuedAt time.Time
	Owner      string
	Agents     []string // ringing or connected agents
	Consult    string   // the colleague reserved for a consultation on the connected call, if any
	Callback   string
	Position   int // 1-based place in its queue while waiting; 0 otherwise
	Data       map[string]string
	Seq        int64
}

// Snapshot reads the whole state in one script run (so it is consistent), ending due wrap-ups first.
func (c *Center) Snapshot(ctx context.Context) (Snapshot, error) {
	v, err := c.run(ctx, "snapshot", c.queues...)
	if err != nil {
		return Snapshot{}, err
	}
	parts, _ := v.([]any)
	if len(parts) != 4 {
		return Snapshot{}, fmt.Errorf("acd: snapshot: unexpected reply of %d parts", len(parts))
	}
	// Redis's clock, as every wait the script computes: this host's may be off.
	now := time.UnixMilli(int64(toInt(parts[3])))
	s := Snapshot{At: now}
	callRows, _ := parts[1].([]any)
	queueRows, _ := parts[0].([]any)
	agentRows, _ := parts[2].([]any)
	calls := map[string]*CallState{}
	for _, r := range callRows {
		f, _ := r.([]any)
		if len(f) != 2 {
			continue
		}
		kv := toStrings(f[1])
		h := make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		cs := parseCall(toString(f[0]), h)
		calls[cs.ID] = &cs
	}
	for _, r := range queueRows {
		f, _ := r.([]any)
		if len(f) != 3 {
			continue
		}
		qs := QueueState{Name: toString(f[0]), Waiting: toStrings(f[1])}
		qs.HandleTime = time.Duration(toInt(f[2])) * time.Millisecond
		for i, id := range qs.Waiting {
			if cs := calls[id]; cs != nil {
				cs.Position = i + 1
				if w := now.Sub(cs.EnqueuedAt); w > qs.LongestWait {
					qs.LongestWait = w
				}
			}
		}
		s.Queues = append(s.Queues, qs)
	}
	byID := map[string]AgentStatus{}
	for _, r := range agentRows {
		f, _ := r.([]any)
		if len(f) != 2 {
			continue
		}
		v := toStrings(f[1])
		for len(v) < 6 {
			v = append(v, "")
		}
		since, _ := strconv.ParseInt(v[1], 10, 64)
		calls, _ := strconv.Atoi(v[5])
		byID[toString(f[0])] = AgentStatus{ID: toString(f[0]), State: AgentState(v[0]), Since: time.UnixMilli(since),
			Call: v[2], Reason: v[3], Group: v[4], Calls: calls}
	}
	for _, a := range c.model.Agents {
		if st, ok := byID[a.ID]; ok {
			s.Agents = append(s.Agents, st)
		}
	}
	for _, cs := range calls {
		s.Calls = append(s.Calls, *cs)
	}
	sort.Slice(s.Calls, func(i, j int) bool {
		if !s.Calls[i].EnqueuedAt.Equal(s.Calls[j].EnqueuedAt) {
			return s.Calls[i].EnqueuedAt.Before(s.Calls[j].EnqueuedAt)
		}
		return s.Calls[i].ID < s.Calls[j].ID
	})
	return s, nil
}

func parseCall(id string, h map[string]string) CallState {
	prio, _ := strconv.Atoi(h["prio"])
	enq, _ := strconv.ParseFloat(h["enq"], 64)
	seq, _ := strconv.ParseInt(h["seq"], 10, 64)
	cs := CallState{ID: id, Queue: h["queue"], Stage: Stage(h["stage"]), Priority: prio,
		EnqueuedAt: time.UnixMilli(int64(math.Round(enq))), Owner: h["owner"], Agents: strings.Fields(h["agents"]),
		Callback: h["callback"], Seq: seq, Consult: h["consult"]}
	if d := h["data"]; d != "" && d != "null" {
		_ = json.Unmarshal([]byte(d), &cs.Data) // written by Enqueue from a map: cannot be malformed
	}
	return cs
}

// Pending returns offers for the calls owner holds that are ringing now. A controller calls it when it
// starts, after its Offers reader was stopped, or whenever it doubts it saw every offer: an offer read
// from Redis but never acted on (the process died in between) is found here, and the controller either
// rings the agent again or calls RingNoAnswer.
func (c *Center) Pending(ctx context.Context, owner string) ([]Offer, error) {
	s, err := c.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var out []Offer
	for _, cs := range s.Calls {
		if cs.Owner != owner || cs.Stage != StageRinging {
			continue
		}
		o := Offer{CallID: cs.ID, Queue: cs.Queue, Agents: cs.Agents, Owner: cs.Owner, Priority: cs.Priority,
			EnqueuedAt: cs.EnqueuedAt, Data: cs.Data, Callback: cs.Callback, Seq: cs.Seq}
		if len(o.Agents) > 0 {
			o.Agent = o.Agents[0]
		}
		out = append(out, o)
	}
	return out, nil
}

// Owner returns the instance that holds the call's channel, "" when the ACD has no such call: where
// an agent's command for the call goes when their page is on another controller.
func (c *Center) Owner(ctx context.Context, callID string) (string, error) {
	v, err := c.rdb.HGet(ctx, c.Key("c:"+callID), "owner").Result()
	if err == redis.Nil {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("acd: owner of call %s: %w", callID, err)
	}
	return v, nil
}

// Agent reads one agent's live state from its hash: cheaper than a Snapshot for one agent.
func (c *Center) Agent(ctx context.Context, id string) (AgentStatus, error) {
	if _, ok := c.model.Agent(id); !ok {
		return AgentStatus{}, fmt.Errorf("acd: %w: %s", ErrUnknownAgent, id)
	}
	v, err := c.rdb.HMGet(ctx, c.Key("a:"+id), "state", "since", "call", "reason", "group", "calls", "pausenext").Result()
	if err != nil {
		return AgentStatus{}, fmt.Errorf("acd: agent %s: %w", id, err)
	}
	s := make([]string, len(v))
	for i, x := range v {
		s[i], _ = x.(string)
	}
	st := AgentStatus{ID: id, State: AgentState(cmp.Or(s[0], string(Offline))), Call: s[2], Reason: s[3], Group: s[4]}
	if ms, err := strconv.ParseInt(s[1], 10, 64); err == nil {
		st.Since = time.UnixMilli(ms)
	}
	st.Calls, _ = strconv.Atoi(s[5])
	st.PauseNext = s[6]
	return st, nil
}
