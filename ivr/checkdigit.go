package ivr

// Check digits of postal item numbers.
//
// Domestic (Russian Post "ШПИ", 14 digits): 6-digit postcode of the accepting office, 2-digit month
// number, 5-digit serial, 1 check digit. The check digit is the standard mod-10 with weights 3 and 1:
// the digits in odd positions (1st, 3rd, … 13th) count three times, those in even positions (2nd …
// 12th) once, and the check digit brings the sum to a multiple of ten: (10 − sum mod 10) mod 10.
// Source/assumption: the same scheme as EAN/GTIN check digits, which is what published Russian Post
// RPO validators implement; hotline only uses it to catch mistyped numbers before a lookup, the backend
// stays the authority on whether a number exists.
//
// International (UPU S10): 2 letters (service indicator), 8-digit serial, 1 check digit, 2 letters
// (ISO country of origin), e.g. "RA473124829RU". Weights 8 6 4 2 3 5 9 7 on the serial; check =
// 11 − (sum mod 11), where 10 becomes 0 and 11 becomes 5 (UPU standard S10).

// domesticLen is the length of a domestic tracking number.
const domesticLen = 14

// s10DigitsLen is how many digits a caller keys for an S10 number: serial and check digit.
const s10DigitsLen = 9

// DomesticCheckDigit returns the check digit for the first 13 digits of a domestic number.
// ok is false unless first13 is exactly 13 ASCII digits.
func DomesticCheckDigit(first13 string) (digit int, ok bool) {
	if len(first13) != domesticLen-1 || !allDigits(first13) {
		return 0, false
	}
	sum := 0
	for i := 0; i < len(first13); i++ {
		d := int(first13[i] - '0')
		if i%2 == 0 { // positions 1, 3, 5 … counted from one
			d *= 3
		}
		sum += d
	}
	return (10 - sum%10) % 10, true
}

// ValidDomestic reports whether s is a 14-digit domestic number with a correct check digit.
func ValidDomestic(s string) bool {
	if len(s) != domesticLen {
		return false
	}
	want, ok := DomesticCheckDigit(s[:domesticLen-1])
	return ok && int(s[domesticLen-1]-'0') == want
}

var s10Weights = [8]int{8, 6, 4, 2, 3, 5, 9, 7}

// S10CheckDigit returns the check digit of an 8-digit S10 serial number.
func S10CheckDigit(serial string) (digit int, ok bool) {
	if len(serial) != 8 || !allDigits(serial) {
		return 0, false
	}
	sum := 0
	for i, w := range s10Weights {
		sum += int(serial[i]-'0') * w
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 0, true
	case 11:
		return 5, true
	default:
		return c, true
	}
}

// ValidS10Digits reports whether s is the 9 digits of an S10 number (serial and check digit): what a
// caller keys on a phone, since the letters cannot be typed.
func ValidS10Digits(s string) bool {
	if len(s) != s10DigitsLen {
		return false
	}
	want, ok := S10CheckDigit(s[:8])
	return ok && int(s[8]-'0') == want
}

// ValidS10 reports whether s is a full S10 identifier: 2 letters, 9 digits with a correct check
// digit, 2 letters (upper case, as printed on labels).
func ValidS10(s string) bool {
	if len(s) != 13 || !upperLetters(s[:2]) || !upperLetters(s[11:]) {
		return false
	}
	return ValidS10Digits(s[2:11])
}

// ValidTracking reports whether digits keyed by a caller are a tracking number: a domestic one
// (14 digits) or an international one entered as its 9 S10 digits.
func ValidTracking(s string) bool { return ValidDomestic(s) || ValidS10Digits(s) }

// luhnValid reports whether s (digits) ends in a correct Luhn check digit. Used for claim numbers.
func luhnValid(s string) bool {
	if len(s) < 2 || !allDigits(s) {
		return false
	}
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func upperLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
