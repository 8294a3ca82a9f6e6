package switchboard

import "testing"

// TestIsCallBridge: a call's bridges are found by their id, and never another call's whose id
// starts the same.
func TestIsCallBridge(t *testing.T) {
	for _, tc := range []struct {
		id, call string
		want     bool
	}{
		{newBridgeID("1712.5"), "1712.5", true},
		{"br-1712.5", "1712.5", true}, // named before ids were fresh
		{"br-1712.55-abc", "1712.5", false},
		{"br-a-b-c", "a-b", true},
		{"br-a-b-c", "a", false},
		{"br-a-", "a", false},
		{"cs-a-b", "a", false},
	} {
		if got := isCallBridge(tc.id, tc.call); got != tc.want {
			t.Errorf("isCallBridge(%q, %q) = %v, want %v", tc.id, tc.call, got, tc.want)
		}
	}
}
