package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/redistest"
)

func TestStreamKeepsByAgeNotCount(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	ctx := context.Background()
	s := NewStream(rdb, "{hotline:t}:audit", time.Hour, nil)

	// A burst of actions must not push out earlier entries: the bound is age.
	for i := range 500 {
		action := "monitor"
		if i == 0 {
			action = "login"
		}
		if err := s.Record(ctx, Entry{Actor: "s1", Role: "supervisor", Action: action, Target: "a1"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Recent(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 500 || got[499].Action != "login" || got[0].Outcome != "ok" || got[0].Target != "a1" {
		t.Fatalf("kept %d entries, oldest %+v, newest %+v; want 500 from the login on", len(got), got[len(got)-1], got[0])
	}

	// Two hours later, the next entry trims everything older than the hour kept.
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if err := s.Record(ctx, Entry{Actor: "s1", Role: "supervisor", Action: "logout"}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Recent(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range got {
		if e.Action != "logout" {
			t.Fatalf("entry %+v kept past its hour", e)
		}
	}
}

func TestRecordRefusesAnonymous(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	for _, r := range []Recorder{NewStream(rdb, "{hotline:t}:audit", 0, nil), NewMemory()} {
		if err := r.Record(context.Background(), Entry{Action: "login"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%T.Record without actor = %v, want ErrInvalid", r, err)
		}
	}
}
