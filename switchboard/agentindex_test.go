package switchboard

import (
	"fmt"
	"log/slog"
	"testing"
)

// indexRig is a switchboard with only what the agent index needs: calls registered and published
// by hand, as the call goroutines would.
func indexRig() *Switchboard {
	return &Switchboard{log: slog.New(slog.DiscardHandler), channels: map[string]*inbox{},
		calls: map[string]*call{}, byAgent: map[string]map[*call]struct{}{}}
}

func TestActiveCallIndex(t *testing.T) {
	sb := indexRig()
	c := sb.newCall("ch-1", CallerID{}, "8800")
	if !sb.register(c) {
		t.Fatal("register refused")
	}
	other := sb.newCall("ch-2", CallerID{}, "8800")
	sb.register(other)
	other.agent, other.talking = "p009", true
	other.publish()

	type want struct {
		agent       string
		ok, talking bool
	}
	steps := []struct {
		name   string
		change func()
		want   []want
	}{
		{"waiting", func() {}, []want{{"p001", false, false}, {"p009", true, true}}},
		{"ringing two (ring-all)", func() { c.agent, c.rung, c.ringing = "p001", []string{"p001", "p002"}, true },
			[]want{{"p001", true, false}, {"p002", true, false}, {"p003", false, false}}},
		{"p001 answered", func() { c.rung, c.ringing, c.talking = nil, false, true },
			[]want{{"p001", true, true}, {"p002", false, false}}},
		{"p001 consults p003", func() { c.consult = &consultation{agent: "p003"} },
			[]want{{"p001", true, true}, {"p003", true, false}}},
		{"p003 answered the consultation", func() { c.consult.answered = true },
			[]want{{"p003", true, true}}},
		{"consultation cancelled", func() { c.consult = nil },
			[]want{{"p001", true, true}, {"p003", false, false}}},
	}
	for _, st := range steps {
		st.change()
		c.publish()
		for _, w := range st.want {
			card, talking, ok := sb.ActiveCall(w.agent)
			if ok != w.ok || talking != w.talking || (ok && card.ID == "") {
				t.Errorf("%s: ActiveCall(%s) = %q talking %v ok %v; want talking %v ok %v", st.name, w.agent, card.ID, talking, ok, w.talking, w.ok)
			}
		}
	}
	sb.unregister(c)
	if _, _, ok := sb.ActiveCall("p001"); ok {
		t.Error("ActiveCall(p001) found the call after it ended")
	}
	if _, ok := sb.byAgent["p001"]; ok {
		t.Error("the index keeps an agent whose call ended")
	}
	if card, _, ok := sb.ActiveCall("p009"); !ok || card.ID != "ch-2" {
		t.Errorf("ActiveCall(p009) = %q, %v; want ch-2", card.ID, ok)
	}
}

// BenchmarkActiveCall is a crew member's look at their phone with many calls in the switchboard:
// the index makes it independent of the number of calls.
func BenchmarkActiveCall(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("calls=%d", n), func(b *testing.B) {
			sb := indexRig()
			for i := range n {
				c := sb.newCall(fmt.Sprintf("ch-%d", i), CallerID{}, "8800")
				sb.register(c)
				c.agent, c.talking = fmt.Sprintf("a%05d", i), true
				c.publish()
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				sb.ActiveCall(fmt.Sprintf("a%05d", i%(2*n))) // half of them idle
			}
		})
	}
}
