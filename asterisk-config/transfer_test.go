package asteriskconfig

import (
	"regexp"
	"strings"
	"testing"
)

// TestTransferPatternsOnlyDigits: the blind-transfer context matches only what the controller's
// number check produces (+ and 7-15 digits, or 2-6 digits) and nothing with another character: an
// extension such as _X. would pass 1@trunk&PJSIP/... into Dial (issue 10, finding 3).
func TestTransferPatternsOnlyDigits(t *testing.T) {
	var patterns []string
	in := false
	for _, line := range strings.Split(string(Extensions), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			in = line == "[hotline-transfer]"
			continue
		}
		if in && strings.HasPrefix(line, "exten =>") {
			patterns = append(patterns, strings.TrimSpace(strings.SplitN(strings.TrimPrefix(line, "exten =>"), ",", 2)[0]))
		}
	}
	if len(patterns) == 0 {
		t.Fatal("no [hotline-transfer] extensions in extensions.conf")
	}
	strict := regexp.MustCompile(`^_\+?X+$`)
	for _, p := range patterns {
		if !strict.MatchString(p) {
			t.Errorf("[hotline-transfer] pattern %q matches more than + and digits", p)
		}
	}
	match := func(exten string) bool {
		for _, p := range patterns {
			pat := p[1:]
			if len(pat) != len(exten) {
				continue
			}
			ok := true
			for i := range pat {
				c, d := pat[i], exten[i]
				if c == 'X' && (d < '0' || d > '9') || c != 'X' && c != d {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
	for _, exten := range []string{"+79161234567", "+78005550100", "+49301234567", "+2901234", "+123456789012345", "2345", "112", "01"} {
		if !match(exten) {
			t.Errorf("%q, a canonical number, matches no [hotline-transfer] pattern", exten)
		}
	}
	for _, exten := range []string{"1@trunk&PJSIP/88216000000@trunk,60,U(evil)", "+7916123456&", "+79161234567,60", "89161234567@trunk", "+1234567890123456", "1", "x@internal-pbx"} {
		if match(exten) {
			t.Errorf("%q matches a [hotline-transfer] pattern", exten)
		}
	}
}
