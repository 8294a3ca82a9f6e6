package ivr

import (
	"context"
	"slices"
	"testing"
	"time"
)

// preambleCall records what is played and hangs up at the first key request.
type preambleCall struct{ played []string }

func (c *preambleCall) Play(_ context.Context, _ string, media ...string) error {
	c.played = append(c.played, media...)
	return nil
}

func (c *preambleCall) NextDigit(context.Context, time.Duration) (rune, error) { return 0, ErrHangup }

func TestPreamblePlaysBeforeTheMenu(t *testing.T) {
	m, err := LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		preamble []string
		first    string
	}{
		{"none", nil, "sound:hotline/welcome"},
		{"holiday", []string{"announcement_holiday"}, "sound:hotline/announcement_holiday"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFlows(m, nil, nil, WithPreamble(func(context.Context) []string { return tc.preamble }))
			call := &preambleCall{}
			if _, err := f.Run(context.Background(), call, Inbound{CallID: "c1", DID: "8800"}); err != nil {
				t.Fatal(err)
			}
			if len(call.played) == 0 || call.played[0] != tc.first {
				t.Fatalf("played %v, want %s first", call.played, tc.first)
			}
			if !slices.Contains(call.played, "sound:hotline/welcome") {
				t.Errorf("the menu did not follow: %v", call.played)
			}
		})
	}
}
