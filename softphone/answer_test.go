package softphone_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/internal/browsertest"
	"github.com/hotline-cc/hotline/softphone"
)

// TestAnswerToAudioRuns measures answer-to-audio in headless Chromium, off unless asked for:
//
//	HOTLINE_ANSWER_RUNS=30 go test -run TestAnswerToAudioRuns -v ./softphone/
//
// One browser session answers a call, waits for two-way audio, hangs up and wraps up, K times. A
// fake Asterisk starts sending the caller's tone when the call is answered (the desk opens the
// leg), as externalMedia does once it is bridged. Reported: the page's own figure (answer click to
// the caller's first sound in the page) and the server's (the recorded answer-to-two-way-audio,
// and the leg's first packet each way from its opening), p50 and p99.
func TestAnswerToAudioRuns(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("HOTLINE_ANSWER_RUNS"))
	if runs <= 0 {
		t.Skip("set HOTLINE_ANSWER_RUNS=30 to measure answer to audio in Chromium")
	}
	browsertest.RunInNetNS(t, func(t *testing.T) {
		rig := newRig(t)
		peer := newRTPPeer(t)
		var stops []context.CancelFunc
		defer func() {
			for _, stop := range stops {
				stop()
			}
		}()
		rig.desk.asterisk = func(leg *softphone.Leg) {
			ctx, stop := context.WithCancel(context.Background())
			stops = append(stops, stop) // Answer runs in the page's dispatch, one at a time
			leg.SetRemote(peer.addr())
			go peer.send(ctx, leg.LocalAddr(), 440)
		}
		b := browsertest.Chromium(t, browsertest.Options{MicFreq: 1000})
		step(t, b, "log in", 20*time.Second, browsertest.AgentLogin(rig.url, "a1", "secret-a")...)
		step(t, b, "go available", 10*time.Second,
			chromedp.Click(chromedp.ID("state-available")),
			poll(`document.body.dataset.state === 'available'`),
		)
		var page, server, down, up []time.Duration
		for i := range runs {
			id := fmt.Sprintf("call-%d", i)
			rig.desk.ring("a1", softphone.CallInfo{ID: id, CallerNumber: "+79160000000"})
			step(t, b, id+": ring, answer, hear the caller", 20*time.Second,
				poll(`document.body.dataset.callstatus === 'ringing' && document.body.dataset.call === '`+id+`'`),
				chromedp.Click(chromedp.ID("btn-answer")),
				poll(`hotline.a2a['`+id+`'] !== undefined`),
			)
			ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
			ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`hotline.a2a['`+id+`']`))
			cancel()
			if err != nil {
				t.Fatalf("%s: read the page's figure: %v", id, err)
			}
			step(t, b, id+": hang up, wrap up", 20*time.Second,
				chromedp.Click(chromedp.ID("btn-hangup")),
				poll(`!document.getElementById('wrapup').hidden`),
				chromedp.Click(chromedp.ID("wrapup-submit")),
				poll(`document.getElementById('wrapup').hidden && document.body.dataset.call === ''`),
			)
			// The report went before the hangup on the same socket: the server has it.
			rig.desk.expect(t, "hangup", 5*time.Second)
			st := rig.desk.leg(id).StartTiming()
			if st.AnswerToAudio == 0 {
				t.Fatalf("%s: the server recorded no answer-to-audio (page %.1f ms, timing %+v)", id, ms, st)
			}
			page = append(page, time.Duration(ms*float64(time.Millisecond)))
			server, down, up = append(server, st.AnswerToAudio), append(down, st.FirstToAgent), append(up, st.FirstFromAgent)
		}
		t.Logf("answer to audio over %d calls: page (click → caller heard) %s; recorded two-way %s; leg open → first packet from Asterisk %s, from the browser %s",
			runs, quantiles(page), quantiles(server), quantiles(down), quantiles(up))
	})
}

// quantiles formats p50, p99 and max (nearest rank).
func quantiles(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	r := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
	return "p50 " + r(at(.5)) + " p99 " + r(at(.99)) + " max " + r(s[len(s)-1])
}
