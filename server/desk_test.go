package server

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/softphone"
	"github.com/hotline-cc/hotline/switchboard"
)

// TestPauseAfterThisCall (issue 12, deliverable 3): Pause pressed on a call asks for a break after
// it; the call goes on, the wrap-up's submit gives the pause instead of the next caller. Ready
// pressed on a call takes the request back.
func TestPauseAfterThisCall(t *testing.T) {
	d, center, hist := deskRig(t)
	ctx := context.Background()
	talk := func(call string) {
		t.Helper()
		if _, err := center.Enqueue(ctx, acd.Waiting{CallID: call, Queue: "q"}); err != nil {
			t.Fatal(err)
		}
		if o, err := center.Dispatch(ctx); err != nil || len(o) != 1 || o[0].Agent != "a1" {
			t.Fatalf("dispatch %v, %v", o, err)
		}
		if _, err := center.Accept(ctx, call, "a1"); err != nil {
			t.Fatal(err)
		}
		if err := hist.add(ctx, "a1", softphone.CallSummary{CallID: call, StartedAt: time.Now().UTC().Format(time.RFC3339)}); err != nil {
			t.Fatal(err)
		}
	}
	state := func() acd.AgentStatus {
		st, err := center.Agent(ctx, "a1")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// Right after login, before any call: Pause starts the shift on a break.
	if err := d.SetState(ctx, "a1", softphone.StatePaused, "training"); err != nil {
		t.Fatalf("pause right after login: %v", err)
	}
	if st := state(); st.State != acd.Paused || st.Reason != "training" {
		t.Fatalf("after Pause from offline: %+v", st)
	}
	if err := d.SetState(ctx, "a1", softphone.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	talk("c1")
	if err := d.SetState(ctx, "a1", softphone.StatePaused, "lunch"); err != nil {
		t.Fatalf("pause on a call: %v", err)
	}
	if st := state(); st.State != acd.OnCall || st.PauseNext != "lunch" {
		t.Fatalf("after Pause on a call: %+v", st)
	}
	if err := center.Finish(ctx, "c1", "a1"); err != nil {
		t.Fatal(err)
	}
	if err := d.WrapUp(ctx, "a1", "c1", "resolved", ""); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.State != acd.Paused || st.Reason != "lunch" || st.PauseNext != "" {
		t.Fatalf("after the wrap-up: %+v, want paused for lunch", st)
	}

	// Back, on a call again: Pause, then Ready after all.
	if err := d.SetState(ctx, "a1", softphone.StateAvailable, ""); err != nil {
		t.Fatal(err)
	}
	talk("c2")
	if err := d.SetState(ctx, "a1", softphone.StatePaused, "lunch"); err != nil {
		t.Fatal(err)
	}
	if err := d.SetState(ctx, "a1", softphone.StateAvailable, ""); err != nil {
		t.Fatalf("ready on a call: %v", err)
	}
	if st := state(); st.State != acd.OnCall || st.PauseNext != "" {
		t.Fatalf("after Ready on a call: %+v", st)
	}
	if err := center.Finish(ctx, "c2", "a1"); err != nil {
		t.Fatal(err)
	}
	if err := d.WrapUp(ctx, "a1", "c2", "resolved", ""); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.State != acd.Available {
		t.Fatalf("after the wrap-up: %+v, want available", st)
	}
}

// TestCallErr: the switchboard's refusals reach the page as the softphone's, wrapped with their
// detail.
func TestCallErr(t *testing.T) {
	for _, tc := range []struct{ from, to error }{
		{switchboard.ErrNotYourCall, softphone.ErrNotYourCall},
		{switchboard.ErrDialRefused, softphone.ErrRefused},
		{switchboard.ErrTransferFailed, softphone.ErrTransferFailed},
		{switchboard.ErrTargetBusy, softphone.ErrUnavailable},
	} {
		if err := callErr(fmt.Errorf("detail: %w", tc.from)); !errors.Is(err, tc.to) || !errors.Is(err, tc.from) {
			t.Errorf("callErr(%v) = %v, want it to be %v too", tc.from, err, tc.to)
		}
	}
}
