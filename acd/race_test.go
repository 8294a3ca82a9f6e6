package acd

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/internal/redistest"
)

const raceCenter = `center: race
weights: {queue_priority: 5s, caller_priority: 10s}
skills: [s1, s2, all]
queues:
  - {name: q1, skill: s1, strategy: longest-idle}
  - {name: q2, skill: s2, strategy: best-skill, priority: 1, min_level: 2}
  - {name: q3, skill: all, strategy: least-calls}
  - {name: q4, skill: all, strategy: linear, priority: 2}
groups:
  - {name: g1, count: 12, id: "x%02d", skills: {s1: 3, all: 1}}
  - {name: g2, count: 12, id: "y%02d", skills: {s2: 5, all: 2}}
  - {name: g3, count: 8, id: "z%02d", skills: {s1: 7, s2: 2, all: 1}}
`

// TestRace: several Centers, each with its own Redis client like separate controllers, drive thousands
// of calls through one Redis at once, each acting at random on the calls it owns. After every step the
// live state must be consistent (Verify, one script run); at the end every call has ended answered or
// abandoned, and the event stream, totally ordered by Redis, replays without an agent holding two calls
// or a call ringing two agents.
func TestRace(t *testing.T) {
	instances, perInstance := 4, 500
	if testing.Short() {
		perInstance = 100
	}
	total := int64(instances * perInstance)
	srv := redistest.Start(t)
	m, err := Load("race.yaml", []byte(raceCenter))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a guard against a hang, not a sync
	defer cancel()

	var done, answered, abandoned atomic.Int64
	centers := make([]*Center, instances)
	for i := range centers {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
		t.Cleanup(func() { rdb.Close() })
		centers[i], err = New(rdb, m, Options{Instance: fmt.Sprintf("i%d", i), EventsMaxLen: 1 << 30, Logger: quietLog})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range m.Agents {
		if err := centers[0].Login(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
	}

	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for i, c := range centers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := driveInstance(ctx, c, i, perInstance, total, &done, &answered, &abandoned); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d calls: %d answered, %d abandoned", total, answered.Load(), abandoned.Load())
	if answered.Load()+abandoned.Load() != total {
		t.Fatalf("answered %d + abandoned %d != %d calls", answered.Load(), abandoned.Load(), total)
	}
	c := centers[0]
	if err := c.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Calls) != 0 {
		t.Fatalf("%d calls left in the ACD", len(snap.Calls))
	}
	for _, a := range snap.Agents {
		if a.State != Available {
			t.Errorf("agent %s ends %s", a.ID, a.State)
		}
	}
	checkStream(t, c, total, answered.Load(), abandoned.Load())
}

// driveInstance is one controller: it enqueues its calls, dispatches for everyone, and acts on the
// offers for its own calls at random: accept then finish, ring-no-answer, or abandon.
// Talking calls also consult (a colleague or a queue), then cancel, hand over or finish.
func driveInstance(ctx context.Context, c *Center, i, calls int, total int64, done, answered, abandoned *atomic.Int64) error {
	rng := rand.New(rand.NewSource(int64(i) + 1))
	offers := c.Offers(ctx, c.opt.Instance)
	var waiting []string // calls enqueued and not yet offered to us
	var ringing []Offer  // offers received, not yet acted on
	oncall := map[string]string{}
	consulting := map[string]string{} // call → the colleague reserved for a consultation
	m := c.Model()
	ended := map[string]bool{}
	next := 0
	end := func(id string, answer bool) {
		ended[id] = true
		done.Add(1)
		if answer {
			answered.Add(1)
		} else {
			abandoned.Add(1)
		}
	}
	for done.Load() < total {
		if ctx.Err() != nil {
			return fmt.Errorf("instance %d: %w with %d/%d calls done", i, ctx.Err(), done.Load(), total)
		}
		var err error
		switch r := rng.Intn(100); {
		case r < 25 && next < calls:
			id := fmt.Sprintf("i%dc%d", i, next)
			next++
			_, err = c.Enqueue(ctx, Waiting{CallID: id, Queue: fmt.Sprintf("q%d", 1+rng.Intn(4)), Priority: rng.Intn(3)})
			waiting = append(waiting, id)
		case r < 50:
			_, err = c.Dispatch(ctx)
		case r < 60 && len(waiting) > 0:
			// The caller hangs up while waiting, or maybe while an offer is on its way to us.
			k := rng.Intn(len(waiting))
			id := waiting[k]
			waiting = append(waiting[:k], waiting[k+1:]...)
			if ended[id] {
				break
			}
			if _, err = c.Abandon(ctx, id); errors.Is(err, ErrConnected) {
				err = nil // accepted meanwhile from a ringing offer: it ends by finish
			} else if err == nil {
				end(id, false)
			}
		case r < 85 && len(ringing) > 0:
			k := rng.Intn(len(ringing))
			o := ringing[k]
			ringing = append(ringing[:k], ringing[k+1:]...)
			if ended[o.CallID] {
				break // a stale offer for a call we abandoned
			}
			switch rng.Intn(10) {
			case 0, 1:
				if err = c.RingNoAnswer(ctx, o.CallID, o.Agent); err == nil {
					err = c.SetAvailable(ctx, o.Agent)
				}
			case 2:
				if _, err = c.Abandon(ctx, o.CallID); err == nil {
					end(o.CallID, false)
				}
			default:
				if _, err = c.Accept(ctx, o.CallID, o.Agent); err == nil {
					oncall[o.CallID] = o.Agent
				}
			}
		case len(oncall) > 0:
			for id, a := range oncall {
				b := consulting[id]
				switch k := rng.Intn(10); {
				case b == "" && k < 3:
					// An attended transfer's first step, to a named colleague or to whoever a queue
					// picks; shared agents make "busy" and "nobody" ordinary answers.
					if k == 0 {
						b = m.Agents[rng.Intn(len(m.Agents))].ID
						err = c.ConsultAgent(ctx, id, a, b)
					} else {
						b, err = c.ConsultQueue(ctx, id, a, fmt.Sprintf("q%d", 1+rng.Intn(4)))
					}
					if errors.Is(err, ErrAgentBusy) || errors.Is(err, ErrNoAgent) || errors.Is(err, ErrBadRequest) {
						err = nil
					} else if err == nil {
						consulting[id] = b
					}
				case b != "" && k < 4:
					if err = c.EndConsult(ctx, id, b, rng.Intn(2) == 0); err == nil {
						delete(consulting, id)
					}
				case b != "" && k < 7:
					if err = c.HandOver(ctx, id, a, b); err == nil {
						delete(consulting, id)
						oncall[id] = b
					}
				default:
					// Finish frees a colleague still reserved (the caller hung up mid-consultation).
					if err = c.Finish(ctx, id, a); err == nil {
						delete(oncall, id)
						delete(consulting, id)
						end(id, true)
					}
				}
				break
			}
		}
		if err != nil {
			return fmt.Errorf("instance %d: %w", i, err)
		}
		// Collect what arrived for us without waiting.
	drain:
		for {
			select {
			case o := <-offers:
				if o.Owner != c.opt.Instance || len(o.Agents) != 1 {
					return fmt.Errorf("instance %d: offer %+v", i, o)
				}
				ringing = append(ringing, o)
			default:
				break drain
			}
		}
		if err := c.Verify(ctx); err != nil {
			return fmt.Errorf("instance %d: %w", i, err)
		}
	}
	return nil
}

// checkStream replays the event stream, which Redis orders totally, and checks each call's life and
// each agent's: an agent rings for one call at a time, a call rings one agent at a time, an agent
// reserved for a consultation holds nothing else, and every call ends exactly once.
func checkStream(t *testing.T, c *Center, total, answered, abandoned int64) {
	t.Helper()
	evs, err := c.Events(context.Background(), "", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	stage := map[string]string{} // call → waiting, ringing, oncall, ended
	callAgent := map[string]string{}
	agentCall := map[string]string{}
	consultOf := map[string]string{} // call → the agent reserved for its consultation
	var complete, abandon, handover int64
	bad := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
	}
	for _, e := range evs {
		switch e.Event {
		case "ENQUEUE":
			if stage[e.Call] != "" {
				bad("%s: ENQUEUE twice", e.Call)
			}
			stage[e.Call] = "waiting"
		case "RING":
			if stage[e.Call] != "waiting" {
				bad("%s: RING while %s", e.Call, stage[e.Call])
			}
			if strings.Contains(e.Agent, " ") {
				bad("%s: rang several agents %q", e.Call, e.Agent)
			}
			if agentCall[e.Agent] != "" {
				bad("%s: agent %s rung while holding %s", e.Call, e.Agent, agentCall[e.Agent])
			}
			stage[e.Call], callAgent[e.Call], agentCall[e.Agent] = "ringing", e.Agent, e.Call
		case "CONNECT":
			if stage[e.Call] != "ringing" || callAgent[e.Call] != e.Agent {
				bad("%s: CONNECT %s while %s with %s", e.Call, e.Agent, stage[e.Call], callAgent[e.Call])
			}
			stage[e.Call] = "oncall"
		case "RINGNOANSWER":
			if stage[e.Call] != "ringing" || callAgent[e.Call] != e.Agent {
				bad("%s: RINGNOANSWER %s while %s with %s", e.Call, e.Agent, stage[e.Call], callAgent[e.Call])
			}
			stage[e.Call], callAgent[e.Call], agentCall[e.Agent] = "waiting", "", ""
		case "COMPLETE":
			if stage[e.Call] != "oncall" || callAgent[e.Call] != e.Agent {
				bad("%s: COMPLETE %s while %s with %s", e.Call, e.Agent, stage[e.Call], callAgent[e.Call])
			}
			if consultOf[e.Call] != "" {
				bad("%s: COMPLETE with %s still reserved", e.Call, consultOf[e.Call])
			}
			stage[e.Call], callAgent[e.Call], agentCall[e.Agent] = "ended", "", ""
			complete++
		case "CONSULT":
			if stage[e.Call] != "oncall" || consultOf[e.Call] != "" || callAgent[e.Call] != e.Data {
				bad("%s: CONSULT %s by %s while %s with %s consulting %q", e.Call, e.Agent, e.Data, stage[e.Call], callAgent[e.Call], consultOf[e.Call])
			}
			if agentCall[e.Agent] != "" {
				bad("%s: agent %s reserved for a consultation while holding %s", e.Call, e.Agent, agentCall[e.Agent])
			}
			consultOf[e.Call], agentCall[e.Agent] = e.Agent, e.Call
		case "CONSULTEND":
			if consultOf[e.Call] != e.Agent || agentCall[e.Agent] != e.Call {
				bad("%s: CONSULTEND %s while consulting %q", e.Call, e.Agent, consultOf[e.Call])
			}
			consultOf[e.Call], agentCall[e.Agent] = "", ""
		case "HANDOVER":
			if stage[e.Call] != "oncall" || callAgent[e.Call] != e.Agent || consultOf[e.Call] != e.Data {
				bad("%s: HANDOVER %s → %s while %s with %s consulting %q", e.Call, e.Agent, e.Data, stage[e.Call], callAgent[e.Call], consultOf[e.Call])
			}
			callAgent[e.Call], agentCall[e.Agent], consultOf[e.Call] = e.Data, "", ""
			handover++
		case "ABANDON":
			switch stage[e.Call] {
			case "waiting":
			case "ringing":
				if callAgent[e.Call] != e.Agent {
					bad("%s: ABANDON freed %q, ringing %q", e.Call, e.Agent, callAgent[e.Call])
				}
				agentCall[callAgent[e.Call]] = ""
			default:
				bad("%s: ABANDON while %s", e.Call, stage[e.Call])
			}
			stage[e.Call], callAgent[e.Call] = "ended", ""
			abandon++
		}
	}
	for call, st := range stage {
		if st != "ended" {
			bad("%s: stream ends with the call %s", call, st)
		}
	}
	t.Logf("stream: %d handovers", handover)
	for a, call := range agentCall {
		if call != "" {
			bad("agent %s ends holding %s", a, call)
		}
	}
	if int64(len(stage)) != total || complete != answered || abandon != abandoned {
		bad("stream: %d calls, %d COMPLETE, %d ABANDON; drivers saw %d, %d, %d", len(stage), complete, abandon, total, answered, abandoned)
	}
}
