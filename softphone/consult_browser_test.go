package softphone_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/internal/browsertest"
	"github.com/hotline-cc/hotline/softphone"
)

// TestBrowserConsultation: a colleague's consultation rings distinctly ("Consultation from …", in
// Russian and English), is answered with the A key, and while it lasts only hang-up and mute apply;
// when it ends without a transfer the page has no call and no wrap-up.
func TestBrowserConsultation(t *testing.T) {
	browsertest.RunInNetNS(t, func(t *testing.T) {
		rig := newRig(t)
		b := browsertest.Chromium(t, browsertest.Options{MicFreq: 1000})
		step(t, b, "open the page and log in", 20*time.Second, browsertest.AgentLogin(rig.url, "a1", "secret-a")...)
		rig.desk.expect(t, "profile", 5*time.Second)
		step(t, b, "go available", 10*time.Second,
			chromedp.Click(chromedp.ID("state-available")),
			poll(`document.body.dataset.state === 'available'`),
		)

		info := softphone.CallInfo{ID: "call-c", CallerNumber: "+79160000001", Queue: "general", Entered: map[string]string{"tracking": "RA123456789RU"}}
		rig.desk.ring("a1", info)
		from := &softphone.ConsultFrom{Agent: "b1", Name: "Борис"}
		// As the server does for a consultation: the same push with who consults.
		rig.desk.notify("a1", softphone.Ringing{Call: info, RingSeconds: 20, Consult: from})
		step(t, b, "the consultation rings with who consults and the screen pop", 10*time.Second,
			chromedp.Click(chromedp.ID("lang-ru")),
			poll(`document.body.dataset.callstatus === 'ringing' && document.body.dataset.consult === 'b1'`),
			poll(`document.getElementById('call-consult').textContent === 'Консультация от Борис (b1)'`),
			poll(`document.getElementById('call-status').textContent === 'консультация: вызов'`),
			poll(`document.getElementById('call-entered').textContent === 'трек-номер: RA123456789RU'`),
			chromedp.Click(chromedp.ID("lang-en")),
			poll(`document.getElementById('call-consult').textContent === 'Consultation from Борис (b1)'`),
			chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`),
			browsertest.Alt("a"),
		)
		if e := rig.desk.expect(t, "answer", 5*time.Second); e.Call != "call-c" {
			t.Fatalf("answered %+v", e)
		}
		// The fake desk's answer pushes a plain call.connected; the page must have it before the
		// consultation's own, or the two race (this test was flaky for it).
		step(t, b, "the fake desk's answer reached the page", 10*time.Second, poll(`document.body.dataset.callstatus === 'connected'`))
		rig.desk.notify("a1", softphone.CallEvent{Kind: softphone.MsgConnected, CallID: "call-c", Call: &info, Consult: from})
		step(t, b, "talking with the colleague: only hang-up and mute", 10*time.Second,
			poll(`document.body.dataset.callstatus === 'consulted'`),
			poll(`document.getElementById('call-consult').textContent === 'Consultation from Борис (b1)'`),
			poll(`document.getElementById('btn-hold').disabled && document.getElementById('btn-transfer').disabled`),
			poll(`!document.getElementById('btn-hangup').disabled && !document.getElementById('btn-mute').disabled`),
		)
		rig.desk.notify("a1", softphone.Ended{CallID: "call-c", Reason: "consult:cancelled"})
		rig.desk.notify("a1", softphone.StateChanged{State: "available"})
		step(t, b, "the consultation is over: no call, no wrap-up", 10*time.Second,
			poll(`document.body.dataset.call === '' && document.body.dataset.consult === ''`),
			poll(`document.getElementById('wrapup').hidden && document.body.dataset.state === 'available'`),
		)
	})
}
