package ivr_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/ivr"
)

func TestCollect(t *testing.T) {
	spec := ivr.CollectSpec{Min: 3, Max: 5, Terminator: '#', FirstTimeout: 8 * time.Second, InterTimeout: 4 * time.Second}
	tests := []struct {
		script string
		want   string
		err    error
		waits  []time.Duration // timeouts NextDigit was given, in order
	}{
		{script: "12345", want: "12345", waits: []time.Duration{8e9, 4e9, 4e9, 4e9, 4e9}},
		{script: "123456", want: "12345"},  // stops at max; the 6 stays for the next reader
		{script: "12#", want: "12"},        // short: judged by the caller
		{script: "#", want: ""},            // terminator alone
		{script: "~", err: ivr.ErrTimeout}, // nothing at all
		{script: "12~", want: "12"},        // pause after digits ends entry
		{script: "12*345#", want: "345"},   // * starts over
		{script: "1!", want: "1", err: ivr.ErrHangup},
	}
	for _, tc := range tests {
		call := newFake(tc.script)
		got, err := ivr.Collect(context.Background(), call, spec)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%q: got %q, %v; want %q, %v", tc.script, got, err, tc.want, tc.err)
		}
		if tc.waits != nil && len(call.waits) != len(tc.waits) {
			t.Errorf("%q: waits %v, want %v", tc.script, call.waits, tc.waits)
		}
		for i := range tc.waits {
			if i < len(call.waits) && call.waits[i] != tc.waits[i] {
				t.Errorf("%q: wait %d = %v, want %v", tc.script, i, call.waits[i], tc.waits[i])
			}
		}
	}
}

func TestCollectNoTerminator(t *testing.T) {
	got, err := ivr.Collect(context.Background(), newFake("12#34~"), ivr.CollectSpec{Max: 10})
	if err != nil || got != "1234" {
		t.Errorf("got %q, %v", got, err)
	}
}

func FuzzCollect(f *testing.F) {
	f.Add("12345#", 3, 5, true)
	f.Add("~", 1, 14, true)
	f.Add("1*2*3!", 0, 0, false)
	f.Add("99999999999999999999999999999999999999999", 1, 100, false)
	f.Fuzz(func(t *testing.T, script string, min, max int, term bool) {
		spec := ivr.CollectSpec{Min: min, Max: max, FirstTimeout: time.Second, InterTimeout: time.Second}
		if term {
			spec.Terminator = '#'
		}
		got, err := ivr.Collect(context.Background(), newFake(script), spec)
		if max > 0 && len(got) > max {
			t.Fatalf("%q: %d digits > max %d", script, len(got), max)
		}
		if len(got) > 32 {
			t.Fatalf("%q: %d digits beyond the hard bound", script, len(got))
		}
		for _, r := range got {
			if r < '0' || r > '9' {
				t.Fatalf("%q: non-digit %q in %q", script, r, got)
			}
		}
		if err != nil && !errors.Is(err, ivr.ErrTimeout) && !errors.Is(err, ivr.ErrHangup) {
			t.Fatalf("%q: unexpected error %v", script, err)
		}
	})
}
