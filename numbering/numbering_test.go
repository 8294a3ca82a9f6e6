package numbering

import (
	"errors"
	"strings"
	"testing"
)

// TestParse: the forms agents and trunks write, each to one canonical number and class; dial
// strings, spoofed caller ids and numbers that do not exist are refused before any rule applies.
func TestParse(t *testing.T) {
	plan := Russia
	plan.ExtensionLength = 4
	tests := []struct {
		in    string
		want  string
		class Class
	}{
		// one mobile number, every way it is written
		{"+79161234567", "+79161234567", Mobile},
		{"89161234567", "+79161234567", Mobile},
		{"79161234567", "+79161234567", Mobile}, // caller id without '+'
		{"9161234567", "+79161234567", Mobile},  // national significant number alone
		{"8 (916) 123-45-67", "+79161234567", Mobile},
		{"+7 916 123 45 67", "+79161234567", Mobile},
		{"  +7-916-123-45-67 ", "+79161234567", Mobile},
		// geographic: Moscow, St Petersburg
		{"84951234567", "+74951234567", Geographic},
		{"+7 (812) 123-45-67", "+78121234567", Geographic},
		{"83432123456", "+73432123456", Geographic},
		// toll-free and premium-rate
		{"8-800-555-01-00", "+78005550100", TollFree},
		{"88095550100", "+78095550100", Premium},
		{"+78035550100", "+78035550100", Premium},
		// Kazakhstan shares +7
		{"+77012345678", "+77012345678", International},
		{"87272123456", "+77272123456", International},
		// abroad, with + or 810
		{"+49 30 1234567", "+49301234567", International},
		{"810 49 30 1234567", "+49301234567", International},
		{"+88216000000", "+88216000000", International}, // satellite (Thuraya)
		// short numbers
		{"112", "112", Emergency},
		{"03", "03", Emergency},
		{"2345", "2345", Internal},
	}
	for _, tc := range tests {
		n, err := plan.Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if n.Canonical != tc.want || n.Class != tc.class {
			t.Errorf("Parse(%q) = %s %s, want %s %s", tc.in, n.Canonical, n.Class, tc.want, tc.class)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		// the dial-string injection of issue 10, and its parts
		"1@trunk&PJSIP/88216000000@trunk,60,U(evil)",
		"89161234567&PJSIP/88216000000@trunk",
		"89161234567,60,U(evil)",
		"89161234567@trunk",
		"PJSIP/89161234567",
		"89161234567/n",
		// the spoofed caller id of issue 10
		"x@internal-pbx/sip:+88216000000@premium.example",
		"sip:+79161234567@carrier.example",
		"anonymous",
		"+7916123456+7",
		"8916123456\x00",
		"８９１６１２３４５６７", // full-width digits
		"89161234567\n",
		"89161234567;x",
		"${EXTEN}",
		// lengths and ranges that do not exist
		"891612345678",      // 12 digits
		"+7916123456",       // +7 and 9
		"+791612345678",     // +7 and 11
		"+1234",             // too short for anywhere
		"+1234567890123456", // 16: longer than E.164
		"+0123456789",
		"85551234567", // +7 5xx is not assigned
		"81234567890", // +7 1xx
		"5551234",     // 7 digits: no extension of that length here
		"1",
		strings.Repeat("9", 40),
	} {
		if n, err := Russia.Parse(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, %v; want ErrMalformed", in, n, err)
		}
	}
}

// TestCheck: the default rules dial mobile, geographic, toll-free and internal numbers and refuse
// premium-rate, international (Kazakhstan included) and emergency numbers; allow and deny prefixes
// override classes, deny first.
func TestCheck(t *testing.T) {
	plan := Russia
	plan.ExtensionLength = 4
	def := &Rules{Plan: plan, Classes: DefaultClasses}
	custom := &Rules{Plan: plan, Classes: DefaultClasses,
		AllowPrefixes: []string{"+375", "+7809555"},
		DenyPrefixes:  []string{"+7800100", "+3751"}}
	tests := []struct {
		rules *Rules
		in    string
		want  error
	}{
		{def, "89161234567", nil},
		{def, "+74951234567", nil},
		{def, "88005550100", nil},
		{def, "2345", nil},
		{def, "88095550100", ErrRefused},
		{def, "+78035550100", ErrRefused},
		{def, "+88216000000", ErrRefused},
		{def, "81049301234567", ErrRefused},
		{def, "+77012345678", ErrRefused},
		{def, "112", ErrRefused},
		{def, "1@trunk&PJSIP/88216000000@trunk,60,U(evil)", ErrMalformed},
		{custom, "+375291234567", nil},        // allowed country
		{custom, "+375171234567", ErrRefused}, // but not its +3751 range
		{custom, "88095550100", nil},          // one premium range allowed
		{custom, "88095560100", ErrRefused},   // not another
		{custom, "88001001234", ErrRefused},   // a denied toll-free range
		{custom, "88002001234", nil},
	}
	for _, tc := range tests {
		n, err := tc.rules.Check(tc.in)
		if tc.want == nil && err != nil {
			t.Errorf("Check(%q): %v", tc.in, err)
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("Check(%q) = %v, %v; want %v", tc.in, n, err, tc.want)
		}
	}
	_, err := def.Check("88095550100")
	if err == nil || !strings.Contains(err.Error(), "premium") || !strings.Contains(err.Error(), "+78095550100") {
		t.Errorf("a refusal should name the number and its class: %v", err)
	}
}

// FuzzParse: whatever is accepted, what reaches Asterisk is a '+' and digits,
// or digits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"89161234567", "+49 30 1234567", "1@trunk&PJSIP/x", "112", "2345", "8 (800) 555-01-00"} {
		f.Add(s)
	}
	plan := Russia
	plan.ExtensionLength = 4
	f.Fuzz(func(t *testing.T, s string) {
		n, err := plan.Parse(s)
		if err != nil {
			return
		}
		d := strings.TrimPrefix(n.Canonical, "+")
		if d == "" || len(d) > 15 || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("Parse(%q) = %q", s, n.Canonical)
		}
		again, err := plan.Parse(n.Canonical)
		if err != nil || again != n {
			t.Fatalf("canonical %q does not parse to itself: %v %v", n.Canonical, again, err)
		}
	})
}

func TestValidPrefix(t *testing.T) {
	for s, want := range map[string]bool{"+7809": true, "375": true, "+": false, "": false, "+7a": false, "+7 809": false} {
		if ValidPrefix(s) != want {
			t.Errorf("ValidPrefix(%q) = %v", s, !want)
		}
	}
}
