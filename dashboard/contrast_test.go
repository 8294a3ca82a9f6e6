package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/internal/contrasttest"
)

// contrastView is the sample center with an agent in every state, a queue under its service
// level and one over it, a priority caller and one waiting past the target.
func contrastView() View {
	v := sampleView()
	v.Queues[1].Offered, v.Queues[1].Answered, v.Queues[1].AnsweredInTarget = 10, 10, 10
	for i, st := range []AgentState{StateRinging, StateConsult, StateWrapUp, StateOffline} {
		v.Agents = append(v.Agents, Agent{ID: fmt.Sprintf("b%d", i), Name: "Дмитрий Иванов", Group: "business", State: st,
			Since: base.Add(-time.Duration(i+1) * time.Minute), Queue: "parcels"})
	}
	return v
}

// checkContrast measures the page of tab as contrasttest does, under the name of its state.
func checkContrast(t *testing.T, tab context.Context, state string, minTexts int, opts contrasttest.Options) {
	t.Helper()
	contrasttest.Expect(t, within(tab, t), state, minTexts, opts)
}

// TestBrowserBoardContrast (issue 12, "sufficient contrast"): the supervisor's board, with its
// login, an agent of every state, queues over and under their service level, a selection, a
// failed action's message, a stale feed, an announcement on and the keys' help, has every
// visible text at 4.5:1 against its background (3:1 when large), disabled controls that look
// disabled, and focus outlines at 3:1. The page has one colour scheme (no prefers-color-scheme).
func TestBrowserBoardContrast(t *testing.T) {
	// One colour scheme: a dark one would need a pass of its own (emulation.SetEmulatedMedia).
	if css, err := os.ReadFile("web/style.css"); err != nil || bytes.Contains(css, []byte("prefers-color-scheme")) {
		t.Fatalf("style.css (%v) has a colour scheme for prefers-color-scheme: measure it too", err)
	}
	s, src, _, ticks := newTestServer(t, Config{})
	src.set(func(v *View) { *v = contrastView() })
	tab := startBrowser(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	focus := contrasttest.Options{Focus: true}

	if err := chromedp.Do(within(tab, t),
		chromedp.Navigate(srv.URL+"/supervisor/"),
		chromedp.WaitVisible(chromedp.ID("login-id")),
	); err != nil {
		t.Fatalf("open: %v", err)
	}
	checkContrast(t, tab, "login", 3, focus)
	if err := chromedp.Do(within(tab, t),
		chromedp.SendKeys(chromedp.ID("login-id"), "sup1"),
		chromedp.SendKeys(chromedp.ID("login-pw"), "wrong\r"),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "refusal", `document.getElementById('login-err').textContent !== ''`)
	checkContrast(t, tab, "login refused", 3, contrasttest.Options{})
	if err := chromedp.Do(within(tab, t), chromedp.SendKeys(chromedp.ID("login-pw"), "secret-s\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the board", `document.querySelectorAll('#agents .ag').length === 7 && !document.getElementById('login-dlg').open`)
	waitJS(t, tab, "a consultation's tile", `!!document.querySelector('.ag.s-consult')`)
	waitJS(t, tab, "service levels under and over", `!!(document.querySelector('.sl-bad') && document.querySelector('.sl-ok'))`)
	waitJS(t, tab, "a queue past its target", `!!document.querySelector('#queues tr.hi')`)
	waitJS(t, tab, "the feed open", `document.getElementById('conn').dataset.state === 'open'`)
	checkContrast(t, tab, "the board", 20, focus)

	// An agent on a call selected (the focus check above moved the selection: the tile is
	// focused directly, not with "a"), and an action the controller refuses.
	src.set(func(v *View) { v.Agents[1].CallID, v.Agents[1].Caller = "busy", "+79161234567" })
	tick(testContext(t), t, ticks)
	if err := chromedp.Do(within(tab, t), chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-agent="a2"]').focus()`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "an agent selected", `document.activeElement?.dataset.agent === 'a2' && document.getElementById('sel-text').textContent.includes('+7 916 123-45-67')`)
	checkContrast(t, tab, "an agent selected", 20, contrasttest.Options{})
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent("b")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the refusal", `document.getElementById('toast').classList.contains('err') && document.getElementById('toast').textContent !== ''`)
	checkContrast(t, tab, "a refused action", 20, contrasttest.Options{
		// The message clears itself after 5 s: shown for the measure whatever the time.
		Prepare: `const toast = document.getElementById('toast'), was = toast.textContent; toast.textContent = was || 'x';`,
		Restore: `toast.textContent = was;`,
	})

	// A search dims the tiles it does not match: those are inactive on purpose, the rest are read.
	if err := chromedp.Do(within(tab, t), chromedp.SendKeys(chromedp.ID("find"), "Анна")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "tiles dimmed", `document.querySelectorAll('#agents .ag.dim').length === 6`)
	checkContrast(t, tab, "a search", 20, contrasttest.Options{Exempt: ".ag.dim"})
	if err := chromedp.Do(within(tab, t), chromedp.Evaluate[chromedp.Void](
		`(f => { f.value = ''; f.dispatchEvent(new Event('input')); f.blur() })(document.getElementById('find'))`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the search cleared", `!document.querySelector('#agents .ag.dim')`)

	// An announcement on, which a supervisor sees and cannot change; then the feed goes stale.
	src.set(func(v *View) { v.Announcement = AnnouncementOutage })
	tick(testContext(t), t, ticks)
	waitJS(t, tab, "the announcement", `document.getElementById('announcement').dataset.on === '1' && document.getElementById('announcement').disabled`)
	src.fail(errors.New("redis: connection refused"))
	tick(testContext(t), t, ticks)
	waitJS(t, tab, "stale", `!document.getElementById('stale').hidden`)
	checkContrast(t, tab, "an announcement on, the feed stale", 20, contrasttest.Options{})

	if err := chromedp.Do(within(tab, t),
		chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`),
		chromedp.KeyEvent("?"),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the keys' help", `document.getElementById('help-dlg').open`)
	checkContrast(t, tab, "the keys' help", 20, focus)
}

// TestBrowserReportsContrast: the reports page, with rows and a total, passes the same check.
func TestBrowserReportsContrast(t *testing.T) {
	s, _, _, _ := newTestServer(t, Config{Reports: &fakeReports{}})
	tab := openBoard(t, s, 3)
	link := evalString(t, tab, `document.querySelector('a[href="reports.html"]').href`)
	if err := chromedp.Do(within(tab, t), chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "two rows and a total", `document.querySelectorAll('#report-rows tr').length === 2 && document.querySelectorAll('#report-total tr').length === 1`)
	checkContrast(t, tab, "reports", 20, contrasttest.Options{Focus: true})
}
