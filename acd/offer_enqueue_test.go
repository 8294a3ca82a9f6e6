package acd

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestOfferOnEnqueue: with OfferOnEnqueue a caller who finds an agent free is offered by Enqueue's own
// script run, and the pairing is still Dispatch's: the most urgent waiting call of any queue the
// free agent serves goes first, whoever's enqueue made the run.
func TestOfferOnEnqueue(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(e *env)
		call     string
		queue    string
		wantRing map[string]string // call → agent ringing right after the enqueue
		wantWait []string          // calls still waiting in the enqueued queue
	}{
		{
			name:  "an agent is free",
			setup: func(e *env) { e.login("a1") },
			call:  "c1", queue: "sales",
			wantRing: map[string]string{"c1": "a1"},
		},
		{
			name:  "nobody is free: the caller waits for Dispatch",
			setup: func(e *env) {},
			call:  "c1", queue: "sales",
			wantWait: []string{"c1"},
		},
		{
			name: "an earlier caller of another queue the agent serves goes first",
			setup: func(e *env) {
				e.enqueue("c0", "support", 0) // nobody logged in: c0 waits
				e.clock.Advance(time.Second)
				e.login("a1") // a login does not dispatch: a1 is free with c0 waiting
			},
			call: "c1", queue: "sales",
			wantRing: map[string]string{"c0": "a1"},
			wantWait: []string{"c1"},
		},
		{
			name: "an agent whose wrap-up has just ended",
			setup: func(e *env) {
				e.login("a1")
				e.enqueue("c0", "sales", 0)
				if _, err := e.c.Accept(e.ctx, "c0", "a1"); err != nil {
					e.t.Fatal(err)
				}
				e.must(e.c.Finish(e.ctx, "c0", "a1"))
				e.clock.Advance(10 * time.Second) // sales' wrap-up: nothing has run since
			},
			call: "c1", queue: "sales",
			wantRing: map[string]string{"c1": "a1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testCenter)
			e.c.opt.OfferOnEnqueue = true
			tt.setup(e)
			e.must(e.rdb.Del(e.ctx, e.c.Key("offers:i1")).Err()) // the setup's own offers
			ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
			defer cancel()
			offers := e.c.Offers(ctx, "i1")
			e.enqueue(tt.call, tt.queue, 0)
			e.must(e.c.Verify(e.ctx))
			for c, a := range tt.wantRing {
				if st := e.agent(a); st.State != Ringing || st.Call != c {
					t.Errorf("%s is %s for %q, want ringing for %s", a, st.State, st.Call, c)
				}
				select {
				case o := <-offers:
					if o.CallID != c || o.Agent != a {
						t.Errorf("offer %s→%s, want %s→%s", o.CallID, o.Agent, c, a)
					}
				case <-ctx.Done():
					t.Fatalf("no offer for %s reached the owner", c)
				}
			}
			if got := e.waiting(tt.queue); !slices.Equal(got, tt.wantWait) {
				t.Errorf("waiting in %s: %v, want %v", tt.queue, got, tt.wantWait)
			}
			if got := e.dispatch(); len(got) != 0 {
				t.Errorf("a later Dispatch offered %v: the enqueue left a free agent and a caller apart", got)
			}
		})
	}
}
