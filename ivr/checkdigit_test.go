package ivr

import "testing"

// Fixtures computed with the algorithms, a few cross-checked by hand:
//
//	10100012345674: odd positions 1+1+0+1+3+5+7 = 18, ×3 = 54; even 0+0+0+2+4+6 = 12; 66 → check 4.
//	RA473124829RU (the UPU S10 example serial): 4·8+7·6+3·4+1·2+2·3+4·5+8·9+2·7 = 200; 200 mod 11 = 2;
//	11 − 2 = 9.
//	12345678: 8+12+12+8+15+30+63+56 = 204; 204 mod 11 = 6 → 5.
//	00000900: 9·5 = 45; 45 mod 11 = 1 → 10 → 0.      00000000: 0 → 11 → 5.
func TestDomestic(t *testing.T) {
	valid := []string{"10100012345674", "20000111111118", "63007100000014", "10112000000007", "14500500123450"}
	for _, s := range valid {
		if !ValidDomestic(s) || !ValidTracking(s) {
			t.Errorf("%s: want valid", s)
		}
	}
	invalid := []string{"10100012345670", "10100012345675", "1010001234567", "101000123456740", "1010001234567a", "", "abcdefghijklmn"}
	for _, s := range invalid {
		if ValidDomestic(s) {
			t.Errorf("%s: want invalid", s)
		}
	}
	if d, ok := DomesticCheckDigit("1010001234567"); !ok || d != 4 {
		t.Errorf("DomesticCheckDigit = %d, %v; want 4", d, ok)
	}
	// Every single-digit mistake is caught by a mod-10 check.
	base := []byte("10100012345674")
	for i := range base {
		for d := byte('0'); d <= '9'; d++ {
			if d == base[i] {
				continue
			}
			b := append([]byte(nil), base...)
			b[i] = d
			if ValidDomestic(string(b)) {
				t.Errorf("%s: a one-digit change passed", b)
			}
		}
	}
}

func TestS10(t *testing.T) {
	tests := []struct {
		serial string
		check  int
	}{
		{"47312482", 9}, {"12345678", 5}, {"00000900", 0}, {"00000000", 5}, {"87654321", 6}, {"10000000", 3},
	}
	for _, tc := range tests {
		if d, ok := S10CheckDigit(tc.serial); !ok || d != tc.check {
			t.Errorf("S10CheckDigit(%s) = %d, %v; want %d", tc.serial, d, ok, tc.check)
		}
	}
	for _, s := range []string{"RA473124829RU", "EE123456785CN", "CP000009000DE"} {
		if !ValidS10(s) {
			t.Errorf("%s: want valid", s)
		}
	}
	for _, s := range []string{"RA473124828RU", "ra473124829RU", "RA47312482RU", "RA473124829R1", "1A473124829RU"} {
		if ValidS10(s) {
			t.Errorf("%s: want invalid", s)
		}
	}
	if !ValidS10Digits("473124829") || !ValidTracking("473124829") || ValidS10Digits("473124828") || ValidS10Digits("4731248290") {
		t.Error("S10 digits")
	}
	if _, ok := S10CheckDigit("4731248a"); ok {
		t.Error("non-digit serial accepted")
	}
}

func TestValidators(t *testing.T) {
	tests := []struct {
		kind, pattern, in string
		want              bool
	}{
		{"claim", "", "1000000008", true},
		{"claim", "", "1000000009", false},
		{"claim", "", "100000008", false},
		{"contract", "", "12345678", true},
		{"contract", "", "1234", false},
		{"digits", "", "0042", true},
		{"regex", `7\d{3}`, "7123", true},
		{"regex", `7\d{3}`, "71234", false},
		{"tracking", "", "473124829", true},
		{"domestic", "", "473124829", false},
		{"s10", "", "10100012345674", false},
	}
	for _, tc := range tests {
		v, err := newValidator(tc.kind, tc.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tc.kind, err)
		}
		if got := v(tc.in); got != tc.want {
			t.Errorf("%s(%q) = %v", tc.kind, tc.in, got)
		}
	}
	for _, bad := range [][2]string{{"regex", ""}, {"regex", "("}, {"isbn", ""}} {
		if _, err := newValidator(bad[0], bad[1]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
