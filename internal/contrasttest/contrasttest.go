// Package contrasttest checks a page open in Chromium (through chromedp) for WCAG 2.x contrast:
// every visible element with text of its own against the background it is painted on (4.5:1, or
// 3:1 for large text), that disabled controls look unlike enabled ones, and optionally that
// focus outlines reach 3:1. The checker is one script, contrast.js, that the agent page's and the
// supervisor pages' tests share.
package contrasttest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// checkerJS evaluates to a function of the options that returns a Result as JSON-able object.
//
//go:embed contrast.js
var checkerJS string

// Options choose the checks.
type Options struct {
	// Focus also focuses each kind of focusable control, as from the keyboard, and checks its
	// outline. Focus is put back after, but what the page did on focus stays (the board
	// selects the agent or row focused).
	Focus bool `json:"focus"`
	// Exempt is a CSS selector of elements not measured, with what they hold: text the page
	// shows as inactive on purpose (WCAG's "incidental" text), like tiles dimmed by a search.
	Exempt string `json:"exempt,omitempty"`
	// Prepare is script run in the page just before the measure and Restore just after, in the
	// same task: no page script runs in between, so a state the page shows only briefly or
	// only on data a test cannot send (a poor line's colour) can be set and measured.
	Prepare string `json:"-"`
	Restore string `json:"-"`
}

// Finding is one element that fails.
type Finding struct {
	// Kind: "text", "field" (an input's value, a select's option), "placeholder",
	// "background-image" (text on an image or gradient: not measurable, look at it),
	// "disabled-looks-enabled", "focus-indicator", "no-focus-indicator".
	Kind     string `json:"kind"`
	Selector string `json:"selector"`
	Text     string `json:"text"`
	// FG and BG are the colours on screen, opacities and translucent backgrounds applied.
	FG    string  `json:"fg"`
	BG    string  `json:"bg"`
	Ratio float64 `json:"ratio"`
	// Need is the ratio required: 4.5 or 3 (large text, focus outlines), 1.5 between a disabled
	// control and the same enabled.
	Need       float64 `json:"need"`
	FontSize   string  `json:"fontSize"`
	FontWeight string  `json:"fontWeight"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s %s %q: %s on %s = %.2f:1, need %.1f:1", f.Kind, f.Selector, f.Text, f.FG, f.BG, f.Ratio, f.Need)
	if f.FontSize != "" {
		s += fmt.Sprintf(" (%s, weight %s)", f.FontSize, f.FontWeight)
	}
	return s
}

// Result is what one check saw.
type Result struct {
	// Checked counts the texts and disabled controls measured; FocusChecked the controls whose
	// focus was measured, NotVisible those that took focus without :focus-visible.
	Checked      int       `json:"checked"`
	FocusChecked int       `json:"focusChecked"`
	NotVisible   int       `json:"notVisible"`
	Findings     []Finding `json:"findings"`
}

// Check runs the checker in the page of ctx (a chromedp context with a tab).
func Check(ctx context.Context, opts Options) (Result, error) {
	o, err := json.Marshal(opts)
	if err != nil {
		return Result{}, err
	}
	if opts.Focus {
		// A key press (Shift alone: no page acts on it) puts the page in keyboard modality, so
		// the focus the script gives shows as the keyboard's (:focus-visible).
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Shift)); err != nil {
			return Result{}, fmt.Errorf("contrasttest: press Shift: %w", err)
		}
	}
	js := "(() => {\n" + opts.Prepare + "\n;try { return JSON.stringify((" + checkerJS + ")(" + string(o) + ")) } finally {\n" + opts.Restore + "\n} })()"
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		return Result{}, fmt.Errorf("contrasttest: run the checker: %w", err)
	}
	var r Result
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return Result{}, fmt.Errorf("contrasttest: checker's answer %.200q: %w", raw, err)
	}
	return r, nil
}

// Expect runs Check and fails the test (without stopping it) with every finding, each under the
// name of the page's state. It also fails when fewer than minChecked texts were measured, so a
// page that did not render cannot pass for a page that has nothing wrong.
func Expect(t testing.TB, ctx context.Context, state string, minChecked int, opts Options) Result {
	t.Helper()
	r, err := Check(ctx, opts)
	if err != nil {
		t.Fatalf("%s: %v", state, err)
	}
	if r.Checked < minChecked {
		t.Errorf("%s: measured %d texts, want at least %d: is the page drawn?", state, r.Checked, minChecked)
	}
	if opts.Focus && r.FocusChecked == 0 {
		t.Errorf("%s: no control showed :focus-visible when focused (%d took focus without it)", state, r.NotVisible)
	}
	if len(r.Findings) > 0 {
		var b strings.Builder
		for _, f := range r.Findings {
			b.WriteString("\n\t")
			b.WriteString(f.String())
		}
		t.Errorf("%s: %d elements fail the contrast check:%s", state, len(r.Findings), b.String())
	}
	t.Logf("%s: %d texts and disabled controls measured, %d focus outlines", state, r.Checked, r.FocusChecked)
	return r
}
