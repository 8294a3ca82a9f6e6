package ivr_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hotline-cc/hotline/ivr"
)

// A menu using the node types the default center does not: play, transfer, callback, regex
// validation, default_menu, and no agent key.
const customMenu = `langs: [ru, en]
agent_key: ""
last_resort_queue: claims
defaults: {timeout_prompt: hello, invalid_prompt: menu}
default_menu: main
menus:
  main:
    start: hi
    nodes:
      hi:
        type: play
        prompt: [hello]
        next: pick
      pick:
        type: menu
        prompt: [menu]
        options: {"1": ext, "2": cb, "3": phone, "4": bye}
      ext:
        type: collect
        prompt: [menu]
        field: ext
        validator: regex
        pattern: '7\d{2}'
        terminator: none
        max: 3
        retries: 2
        next: xfer
      xfer:
        type: transfer
        number: "+74950000000"
      cb:
        type: callback
        queue: general
        priority: 2
      phone:
        type: collect
        prompt: [menu]
        field: phone
        validator: digits
        min: 10
        max: 11
        next: cb_number
      cb_number:
        type: callback
        queue: general
        field: phone
      bye:
        type: hangup
        prompt: [bye]
`

func TestCustomMenu(t *testing.T) {
	m, err := loadTest(customMenu)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		script  string
		outcome ivr.Outcome
		queue   string
		number  string
	}{
		{"1701", ivr.OutcomeTransfer, "claims", "+74950000000"}, // 3 digits, no terminator needed; claims if it fails
		{"2", ivr.OutcomeCallback, "general", "+79990001122"},
		{"384951234567#", ivr.OutcomeCallback, "general", "84951234567"},
		{"4", ivr.OutcomeHangup, "", ""},
		{"0~~", ivr.OutcomeQueue, "claims", ""},      // no agent key: 0 is just a wrong key
		{"1123~999", ivr.OutcomeQueue, "claims", ""}, // regex refuses twice: last resort
	}
	for _, tc := range tests {
		res, err := ivr.NewFlows(m, nil, nil).Run(context.Background(), newFake(tc.script), ivr.Inbound{DID: "any", CallerNumber: "+79990001122"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != tc.outcome || res.Queue != tc.queue || res.Number != tc.number {
			t.Errorf("%q: %s %q %q; want %s %q %q\n%v", tc.script, res.Outcome, res.Queue, res.Number, tc.outcome, tc.queue, tc.number, res.Path)
		}
	}
}

// TestTransferNumberChecked: with the center's number check, a transfer node whose number the
// dialing rules refuse is refused in the file, at its line, with the rules' reason; one they allow
// loads.
func TestTransferNumberChecked(t *testing.T) {
	check := func(allowed string) ivr.LoadOption {
		return ivr.WithNumberCheck(func(n string) error {
			if n != allowed {
				return errors.New("premium-rate numbers are not dialled")
			}
			return nil
		})
	}
	if _, err := loadTest(customMenu, check("+74950000000")); err != nil {
		t.Fatalf("an allowed transfer number: %v", err)
	}
	_, err := loadTest(customMenu, check("+78095550100"))
	if err == nil || !strings.Contains(err.Error(), `m.yaml:30: menus.main.nodes.xfer.number: "+74950000000" is not dialled here: premium-rate`) {
		t.Fatalf("a refused transfer number: %v", err)
	}
}
