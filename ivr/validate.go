package ivr

import (
	"fmt"
	"regexp"
)

// A validator decides whether digits a caller entered are acceptable before they go into the call's data.
type validator func(string) bool

// Claim and contract number formats are hotline's own assumption for the default center (the operator
// may use regex instead): a claim number is 10 digits whose last is a Luhn check digit; a contract
// number is 5 to 10 digits, unchecked.
const (
	claimLen       = 10
	contractMinLen = 5
	contractMaxLen = 10
)

// newValidator returns the validator named kind; pattern is for "regex".
func newValidator(kind, pattern string) (validator, error) {
	switch kind {
	case "", "digits":
		return allDigits, nil
	case "tracking":
		return ValidTracking, nil
	case "domestic":
		return ValidDomestic, nil
	case "s10":
		return ValidS10Digits, nil
	case "claim":
		return func(s string) bool { return len(s) == claimLen && luhnValid(s) }, nil
	case "contract":
		return func(s string) bool {
			return len(s) >= contractMinLen && len(s) <= contractMaxLen && allDigits(s)
		}, nil
	case "regex":
		if pattern == "" {
			return nil, fmt.Errorf("validator regex needs a pattern")
		}
		re, err := regexp.Compile("^(?:" + pattern + ")$")
		if err != nil {
			return nil, fmt.Errorf("pattern: %w", err)
		}
		return re.MatchString, nil
	default:
		return nil, fmt.Errorf("unknown validator %q (want tracking, domestic, s10, claim, contract, digits or regex)", kind)
	}
}
