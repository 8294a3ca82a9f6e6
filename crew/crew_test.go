package crew

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/waitfor"
)

// fakeCenter is one agent's phone and desk: a call rings when the test says, and the desk records
// what the member did.
type fakeCenter struct {
	mu      sync.Mutex
	call    string
	talking bool
	did     []string
}

func (f *fakeCenter) record(s string) { f.mu.Lock(); f.did = append(f.did, s); f.mu.Unlock() }
func (f *fakeCenter) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.did)
}
func (f *fakeCenter) Available(context.Context, string) error { f.record("available"); return nil }
func (f *fakeCenter) Pause(_ context.Context, _, r string) error {
	f.record("pause " + r)
	return nil
}
func (f *fakeCenter) Answer(_ context.Context, _, call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.did = append(f.did, "answer "+call)
	f.talking = true
	return nil
}
func (f *fakeCenter) Hangup(_ context.Context, _, call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.did = append(f.did, "hangup "+call)
	f.call, f.talking = "", false
	return nil
}
func (f *fakeCenter) WrapUp(_ context.Context, _, call, d, _ string) error {
	f.record("wrapup " + call + " " + d)
	return nil
}
func (f *fakeCenter) calls(string) (string, bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.call, f.talking, f.call != ""
}
func (f *fakeCenter) ring(call string) { f.mu.Lock(); f.call, f.talking = call, false; f.mu.Unlock() }

// TestMember: a member goes available, answers what rings, talks, hangs up and wraps up with one of
// the dispositions; a break comes after
// BreakEvery calls.
func TestMember(t *testing.T) {
	f := &fakeCenter{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		Run(ctx, Config{Agents: []string{"p250"}, Dispositions: []string{"solved"}, TimeScale: 0.001, BreakEvery: 2,
			Poll: 5 * time.Millisecond}, f, f.calls, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	waitfor.True(t, "available", 10*time.Second, func() bool { return slices.Contains(f.actions(), "available") })
	f.ring("c1")
	waitfor.True(t, "c1 wrapped up", 10*time.Second, func() bool { return slices.Contains(f.actions(), "wrapup c1 solved") })
	f.ring("c2")
	waitfor.True(t, "c2 answered", 10*time.Second, func() bool { return slices.Contains(f.actions(), "answer c2") })
	waitfor.True(t, "a break after the second call", 10*time.Second, func() bool { return slices.Contains(f.actions(), "pause break") })
	cancel()
	<-done
	want := []string{"available", "answer c1", "hangup c1", "wrapup c1 solved", "answer c2", "hangup c2", "wrapup c2 solved", "pause break"}
	if got := f.actions(); !slices.Equal(got[:len(want)], want) {
		t.Errorf("the member did %v, want %v first", got, want)
	}
}

// TestBellWakesMember: a member whose looks are an hour apart still answers a ring, and notices the
// caller hanging up, when the bell tells them; a ring for someone outside the crew is ignored.
func TestBellWakesMember(t *testing.T) {
	f := &fakeCenter{}
	bell := NewBell([]string{"p250"})
	bell.Ring("p999")
	var nilBell *Bell
	nilBell.Ring("p250")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		Run(ctx, Config{Agents: []string{"p250"}, ArriveWithin: time.Millisecond, AnswerAfter: time.Millisecond,
			TalkMin: time.Hour, WrapUp: time.Millisecond, Poll: time.Hour, Bell: bell},
			f, f.calls, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	waitfor.True(t, "available", 10*time.Second, func() bool { return slices.Contains(f.actions(), "available") })
	f.ring("c1")
	bell.Ring("p250")
	waitfor.True(t, "c1 answered", 10*time.Second, func() bool { return slices.Contains(f.actions(), "answer c1") })
	// The caller hangs up long before the member's hour of talk is up.
	f.mu.Lock()
	f.call, f.talking = "", false
	f.mu.Unlock()
	bell.Ring("p250")
	waitfor.True(t, "c1 wrapped up", 10*time.Second, func() bool { return slices.Contains(f.actions(), "wrapup c1 resolved") })
	cancel()
	<-done
}
