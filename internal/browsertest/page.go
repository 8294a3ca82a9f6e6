package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// AnalyserJS installs window.__tone(freq) in a page of the agent softphone: the strongest frequency
// of the call's audio if it is within 30 Hz of freq and loud enough, else false. A remote track reads
// as silence in WebAudio unless a media element plays it too: the page's #remote-audio does.
const AnalyserJS = `window.__tone = function (freq) {
  const a = document.getElementById('remote-audio');
  if (!a || !a.srcObject) return false;
  if (!window.__an || window.__anStream !== a.srcObject) {
    const ctx = new AudioContext();
    ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 4096;
    ctx.createMediaStreamSource(a.srcObject).connect(an);
    window.__an = an; window.__anStream = a.srcObject;
  }
  const an = window.__an, data = new Float32Array(an.frequencyBinCount);
  an.getFloatFrequencyData(data);
  let best = 0;
  for (let i = 1; i < data.length; i++) if (data[i] > data[best]) best = i;
  const peak = best * an.context.sampleRate / an.fftSize;
  return data[best] > -70 && Math.abs(peak - freq) < 30 ? peak : false;
}; true`

// Step runs actions with a deadline of their own; on failure it fails the test with what the page's
// body data attributes said (the softphone and dashboard pages keep their state there).
func (b *Browser) Step(t testing.TB, what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		dctx, dcancel := context.WithTimeout(b.Ctx, 5*time.Second)
		defer dcancel()
		page, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`JSON.stringify(document.body.dataset)`))
		t.Fatalf("%s: %v (page: %s)", what, err, page)
	}
}

// Poll waits until expr is true in the page.
func Poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))
}

// AgentLogin opens the agent page at url, logs in and waits until the page's signaling and WebRTC
// audio are connected.
func AgentLogin(url, agent, password string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("login-agent")),
		chromedp.SetValue(chromedp.ID("login-agent"), agent),
		chromedp.SetValue(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
		Poll(`document.body.dataset.ws === 'open' && document.body.dataset.pc === 'connected'`),
	}
}

// Alt presses Alt with key, as the agent page's shortcuts want.
func Alt(key string) chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent(key, chromedp.KeyModifiers(chromedp.ModifierAlt))
}
