package dashboard

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const chromiumPath = "/usr/bin/chromium"

// startBrowser starts Debian's chromium headless with a throwaway profile and returns a tab.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: %s not found (make test installs Debian's chromium)", chromiumPath)
	}
	dir, err := os.MkdirTemp("", "hotline-dashboard-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1400, 900),
	)
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		// The browser's helpers may still be writing; a leftover temp dir is not worth failing on.
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("remove %s: %v", dir, err)
		}
	})
	// Start the browser on the context that lives for the whole test: a timeout on the first
	// Run would stop the browser with it.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return tab
}

// within bounds one step, so a page that never shows what we wait for fails the test.
func within(tab context.Context, t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitJS waits until the expression is truthy in the page.
func waitJS(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(within(tab, t), chromedp.Poll[bool](expr)); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

func evalString(t *testing.T, tab context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(within(tab, t), chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return s
}

func waitAction(t *testing.T, ctx context.Context, act *fakeActions, want string) {
	t.Helper()
	select {
	case got := <-act.ch:
		if got != want {
			t.Fatalf("Actions got %q, want %q", got, want)
		}
	case <-ctx.Done():
		t.Fatalf("Actions never got %q", want)
	}
}

func TestBrowser(t *testing.T) {
	tab := startBrowser(t)
	ctx := testContext(t)

	s, src, act, ticks := newTestServer(t, Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()

	// Any script error or CSP violation fails the test. Network entries are expected: the page
	// shows the 409 we provoke below, and Chrome also logs it.
	// The page's last message is a marker, so the reader has seen everything before it.
	const endMarker = "hotline-test-end"
	console := chromedp.Console(tab)
	var problems []string
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range console {
			if err != nil || m.Text == endMarker {
				return
			}
			if (m.Type == chromedp.ConsoleError || m.IsException()) && m.Source != "network" {
				problems = append(problems, m.String())
			}
		}
	}()
	defer func() {
		if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`console.log('`+endMarker+`')`)); err != nil {
			t.Errorf("console marker: %v", err)
			return
		}
		<-consoleDone
		for _, p := range problems {
			t.Errorf("browser console: %s", p)
		}
	}()

	if err := chromedp.Do(within(tab, t),
		chromedp.Navigate(srv.URL+"/supervisor/"),
		chromedp.WaitVisible(chromedp.ID("login-id")),
		chromedp.SendKeys(chromedp.ID("login-id"), "sup1"),
		chromedp.SendKeys(chromedp.ID("login-pw"), "secret-s\r"),
	); err != nil {
		t.Fatalf("open and log in: %v", err)
	}

	// Queues, waiting calls and agents render.
	waitJS(t, tab, "agents", `document.querySelectorAll('#agents .ag').length === 3`)
	waitJS(t, tab, "queue row", `document.querySelector('tr[data-queue="parcels"]')?.textContent.includes('Посылки')`)
	waitJS(t, tab, "waiting calls", `document.querySelectorAll('#calls tr').length === 2`)
	if got := evalString(t, tab, `document.querySelector('tr[data-call="c1"]').textContent`); !strings.Contains(got, "+7 999 000-00-01") || !strings.Contains(got, "русский · трек-номер 12345678901234") {
		t.Errorf("call row %q: want the caller and the IVR summary", got)
	}
	if got := evalString(t, tab, `document.querySelector('[data-agent="a2"]').className`); got != "ag s-on_call" {
		t.Errorf("agent a2 class %q", got)
	}
	// Staffing: 2 agents on shift where Erlang C needs 7, flagged, with the figures in the tooltip.
	if got := evalString(t, tab, `(c => c.textContent + '|' + c.className + '|' + c.title)(document.querySelector('tr[data-queue="parcels"]').cells[8])`); !strings.HasPrefix(got, "2 / 7|num sl-bad|") ||
		!strings.Contains(got, "7 (поток за 15 мин: 120 в час)") || !strings.Contains(got, "4 (за 30 мин: 60 в час)") || !strings.Contains(got, "свободны 1") {
		t.Errorf("parcels' staffing cell %q", got)
	}
	if got := evalString(t, tab, `document.querySelector('tr[data-queue="claims"]').cells[8].textContent`); got != "" {
		t.Errorf("claims has no advice, its cell reads %q", got)
	}
	// A pause reason reads in the page's language, not as its code.
	if got := evalString(t, tab, `document.querySelector('[data-agent="a3"]').title`); !strings.Contains(got, "пауза: перерыв") {
		t.Errorf("a paused agent's tile says %q", got)
	}
	if got := evalString(t, tab, `document.getElementById('t-sl').textContent`); got != "60%" {
		t.Errorf("center SL %q, want 60%%", got)
	}
	if got := evalString(t, tab, `document.documentElement.lang + ' ' + document.querySelector('[data-i18n="queues"]').textContent`); got != "ru Очереди" {
		t.Errorf("default language: %q, want Russian", got)
	}

	// No node refused anyone: no refused figure takes room on the strip.
	if got := evalString(t, tab, `String(document.getElementById('t-refused-box').offsetParent === null)`); got != "true" {
		t.Error("the refused figure shows with nobody refused")
	}

	// A live update: a new caller waits, an agent starts ringing, and a node full refused 4 callers.
	src.set(func(v *View) {
		v.Queues[1].Calls = []WaitingCall{{ID: "c9", Caller: "+74950000009", Since: base, Entered: map[string]string{"claim": "123"}}}
		v.Agents[0].State = StateRinging
		v.Totals.Refused = 4
	})
	tick(ctx, t, ticks)
	waitJS(t, tab, "the new call", `document.querySelector('tr[data-call="c9"]')?.textContent.includes('+7 495 000-00-09')`)
	waitJS(t, tab, "agent ringing", `document.querySelector('[data-agent="a1"]').classList.contains('s-ringing')`)
	waitJS(t, tab, "totals", `document.getElementById('t-waiting').textContent === '3'`)
	waitJS(t, tab, "the refused figure", `(b => b.offsetParent !== null && b.textContent.includes('Отклонено') && document.getElementById('t-refused').textContent === '4')(document.getElementById('t-refused-box'))`)

	// Language by keyboard ("t"), from the page body.
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent("t")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "English", `document.documentElement.lang === 'en' && document.querySelector('[data-i18n="queues"]').textContent === 'Queues'`)
	waitJS(t, tab, "English group counts", `document.querySelector('[data-group="private"] h3 .c').textContent.includes('ringing')`)
	waitJS(t, tab, "the queue's English title", `document.querySelector('tr[data-queue="parcels"]')?.textContent.includes('Parcels')`)
	waitJS(t, tab, "the refused figure in English", `(b => b.textContent.includes('Refused') && b.title.includes('HOTLINE_MAX_CALLS'))(document.getElementById('t-refused-box'))`)

	// Listen by keyboard: go to the agents ("a"), move to the agent on a call (→), press "l".
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent("a")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "first agent focused", `document.activeElement?.dataset.agent === 'a1'`)
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "second agent focused", `document.activeElement?.dataset.agent === 'a2'`)
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent("l")); err != nil {
		t.Fatal(err)
	}
	waitAction(t, ctx, act, "listen sup1 c5")
	waitJS(t, tab, "confirmation", `document.getElementById('toast').textContent.includes('Done')`)

	// Move a waiting call by keyboard: calls ("c"), "m", Enter picks the first other queue.
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent("c")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "first call focused", `document.activeElement?.dataset.call === 'c1'`)
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent("m")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "move dialog", `document.getElementById('move-dlg').open`)
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	waitAction(t, ctx, act, "move c1 claims")

	// An error from the controller is shown to the supervisor.
	src.set(func(v *View) { v.Agents[1].CallID, v.Agents[1].Caller = "busy", "+79161234567" })
	tick(ctx, t, ticks)
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent("a"), chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "agent a2 with busy call", `document.activeElement?.dataset.agent === 'a2' && document.getElementById('sel-text').textContent.includes('Борис (a2), Private customers — on call · call +7 916 123-45-67, Parcels')`)
	if err := chromedp.Do(within(tab, t), chromedp.KeyEvent("b")); err != nil {
		t.Fatal(err)
	}
	waitAction(t, ctx, act, "barge sup1 busy")
	// In the page's language; the server's own words are the toast's tooltip.
	waitJS(t, tab, "error shown", `document.getElementById('toast').classList.contains('err') && document.getElementById('toast').textContent.includes('Not now') && document.getElementById('toast').title.includes('not allowed')`)

	// The customer's size: 500 agents in four groups. An update rewrites the tiles that
	// changed and keeps every other node: the page renders incrementally.
	src.set(func(v *View) { *v = bigView() })
	tick(ctx, t, ticks)
	waitJS(t, tab, "500 agents", `document.querySelectorAll('#agents .ag').length === 500 && document.querySelectorAll('#agents .group').length === 4`)
	waitJS(t, tab, "64 waiting calls", `document.querySelectorAll('#calls tr').length === 64`)
	if _, err := chromedp.Run(within(tab, t), chromedp.Evaluate[bool](
		`document.querySelectorAll('#agents .ag, #calls tr').forEach((e) => { e.__kept = true }), true`)); err != nil {
		t.Fatal(err)
	}
	src.set(func(v *View) {
		v.Agents[499].State = StateAvailable
		v.Agents[499].CallID = ""
		v.Queues[0].Calls = v.Queues[0].Calls[1:]
	})
	tick(ctx, t, ticks)
	waitJS(t, tab, "the update", `document.querySelector('[data-agent="a499"]').classList.contains('s-available') && document.querySelectorAll('#calls tr').length === 63`)
	if got := evalString(t, tab, `String([...document.querySelectorAll('#agents .ag, #calls tr')].filter((e) => !e.__kept).length)`); got != "0" {
		t.Errorf("%s agent tiles or call rows were rebuilt by an update; want 0", got)
	}
}

