package softphone_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/internal/browsertest"
	"github.com/hotline-cc/hotline/softphone"
)

type browserRig struct {
	accounts *account.Service
	gw       *softphone.Gateway
	desk     *fakeDesk
	srv      *softphone.Server
	base     string // http://127.0.0.1:port
	url      string // the page
}

func newRig(t *testing.T) *browserRig {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(newTestWriter(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	gw, err := softphone.NewGateway(softphone.GatewayConfig{
		ICEAddr:      netip.MustParseAddrPort("127.0.0.1:0"),
		LoopbackOnly: true,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	desk := newFakeDesk(t, gw)
	accounts := testAccounts(t, account.Config{})
	srv := softphone.NewServer(gw, desk, softphone.ServerConfig{StatsInterval: 500 * time.Millisecond, Accounts: accounts}, log)
	desk.srv = srv
	mux := http.NewServeMux()
	mux.Handle("/agent/", srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(mux)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return &browserRig{accounts: accounts, gw: gw, desk: desk, srv: srv, base: hs.URL, url: hs.URL + "/agent/"}
}

// testWriter sends log lines to the test's log until the test ends; pion's goroutines may still log
// while they wind down, and a t.Log after the end panics.
type testWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func newTestWriter(t *testing.T) *testWriter {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return w
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(b), nil
	}
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// step runs actions with a deadline of their own, derived from the browser's context.
func step(t *testing.T, b *browsertest.Browser, what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		dctx, dcancel := context.WithTimeout(b.Ctx, 5*time.Second)
		defer dcancel()
		page, _ := chromedp.Run(dctx, chromedp.Evaluate[string](
			`JSON.stringify({data: document.body.dataset, toast: document.getElementById('toast').textContent, wrapup: !document.getElementById('wrapup').hidden})`))
		t.Fatalf("%s: %v (page: %s)", what, err, page)
	}
}

var poll = browsertest.Poll

// TestBrowserSoftphone drives the agent page in headless Chromium through a whole call: log in,
// go available, ring, answer, audio both ways checked by content, hold and resume, a reload in
// the middle of the call, hang up, wrap up.
func TestBrowserSoftphone(t *testing.T) {
	browsertest.RunInNetNS(t, func(t *testing.T) {
		rig := newRig(t)
		peer := newRTPPeer(t)
		peerCtx, stopPeer := context.WithCancel(context.Background())
		defer stopPeer()
		rig.desk.asterisk = func(leg *softphone.Leg) {
			// As Asterisk: send to external_host, receive where UNICASTRTP_LOCAL_* says.
			leg.SetRemote(peer.addr())
			go peer.send(peerCtx, leg.LocalAddr(), 440)
		}
		b := browsertest.Chromium(t, browsertest.Options{MicFreq: 1000})

		step(t, b, "open the page and log in", 20*time.Second,
			browsertest.AgentLogin(rig.url, "a1", "secret-a")...,
		)
		rig.desk.expect(t, "profile", 5*time.Second)

		step(t, b, "go available", 10*time.Second,
			chromedp.Click(chromedp.ID("state-available")),
			poll(`document.body.dataset.state === 'available'`),
		)

		rig.desk.ring("a1", softphone.CallInfo{
			ID: "call-1", CallerNumber: "+79161234567", CallerName: "Иван Петров", CallerType: "business", Queue: "business",
			QueueTitle:  map[string]string{"ru": "Бизнес-клиенты", "en": "Business"},
			WaitSeconds: 75, IVRPath: []map[string]string{
				{"ru": "Приветствие: 2 → Бизнес-клиент", "en": "Greeting: 2 → Business customer"},
				{"ru": "Ввод номера договора: 4711", "en": "Contract number: 4711"},
			},
			Entered: map[string]string{"contract": "4711"},
			Previous: []softphone.Contact{{At: "2026-12-01T09:05:00Z", Queue: "claims", QueueTitle: map[string]string{"ru": "Претензии"},
				AgentName: "Анна Смирнова", Outcome: "answered", TalkSeconds: 300, Disposition: "callback"}, {At: "2026-11-30T15:00:00Z", Queue: "claims", Outcome: "abandoned"}},
		})
		step(t, b, "ringing with the screen pop", 10*time.Second,
			poll(`document.body.dataset.callstatus === 'ringing'`),
			poll(`document.getElementById('call-number').textContent === '+7 916 123-45-67'`),
			poll(`document.getElementById('call-name').textContent === 'Иван Петров' && !document.getElementById('call-name').hidden`),
			poll(`document.getElementById('call-queue').textContent === 'Бизнес-клиенты'`),
			poll(`document.getElementById('call-entered').textContent === 'договор: 4711'`),
			poll(`document.getElementById('call-path').textContent === 'Приветствие: 2 → Бизнес-клиент\nВвод номера договора: 4711'`),
			poll(`document.getElementById('call-wait').textContent === '1:15'`),
			// Controls without visible text are named in the page's language for screen readers.
			poll(`document.getElementById('transfer-target').getAttribute('aria-label') === 'Номер, оператор или очередь' && document.getElementById('keypad').getAttribute('aria-label') === 'Тональный набор' && document.getElementById('call-status').getAttribute('aria-live') === 'assertive'`),
			// The caller's earlier calls, newest first (times in the browser's zone, UTC here).
			poll(`document.getElementById('call-previous').textContent === '1 дек., 09:05 · Претензии · ответили (Анна Смирнова, 5:00) · Перезвонить\n30 нояб., 15:00 · claims · не дождался' && !document.getElementById('call-previous').hidden`),
			// The ring counts down from the offer's 20 s.
			poll(`/^(20|1[0-9]) с$/.test(document.getElementById('call-timer').textContent)`),
			// A refusal says why: a transfer asked while it still rings (the form forced for the test).
			chromedp.Evaluate[chromedp.Void](`document.getElementById('transfer-target').value = 'claims'; document.getElementById('transfer-form').requestSubmit()`),
			poll(`document.body.dataset.lasterror === 'invalid_state' && document.getElementById('toast').textContent === 'Это возможно только в разговоре'`),
			chromedp.Click(chromedp.ID("btn-answer")),
			poll(`document.body.dataset.callstatus === 'connected'`),
			poll(`/^0:0[0-9]$/.test(document.getElementById('call-timer').textContent)`),
		)
		rig.desk.expect(t, "answer", 5*time.Second)

		checkAudio := func(what string) {
			t.Helper()
			step(t, b, what+": the caller's 440 Hz reaches the browser", 15*time.Second,
				chromedp.Evaluate[chromedp.Void](browsertest.AnalyserJS),
				poll(`window.__tone(440)`),
			)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			dom, err := peer.waitTone(ctx, 1000, 20)
			if err != nil {
				t.Fatalf("%s: the agent's 1000 Hz reaches Asterisk: %v", what, err)
			}
			t.Logf("%s: 1000 Hz dominance at the RTP peer: %.0f", what, dom)
		}
		checkAudio("answered")
		if rig.gw.FastPathPackets() == 0 {
			t.Error("Chromium's audio reached Asterisk through pion, not the fast path: the gateway got its SRTP keys wrong")
		}

		step(t, b, "hold and resume with Alt+H; a plain H does nothing", 10*time.Second,
			chromedp.KeyEvent("h"),
			browsertest.Alt("h"),
			poll(`document.body.dataset.callstatus === 'held'`),
			browsertest.Alt("h"),
			poll(`document.body.dataset.callstatus === 'connected'`),
		)
		rig.desk.expect(t, "hold", 5*time.Second)
		rig.desk.expect(t, "resume", 5*time.Second)

		leg := rig.desk.leg("call-1")
		before := leg.Stats().ToAgent.Packets
		peer.reset()
		step(t, b, "reload mid-call: the page comes back to the call", 20*time.Second,
			chromedp.Reload(),
			poll(`document.body.dataset.ws === 'open' && document.body.dataset.pc === 'connected'`),
			poll(`document.body.dataset.callstatus === 'connected'`),
			poll(`document.getElementById('call-number').textContent === '+7 916 123-45-67'`),
		)
		checkAudio("after reload")
		if rig.desk.leg("call-1") != leg || leg.Stats().ToAgent.Packets <= before {
			t.Fatalf("the leg did not survive the reload")
		}
		if _, ssrcs, _ := peer.counts(); ssrcs != 1 {
			t.Errorf("Asterisk saw %d SSRCs across the reload, want 1", ssrcs)
		}

		// Agent B, logged in on their own, cannot touch A's call; A's page keeps it.
		cb, _ := login(t, rig.base, "b1", "secret-b")
		agentB := dial(t, rig.base, cb)
		for _, typ := range []string{"call.hangup", "call.hold", "call.transfer", "call.wrapup"} {
			agentB.send(`{"type":"` + typ + `","id":"x","call":"call-1","target":{"kind":"queue","value":"q"},"disposition":"d"}`)
			if m := agentB.next(); m["type"] != softphone.MsgError || m["code"] != "not_your_call" {
				t.Fatalf("agent B %s on A's call: %v, want not_your_call", typ, m)
			}
		}
		// The page's own socket: a malformed and an unknown message get errors, the socket stays.
		step(t, b, "malformed messages from the page", 10*time.Second,
			chromedp.Evaluate[chromedp.Void](`hotline.ws.send('{not json')`),
			poll(`document.body.dataset.lasterror === 'bad_message'`),
			chromedp.Evaluate[chromedp.Void](`hotline.ws.send('{"type":"call.teleport","call":"call-1"}')`),
			poll(`document.body.dataset.lasterror === 'unknown_type'`),
			browsertest.Alt("m"),
			poll(`document.getElementById('mute-label').textContent === 'Микрофон вкл.'`),
			browsertest.Alt("m"),
			poll(`document.getElementById('mute-label').textContent === 'Микрофон выкл.'`),
		)
		rig.desk.expect(t, "unmute", 5*time.Second)
		if rig.desk.leg("call-1") != leg {
			t.Fatal("the call's leg changed")
		}

		step(t, b, "quality indicator", 10*time.Second,
			poll(`document.getElementById('quality').dataset.q === 'good'`))

		step(t, b, "a break after this call", 10*time.Second,
			poll(`document.getElementById('state-pause').textContent === 'Перерыв после звонка'`),
			chromedp.Click(chromedp.ID("state-pause")),
			poll(`document.body.dataset.pausenext !== '' && document.getElementById('agent-state').textContent.endsWith('перерыв после звонка')`),
			poll(`document.body.dataset.callstatus === 'connected'`),
		)
		rig.desk.expect(t, "state", 5*time.Second)

		step(t, b, "hang up and wrap up", 10*time.Second,
			chromedp.Click(chromedp.ID("btn-hangup")),
			poll(`!document.getElementById('wrapup').hidden`),
			// The wrap-up's time, labelled: when the next call may come.
			poll(`/^до следующего звонка [0-9]+ с$/.test(document.getElementById('wrapup-timer').textContent)`),
			// The dispositions in the page's language alone.
			poll(`[...document.getElementById('wrapup-disposition').options].map((o) => o.text).join() === 'Решено,Перезвонить'`),
			// The screen pop stays through the wrap-up: the agent sees whose call they write up.
			poll(`!document.getElementById('call-info').hidden && document.getElementById('call-number').textContent === '+7 916 123-45-67'`),
			// More time asked for (the fake desk grants it and 10 s more): the timer shows the new end.
			chromedp.Click(chromedp.ID("wrapup-more")),
			poll(`/^до следующего звонка (39|40) с$/.test(document.getElementById('wrapup-timer').textContent)`),
			chromedp.SetValue(chromedp.ID("wrapup-disposition"), "callback"),
			chromedp.SetValue(chromedp.ID("wrapup-note"), "перезвонить завтра"),
			chromedp.Click(chromedp.ID("wrapup-submit")),
			poll(`document.getElementById('wrapup').hidden && document.body.dataset.call === ''`),
			poll(`document.querySelectorAll('#calls-today tbody tr').length === 1`),
			// The day's calls in the page's language: the queue's title and the disposition's label.
			poll(`/Бизнес-клиенты.*Решено/.test(document.querySelector('#calls-today tbody tr').textContent)`),
		)
		rig.desk.expect(t, "hangup", 5*time.Second)
		if e := rig.desk.expect(t, "wrapup.extend", 5*time.Second); e.Arg != "30s" {
			t.Errorf("wrap-up extended by %q, want 30s", e.Arg)
		}
		if e := rig.desk.expect(t, "wrapup", 5*time.Second); e.Arg != "callback|перезвонить завтра" {
			t.Errorf("wrap-up %q, want disposition and note", e.Arg)
		}

		// A second call, answered automatically and driven from the keyboard and the forms.
		step(t, b, "auto-answer on", 5*time.Second,
			chromedp.Click(chromedp.ID("auto-answer")),
			poll(`document.getElementById('auto-answer').checked`),
		)
		rig.desk.ring("a1", softphone.CallInfo{ID: "call-2", CallerNumber: "+74950000000", Queue: "private"})
		step(t, b, "auto-answered", 10*time.Second,
			poll(`document.body.dataset.call === 'call-2' && document.body.dataset.callstatus === 'connected'`),
			chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`),
			chromedp.KeyEvent("5"),
			chromedp.Click(chromedp.CSS(`#keypad [data-digit="#"]`)),
			chromedp.SetValue(chromedp.ID("transfer-target"), "claims"),
			chromedp.Click(chromedp.ID("btn-transfer")),
		)
		rig.desk.expect(t, "answer", 5*time.Second)
		for _, want := range []deskEvent{{"dtmf", "a1", "call-2", "5"}, {"dtmf", "a1", "call-2", "#"}, {"transfer", "a1", "call-2", "queue:claims"}} {
			if got := rig.desk.expect(t, want.Op, 5*time.Second); got != want {
				t.Errorf("desk saw %+v, want %+v", got, want)
			}
		}
		step(t, b, "hang up with Alt+E, wrap up", 10*time.Second,
			chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`),
			browsertest.Alt("e"),
			poll(`!document.getElementById('wrapup').hidden`),
			chromedp.Click(chromedp.ID("wrapup-submit")),
			poll(`document.getElementById('wrapup').hidden && document.body.dataset.call === ''`),
		)
		if e := rig.desk.expect(t, "wrapup", 5*time.Second); e.Call != "call-2" || e.Arg != "resolved|" {
			t.Errorf("second wrap-up %+v, want call-2 resolved", e)
		}
	})
}
