// Package numbering turns a phone number as people and trunks write it (an agent typing
// "8 (916) 123-45-67", a caller id "79161234567") into one canonical form, says what kind of number
// it is, and decides whether the center may dial it. Everything the switchboard dials goes through
// Rules.Check, and only the canonical form it returns reaches Asterisk: it is made of a '+' and
// digits (or digits alone for an internal extension), so no input can add a dial string, a
// Dial() option or a dialplan location.
//
// It knows nothing of ARI or HTTP.
package numbering

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Class is what kind of number a number is; dialling rules allow classes.
type Class string

const (
	Mobile        Class = "mobile"        // +7 9xx
	Geographic    Class = "geographic"    // +7 3xx, 4xx, 8xx outside 80x
	TollFree      Class = "tollfree"      // +7 800: free to the caller, paid by the called
	Premium       Class = "premium"       // +7 80x other than 800 (809 and the like): paid services
	International Class = "international" // any other country, Kazakhstan's +7 6xx/7xx included
	Emergency     Class = "emergency"     // 112, 101..104, 01..04
	Internal      Class = "internal"      // a short internal extension (Plan.ExtensionLength digits)
)

// Classes lists every class, for configuration checks and messages.
var Classes = []Class{Mobile, Geographic, TollFree, Premium, International, Emergency, Internal}

// ErrMalformed means the input is not a number in the plan (wrong characters or length). The
// message says why; the input itself is never echoed unquoted.
var ErrMalformed = errors.New("not a phone number")

// ErrRefused means a well-formed number that the center's rules do not allow.
var ErrRefused = errors.New("number not allowed")

// Number is a parsed number.
type Number struct {
	// Canonical is "+" and the E.164 digits, or the digits of an internal extension or an
	// emergency short number. It holds nothing else.
	Canonical string
	Class     Class
}

func (n Number) String() string { return n.Canonical }

// Plan is a national numbering plan.
type Plan struct {
	CountryCode    string // "7"
	TrunkPrefix    string // "8": 8 916 123-45-67 is +7 916 123-45-67
	IntlPrefix     string // "810": 810 49 30 1234567 is +49 30 1234567
	NationalLength int    // digits of a national significant number: 10
	// ExtensionLength is the length of internal extensions; 0: there are none.
	ExtensionLength int
	// Emergency lists the short numbers of the emergency services.
	Emergency []string
	// classify says what a national significant number is, or false when no such number exists.
	classify func(nsn string) (Class, bool)
}

// Russia is the Russian plan: +7 and ten digits, 8 as the trunk prefix, 810 to dial abroad.
// +7 6xx and +7 7xx are Kazakhstan's (it shares the country code): international.
var Russia = Plan{
	CountryCode: "7", TrunkPrefix: "8", IntlPrefix: "810", NationalLength: 10,
	Emergency: []string{"112", "101", "102", "103", "104", "01", "02", "03", "04"},
	classify:  classifyRU,
}

func classifyRU(nsn string) (Class, bool) {
	switch {
	case nsn[0] == '9':
		return Mobile, true
	case strings.HasPrefix(nsn, "800"):
		return TollFree, true
	case strings.HasPrefix(nsn, "80"):
		// 801..809: non-geographic paid services (809 premium-rate, 803 telematic, ...).
		return Premium, true
	case nsn[0] == '3', nsn[0] == '4', nsn[0] == '8':
		return Geographic, true
	case nsn[0] == '6', nsn[0] == '7':
		return International, true // Kazakhstan
	}
	return "", false
}

// maxInput bounds what is parsed at all; a number with its spaces and dashes fits well within.
const maxInput = 32

