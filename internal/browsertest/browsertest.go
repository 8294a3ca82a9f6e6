// Package browsertest runs Debian's headless Chromium for a test (through chromedp) with a fake
// microphone that plays a tone, and re-runs a test inside a network namespace that has only
// loopback, so that WebRTC's connectivity checks cannot leave the machine.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/media"
)

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// Options tune the browser.
type Options struct {
	// Path is the browser; $HOTLINE_CHROMIUM, then DefaultChromium, when empty.
	Path string
	// MicFreq is the frequency of the fake microphone's tone; 1000 Hz when zero.
	MicFreq float64
	// MicSeconds is the length of the tone file (Chromium loops it); 10 s when zero.
	MicSeconds float64
	// Flags are extra command-line flags (name without dashes → value, true for a bare flag).
	Flags map[string]any
	// Logf receives the browser's console and chromedp's messages; t.Logf when nil.
	Logf func(format string, args ...any)
}

// Browser is a running Chromium.
type Browser struct {
	// Ctx is a chromedp context with a tab open: pass it to chromedp.Run. It ends with the test.
	Ctx context.Context
	// MicWAV is the fake microphone's file; MicFreq its tone.
	MicWAV  string
	MicFreq float64
}

// Path returns the browser to run, or "" when there is none.
func Path(opts Options) string {
	for _, p := range []string{opts.Path, os.Getenv("HOTLINE_CHROMIUM"), DefaultChromium} {
		if p == "" {
			continue
		}
		if abs, err := exec.LookPath(p); err == nil {
			return abs
		}
	}
	return ""
}

// Chromium starts a headless Chromium with a fresh profile and a fake microphone playing a tone,
// opens a tab, and stops the browser when the test ends. It skips the test when there is no
// browser (`make test` installs one).
func Chromium(t testing.TB, opts Options) *Browser {
	t.Helper()
	bin := Path(opts)
	if bin == "" {
		t.Skip("browsertest: no chromium (apt-get install chromium, or set HOTLINE_CHROMIUM)")
	}
	if opts.MicFreq == 0 {
		opts.MicFreq = 1000
	}
	if opts.MicSeconds == 0 {
		opts.MicSeconds = 10
	}
	logf := opts.Logf
	if logf == nil {
		logf = t.Logf
	}
	dir := t.TempDir()
	wav := filepath.Join(dir, "mic.wav")
	f, err := os.Create(wav)
	if err != nil {
		t.Fatalf("browsertest: create mic file: %v", err)
	}
	if err := media.ToneWAV(f, opts.MicFreq, opts.MicSeconds, 48000); err != nil {
		f.Close()
		t.Fatalf("browsertest: write mic file: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("browsertest: close mic file: %v", err)
	}

	// The flags measured to work (../shared/NOTES-webrtc-testing.md); chromedp's defaults are not
	// used because they mute audio and enable features we do not want.
	allocOpts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-audio-capture", wav),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		// Times the pages write are checked as text: the same zone on every machine.
		chromedp.Env("TZ=UTC"),
	}
	for k, v := range opts.Flags {
		allocOpts = append(allocOpts, chromedp.Flag(k, v))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(logf), chromedp.WithErrorf(logf))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout (that would stop the browser).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v", bin, err)
	}
	return &Browser{Ctx: ctx, MicWAV: wav, MicFreq: opts.MicFreq}
}
