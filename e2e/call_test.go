// Package e2e tests hotline whole: a caller dials through the simulator (or a real Asterisk), hears
// the IVR, presses keys, waits in the Redis queue, and an agent answers in headless Chromium with
// audio checked by its content both ways.
package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/browsertest"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/media"
	"github.com/hotline-cc/hotline/prompts"
	"github.com/hotline-cc/hotline/server"
)

// timeScale makes the simulator's prompts and the caller's waits five times faster than real.
const timeScale = 0.2

// startHotline runs a whole hotline against tg's ARI and a real redis-server, as `hotline run` would.
func startHotline(t *testing.T, tg *aritest.Target) *server.Server {
	t.Helper()
	rs := redistest.Start(t)
	cfg := config.Default()
	cfg.Center, cfg.Instance = "e2e", "e2e-1"
	cfg.ARI.URL, cfg.ARI.User, cfg.ARI.Password = tg.ARIURL(), tg.User, tg.Password
	cfg.ARI.RingTimeout = config.Duration(30 * time.Second)
	cfg.Redis.Addr = rs.Addr
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Softphone.ICEPort = 0
	if h := os.Getenv("HOTLINE_TEST_RTP_HOST"); h != "" && tg.Sim == nil {
		cfg.Softphone.RTPHost = h // where a real Asterisk can reach the gateway's legs
	}
	cfg, err := config.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, server.Options{LoopbackOnly: true}, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hotline stopped with: %v", err)
		}
	})
	tg.WaitApp(t, tg.App)
	return srv
}

// analyserJS installs window.__tone(freq): the strongest frequency of the call's audio in the page,
// if it is freq. A remote track reads as silence in WebAudio unless a media element plays it too:
// the page's #remote-audio does.
const analyserJS = `window.__tone = function (freq) {
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

func step(t *testing.T, b *browsertest.Browser, what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
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

func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))
}

// waitFor polls cond (cheap reads of state) until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// agentState reads an agent's state from the supervisor's API.
func agentState(t *testing.T, base, agent string) string {
	t.Helper()
	resp, err := http.Get(base + "/supervisor/api/view")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		View struct {
			Agents []struct{ ID, State string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	for _, a := range v.View.Agents {
		if a.ID == agent {
			return a.State
		}
	}
	return ""
}

// TestCallEndToEnd: a caller dials 8800, hears the greeting, presses 1 (private) and 0 (an agent),
// waits in the general queue in Redis; agent p001, logged in on the agent page in Chromium with a
// 1000 Hz fake microphone, answers; the caller's 440 Hz reaches the page and the page's 1000 Hz
// reaches the caller; the caller hangs up; the agent wraps up and is available again.
//
// On the simulator the test runs in a network namespace with only loopback, so the browser's ICE
// never leaves the machine; TestCallEndToEndAsterisk runs the same call on a real Asterisk.
func TestCallEndToEnd(t *testing.T) {
	browsertest.RunInNetNS(t, func(t *testing.T) {
		callEndToEnd(t, aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()}))
	})
}

func TestCallEndToEndAsterisk(t *testing.T) {
	tg, ok := aritest.RealTarget()
	if !ok {
		t.Skipf("no real Asterisk: set %s, %s and %s to run against one", aritest.EnvURL, aritest.EnvUser, aritest.EnvPassword)
	}
	callEndToEnd(t, tg)
}

func callEndToEnd(t *testing.T, tg *aritest.Target) {
	{
		{
			srv := startHotline(t, tg)
			base := "http://" + srv.WebAddr().String()
			b := browsertest.Chromium(t, browsertest.Options{MicFreq: 1000})

			step(t, b, "log in as p001", 30*time.Second,
				chromedp.Navigate(base+"/agent/"),
				chromedp.WaitVisible(chromedp.ID("login-agent")),
				chromedp.SetValue(chromedp.ID("login-agent"), "p001"),
				chromedp.SetValue(chromedp.ID("login-password"), "hotline-demo"),
				chromedp.Click(chromedp.ID("login-submit")),
				poll(`document.body.dataset.ws === 'open' && document.body.dataset.pc === 'connected'`),
				chromedp.Click(chromedp.ID("state-available")),
				poll(`document.body.dataset.state === 'available'`),
			)
			waitFor(t, "p001 available in the ACD", 10*time.Second, func() bool { return agentState(t, base, "p001") == "available" })

			placed, err := tg.Callers.Dial(context.Background(), aritest.CallerSpec{
				DID: "8800", Number: "79161234567", Name: "Ivan Petrov", Context: "caller-agent-tone"})
			if err != nil {
				t.Fatal(err)
			}
			step(t, b, "the page rings with the screen pop", 30*time.Second,
				poll(`document.body.dataset.callstatus === 'ringing'`),
				poll(`document.getElementById('call-number').textContent === '79161234567'`),
			)
			if placed.Sim != nil && !slices.Contains(placed.Sim.Prompts(), "sound:hotline/welcome") {
				t.Errorf("the caller did not hear the greeting: %v", placed.Sim.Prompts())
			}
			step(t, b, "answer", 15*time.Second,
				chromedp.Click(chromedp.ID("btn-answer")),
				poll(`document.body.dataset.callstatus === 'connected'`),
				chromedp.Evaluate[chromedp.Void](analyserJS),
				poll(`window.__tone(440)`),
			)
			if placed.Sim != nil {
				waitFor(t, "the agent's 1000 Hz at the caller", 15*time.Second, func() bool {
					return media.ToneDominance(placed.Sim.Heard(400*time.Millisecond), 1000, media.SampleRate) > 20
				})
				if err := placed.Sim.Hangup(); err != nil {
					t.Fatal(err)
				}
			} else {
				if st, body, err := tg.Do(context.Background(), http.MethodDelete, "/ari/channels/"+placed.ChannelID, nil); err != nil || st != http.StatusNoContent {
					t.Fatalf("hang up the caller: %d %s %v", st, body, err)
				}
			}
			step(t, b, "the call ends and the agent wraps up", 15*time.Second,
				poll(`!document.getElementById('wrapup').hidden`),
				chromedp.SetValue(chromedp.ID("wrapup-disposition"), "resolved"),
				chromedp.Click(chromedp.ID("wrapup-submit")),
				poll(`document.getElementById('wrapup').hidden`),
				poll(`document.querySelectorAll('#calls-today tbody tr').length === 1`),
			)
			waitFor(t, "p001 available again", 10*time.Second, func() bool { return agentState(t, base, "p001") == "available" })

			// A supervisor switches on the holiday message: the next caller hears it before the menu.
			resp, err := http.Post(base+"/supervisor/api/announcement", "application/json", strings.NewReader(`{"kind":"holiday"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Fatalf("switch the announcement: %s", resp.Status)
			}
			if tg.Sim != nil {
				next, err := tg.Callers.Dial(context.Background(), aritest.CallerSpec{DID: "8800", Number: "79160000000", Context: "caller-hangup"})
				if err != nil {
					t.Fatal(err)
				}
				select {
				case <-next.Sim.Done():
				case <-time.After(20 * time.Second):
					t.Fatal("the second caller never hung up")
				}
				if heard := next.Sim.Prompts(); len(heard) == 0 || heard[0] != "sound:hotline/announcement_holiday" {
					t.Errorf("the next caller heard %v, want the holiday message first", heard)
				}
			}
		}
	}
}
