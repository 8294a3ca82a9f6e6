package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/softphone"
)

// TestHistoryKeepsWrapUp: the agent's calls today carry the wrap-up's disposition and note, newest
// first, and a call that never connected has no line to dispose (errNoLine).
func TestHistoryKeepsWrapUp(t *testing.T) {
	h := &history{rdb: redistest.Start(t).Client(t), prefix: "{hotline:test}:"}
	ctx := context.Background()
	now := time.Now().UTC()
	for i, id := range []string{"c1", "c2"} {
		s := softphone.CallSummary{CallID: id, CallerNumber: "7916", Queue: "general", StartedAt: now.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), TalkSeconds: 30}
		if err := h.add(ctx, "p001", s); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.dispose(ctx, "p001", "c1", "claim_filed", "перезвонить завтра"); err != nil {
		t.Fatal(err)
	}
	if err := h.dispose(ctx, "p001", "never-connected", "resolved", ""); !errors.Is(err, errNoLine) {
		t.Fatalf("dispose of a call with no line = %v, want errNoLine", err)
	}
	// Once: the same again is a retry (nothing written), another one is refused; the records'
	// stream has the first only.
	if err := h.dispose(ctx, "p001", "c1", "claim_filed", "перезвонить завтра"); !errors.Is(err, errDisposedSame) {
		t.Fatalf("the same wrap-up again = %v, want errDisposedSame", err)
	}
	if err := h.dispose(ctx, "p001", "c1", "resolved", strings.Repeat("x", 4000)); !errors.Is(err, errDisposed) {
		t.Fatalf("another wrap-up of c1 = %v, want errDisposed", err)
	}
	if n := h.rdb.XLen(ctx, h.prefix+wrapupsStream).Val(); n != 1 {
		t.Errorf("%d entries in the wrap-ups stream, want 1", n)
	}
	got, err := h.today(ctx, "p001")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].CallID != "c2" || got[1].CallID != "c1" {
		t.Fatalf("today = %+v, want c2 then c1", got)
	}
	if got[1].Disposition != "claim_filed" || got[1].Note != "перезвонить завтра" {
		t.Errorf("c1 = %+v, want its disposition and note", got[1])
	}
	// The records copy the wrap-up from its stream: one entry, the refused one not there.
	entries, err := h.rdb.XRange(ctx, h.prefix+wrapupsStream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Values["call"] != "c1" || entries[0].Values["agent"] != "p001" ||
		entries[0].Values["disposition"] != "claim_filed" || entries[0].Values["note"] != "перезвонить завтра" {
		t.Errorf("wrap-ups stream %+v", entries)
	}
}