func TestBrowserLogin(t *testing.T) {
	tab := startBrowser(t)
	s, _, _, _ := newTestServer(t, Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()

	if err := chromedp.Do(within(tab, t),
		chromedp.Navigate(srv.URL+"/supervisor/"),
		chromedp.WaitVisible(chromedp.ID("login-pw")),
		chromedp.SendKeys(chromedp.ID("login-id"), "sup1"),
		chromedp.SendKeys(chromedp.ID("login-pw"), "wrong\r"),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "refusal", `document.getElementById('login-err').textContent === 'Неверная учётная запись или пароль'`)
	if err := chromedp.Do(within(tab, t),
		chromedp.SendKeys(chromedp.ID("login-pw"), "secret-s\r"),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "agents after login", `document.querySelectorAll('#agents .ag').length === 3 && !document.getElementById('login-dlg').open`)
	// A supervisor sees the announcement switch and cannot change it: it is an administrator's.
	waitJS(t, tab, "who and the switch", `document.getElementById('who').textContent === 'Supervisor (sup1)' && document.getElementById('announcement').disabled`)
	// The cookie is HttpOnly: the page's script cannot read it.
	if got := evalString(t, tab, `document.cookie`); got != "" {
		t.Errorf("document.cookie = %q, want the session cookie hidden from script", got)
	}
}
