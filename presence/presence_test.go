package presence

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestPages: two controllers over one Redis. A page open on either keeps its agent present; a
// closed page counts for the grace, and a page that moved to the other controller keeps its agent
// present after the first one's grace has run out.
func TestPages(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	ctx := context.Background()
	const grace = 300 * time.Millisecond
	a := New(rdb, "{hotline:t}:page:", grace)
	b := New(rdb, "{hotline:t}:page:", grace)
	everyone := []string{"a1", "a2", "a3"}
	gone := func() []string {
		g, err := a.Gone(ctx, everyone)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if g := gone(); !slices.Equal(g, everyone) {
		t.Fatalf("before any page: gone %v, want all", g)
	}
	for _, ag := range []string{"a1", "a2"} {
		if err := a.Opened(ctx, ag); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Opened(ctx, "a3"); err != nil {
		t.Fatal(err)
	}
	if g := gone(); len(g) != 0 {
		t.Fatalf("every page open: gone %v", g)
	}

	// a1's page closes on a; a2's moves to b (it opens there, then closes on a). Both controllers
	// keep refreshing what they hold, for longer than the grace.
	if err := a.Closed(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Opened(ctx, "a2"); err != nil {
		t.Fatal(err)
	}
	if err := a.Closed(ctx, "a2"); err != nil {
		t.Fatal(err)
	}
	if g := gone(); len(g) != 0 {
		t.Fatalf("within the grace: gone %v, want nobody", g)
	}
	waitfor.True(t, "a1 gone after the grace", 10*time.Second, func() bool {
		if err := b.Refresh(ctx, []string{"a2", "a3"}); err != nil {
			t.Fatal(err)
		}
		return slices.Equal(gone(), []string{"a1"})
	})
	// Still only a1 after another full grace of refreshes.
	deadline := time.Now().Add(2 * grace)
	for time.Now().Before(deadline) {
		if err := b.Refresh(ctx, []string{"a2", "a3"}); err != nil {
			t.Fatal(err)
		}
		if g := gone(); !slices.Equal(g, []string{"a1"}) {
			t.Fatalf("with b refreshing a2 and a3: gone %v, want [a1]", g)
		}
		time.Sleep(b.RefreshEvery())
	}
}
