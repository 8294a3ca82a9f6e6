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

// TestGlobalsAndLabels: every [globals] section counts and a later one wins, as Asterisk's
// pbx_config reads them; n(label) names its priority for Goto and GotoIf.
func TestGlobalsAndLabels(t *testing.T) {
	plan, err := parseDialplan([]byte(`
[globals]
A=first
B=kept
[ctx]
exten => s,1,NoOp()
 same => n(middle),NoOp()
 same => n(last),Hangup()
exten => _9X,1(start),NoOp()
[globals]
A=second
`))
	if err != nil {
		t.Fatal(err)
	}
	if plan.globals["A"] != "second" || plan.globals["B"] != "kept" {
		t.Errorf("globals = %v, want A=second (the later section) and B=kept", plan.globals)
	}
	from := dpLoc{"ctx", "s", 1}
	for _, tc := range []struct {
		dest string
		want dpLoc
	}{
		{"last", dpLoc{"ctx", "s", 3}},
		{"2", dpLoc{"ctx", "s", 2}},
		{"s,middle", dpLoc{"ctx", "s", 2}},
		{"ctx,91,start", dpLoc{"ctx", "91", 1}},
	} {
		got, err := plan.target(from, tc.dest)
		if err != nil || got != tc.want {
			t.Errorf("target(%q) = %v, %v; want %v", tc.dest, got, err, tc.want)
		}
	}
	if _, err := plan.target(from, "nowhere"); err == nil {
		t.Error("a label that does not exist resolved")
	}
}

// TestEvalExpr: the comparisons hotline's dialplan makes, as Asterisk's expression parser answers
// them.
func TestEvalExpr(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`"FAILED" = "FAILED"`, "1"},
		{`"SUCCESS" = "FAILED"`, "0"},
		{`"" = ""`, "1"},
		{`"Local/x@y" = ""`, "0"},
		{`"a" != "b"`, "1"},
		{`a=a`, "1"},
		{`01 == 1`, "1"},
		{`3 > 2`, "1"},
		{`10 > 9`, "1"}, // numbers as numbers, not as text
		{`2 > 2`, "0"},
		{`2 >= 2`, "1"},
		{`1 < 2`, "1"},
		{`2 <= 1`, "0"},
		{`"a" < "b"`, "1"},
		{`41 + 1`, "42"},
		{`5`, "5"},
		{``, ""},
	} {
		got, err := evalExpr(tc.expr)
		if err != nil || got != tc.want {
			t.Errorf("evalExpr(%s) = %q, %v; want %q", tc.expr, got, err, tc.want)
		}
	}
	for _, bad := range []string{`1 & 1`, `a + 1`, `"open`, `a = b = c`} {
		if _, err := evalExpr(bad); err == nil {
			t.Errorf("evalExpr(%s) accepted", bad)
		}
	}
	for cond, want := range map[string]bool{"": false, " ": false, "0": false, "1": true, "2": true, "yes": true} {
		if checkCondition(cond) != want {
			t.Errorf("checkCondition(%q) = %v", cond, !want)
		}
	}
}