// Parse reads s as an agent or a trunk writes a number: digits, an optional leading '+', and spaces,
// dashes, dots and parentheses between digits for readability. Anything else is ErrMalformed.
func (p Plan) Parse(s string) (Number, error) {
	s = strings.Trim(s, " ")
	if s == "" {
		return Number{}, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if len(s) > maxInput {
		return Number{}, fmt.Errorf("%w: longer than %d characters", ErrMalformed, maxInput)
	}
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return Number{}, fmt.Errorf("%w: %q is not allowed (only digits, a leading +, spaces, dashes and parentheses)", ErrMalformed, r)
		}
	}
	d := b.String()
	if d == "" {
		return Number{}, fmt.Errorf("%w: no digits", ErrMalformed)
	}
	switch {
	case plus:
		return p.international(d)
	case p.IntlPrefix != "" && strings.HasPrefix(d, p.IntlPrefix) && len(d) > len(p.IntlPrefix)+6:
		return p.international(d[len(p.IntlPrefix):])
	case len(d) == len(p.TrunkPrefix)+p.NationalLength && strings.HasPrefix(d, p.TrunkPrefix):
		return p.national(d[len(p.TrunkPrefix):])
	case len(d) == len(p.CountryCode)+p.NationalLength && strings.HasPrefix(d, p.CountryCode):
		return p.national(d[len(p.CountryCode):]) // a caller id without its '+'
	case len(d) == p.NationalLength:
		return p.national(d)
	case slices.Contains(p.Emergency, d):
		return Number{Canonical: d, Class: Emergency}, nil
	case p.ExtensionLength > 0 && len(d) == p.ExtensionLength:
		return Number{Canonical: d, Class: Internal}, nil
	}
	return Number{}, fmt.Errorf("%w: %d digits is neither a national number (%d digits, or %s/%s and %d), an international one (+ or %s first) nor an extension",
		ErrMalformed, len(d), p.NationalLength, p.TrunkPrefix, p.CountryCode, p.NationalLength, p.IntlPrefix)
}

// international reads E.164 digits (country code first).
func (p Plan) international(d string) (Number, error) {
	if strings.HasPrefix(d, p.CountryCode) {
		if len(d) != len(p.CountryCode)+p.NationalLength {
			return Number{}, fmt.Errorf("%w: +%s numbers have %d digits after the country code", ErrMalformed, p.CountryCode, p.NationalLength)
		}
		return p.national(d[len(p.CountryCode):])
	}
	// E.164: at most 15 digits; no country's numbers are shorter than 7 with the code.
	if len(d) < 7 || len(d) > 15 {
		return Number{}, fmt.Errorf("%w: an international number has 7 to 15 digits", ErrMalformed)
	}
	if d[0] == '0' {
		return Number{}, fmt.Errorf("%w: no country code starts with 0", ErrMalformed)
	}
	return Number{Canonical: "+" + d, Class: International}, nil
}

func (p Plan) national(nsn string) (Number, error) {
	c, ok := p.classify(nsn)
	if !ok {
		return Number{}, fmt.Errorf("%w: no +%s number starts with %c", ErrMalformed, p.CountryCode, nsn[0])
	}
	return Number{Canonical: "+" + p.CountryCode + nsn, Class: c}, nil
}

// Rules decide which numbers the center dials.
type Rules struct {
	Plan Plan
	// Classes are allowed; a number of another class is refused unless AllowPrefixes names it.
	Classes []Class
	// AllowPrefixes are canonical prefixes ("+7495", "+375") allowed whatever their class.
	AllowPrefixes []string
	// DenyPrefixes are canonical prefixes refused whatever else says (DenyPrefixes win).
	DenyPrefixes []string
}

// DefaultClasses are what a center dials unless configured otherwise: no premium-rate, no
// international, no emergency services (a caller in need dials them themselves).
var DefaultClasses = []Class{Mobile, Geographic, TollFree, Internal}

// Check parses s and applies the rules: the canonical number, or ErrMalformed or ErrRefused with
// the reason.
func (r *Rules) Check(s string) (Number, error) {
	n, err := r.Plan.Parse(s)
	if err != nil {
		return Number{}, err
	}
	for _, p := range r.DenyPrefixes {
		if strings.HasPrefix(n.Canonical, p) {
			return n, fmt.Errorf("%w: %s is in the denied range %s", ErrRefused, n.Canonical, p)
		}
	}
	for _, p := range r.AllowPrefixes {
		if strings.HasPrefix(n.Canonical, p) {
			return n, nil
		}
	}
	if !slices.Contains(r.Classes, n.Class) {
		return n, fmt.Errorf("%w: %s is a %s number, which this center does not dial", ErrRefused, n.Canonical, n.Class)
	}
	return n, nil
}

// ValidPrefix says whether s can be an allow or deny prefix: what a canonical number starts with.
func ValidPrefix(s string) bool {
	d := strings.TrimPrefix(s, "+")
	if d == "" || len(d) > 15 {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
