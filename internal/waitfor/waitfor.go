// Package waitfor waits in tests for a condition on state that has no event to wait on (what a
// simulated caller hears, a row in Redis), polling it cheaply until a deadline.
package waitfor

import (
	"testing"
	"time"
)

// True polls cond every 20 ms until it holds, and fails the test after timeout.
func True(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}
