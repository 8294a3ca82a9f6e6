package e2e

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/browsertest"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/server"
)

// TestScreenshots takes the README's pictures from the running demo (its crew and callers, on the
// simulator) in Chromium: the supervisor's board and an agent talking. It runs only when
// HOTLINE_SCREENSHOTS names the directory to write them to (scripts/screenshots.sh), so the
// pictures stay true to the pages.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("HOTLINE_SCREENSHOTS")
	if dir == "" {
		t.Skip("set HOTLINE_SCREENSHOTS=DIR (scripts/screenshots.sh) to take the README's screenshots")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.RunInNetNS(t, func(t *testing.T) {
		cfg := config.Default()
		cfg.Center, cfg.Instance = "postal", "screenshots"
		cfg.ARI.Simulate = true
		cfg.Redis.Addr = redistest.Start(t).Addr
		cfg.Simulator.TimeScale, cfg.Simulator.CallersPerMinute, cfg.Simulator.Crew = 0.5, 40, 24
		cfg.Web.Listen = "127.0.0.1:0"
		cfg.Softphone.ICEPort = 0
		cfg, err := config.Resolve(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := server.New(ctx, cfg, server.Options{LoopbackOnly: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		base := "http://" + srv.WebAddr().String()
		// Let the center fill: the crew (fewer agents than the callers need) talking, callers waiting.
		waitfor.True(t, "calls talking and waiting", 90*time.Second, func() bool {
			snap, err := srv.Center().Snapshot(ctx)
			if err != nil {
				return false
			}
			talking := 0
			for _, a := range snap.Agents {
				if a.State == "oncall" {
					talking++
				}
			}
			return talking >= 8 && len(snap.Queues) > 0 && len(snap.Queues[0].Waiting) > 0
		})

		b := browsertest.Chromium(t, browsertest.Options{Flags: map[string]any{"window-size": "1440,1000"}})
		shot := func(name string) {
			t.Helper()
			// The window as a person sees it: the board scrolls as a whole, and 500 agents would make a
			// picture three screens tall.
			png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d bytes)", filepath.Join(dir, name), len(png))
		}
		b.Step(t, "the supervisor's board", 30*time.Second,
			chromedp.EmulateViewport(1440, 1000),
			chromedp.Navigate(base+"/supervisor/"),
			chromedp.WaitVisible(chromedp.ID("login-id")),
			chromedp.SendKeys(chromedp.ID("login-id"), "sup1"),
			chromedp.SendKeys(chromedp.ID("login-pw"), "hotline-demo\r"),
			browsertest.Poll(`document.querySelectorAll('#agents .ag').length === 500 && document.querySelectorAll('#agents .ag.s-on_call').length > 0`),
		)
		shot("supervisor.png")

		b.Step(t, "an agent answers", 60*time.Second, append(browsertest.AgentLogin(base+"/agent/", "p001", "hotline-demo"),
			chromedp.Click(chromedp.ID("state-available")),
			browsertest.Poll(`document.body.dataset.callstatus === 'ringing'`),
			chromedp.Click(chromedp.ID("btn-answer")),
			browsertest.Poll(`document.body.dataset.callstatus === 'connected'`),
			browsertest.Poll(`document.getElementById('call-timer').textContent === '0:03'`),
		)...)
		shot("agent.png")
	})
}
