package asterisksim

import (
	"os"
	"strings"
	"testing"

	asteriskconfig "github.com/hotline-cc/hotline/asterisk-config"
)

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, exten string
		want           bool
	}{
		{"X.", "8800", true},
		{"X.", "8", false},
		{"X.", "", false},
		{"NXX", "212", true},
		{"NXX", "112", false},
		{"Z!", "1", true},
		{"[1-3]X", "25", true},
		{"[1-3]X", "45", false},
		{"[13]X", "35", true},
		{"88XX", "8800", true},
		{"88XX", "88001", false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"/"+tc.exten, func(t *testing.T) {
			if got := matchPattern(tc.pattern, tc.exten); got != tc.want {
				t.Fatalf("matchPattern(%q, %q) = %v, want %v", tc.pattern, tc.exten, got, tc.want)
			}
		})
	}
}

func TestParseDialplanErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"unterminated context", "[ctx\nexten => s,1,NoOp()", "line 1"},
		{"same without exten", "[ctx]\nsame => n,NoOp()", "line 2: same =>"},
		{"bad priority", "[ctx]\nexten => s,x,NoOp()", "bad priority"},
		{"n first", "[ctx]\nexten => s,n,NoOp()", "priority n"},
		{"unknown key", "[ctx]\nfoo => bar", "unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseDialplan([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestEmbeddedDialplan: extensions.conf parses and has every context the recordings used.
func TestEmbeddedDialplan(t *testing.T) {
	plan, err := parseDialplan(asteriskconfig.Dialplan())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"from-pstn", "after-stasis", "agent-sim", "caller-press1-tone"}
	if used, err := os.ReadFile("../../shared/ari-transcripts/dialplan-used.conf"); err == nil {
		recorded, err := parseDialplan(used)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, recorded.contextNames()...)
	}
	for _, c := range want {
		if plan.contexts[c] == nil {
			t.Errorf("context %s missing from extensions.conf", c)
		}
	}
	for _, did := range []string{"8800", "4951234567"} {
		steps, ok := plan.steps("from-pstn", did)
		if !ok || !strings.HasPrefix(steps[2].data, "hotline,inbound,") {
			t.Errorf("%s@from-pstn does not enter Stasis(hotline,inbound,...): %v", did, steps)
		}
	}
}
