package contrasttest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/internal/browsertest"
	"github.com/hotline-cc/hotline/internal/contrasttest"
)

// page has one element of each case the checker must tell apart; the ids say what is expected.
const page = `<!doctype html><html lang="en"><head><style>
body { background:#fff; color:#000; font:16px sans-serif; margin:0; }
.grey { color:#767676; }            /* 4.54:1 on white: passes */
.light { color:#777; }              /* 4.48:1: fails */
.big { color:#949494; font-size:24px; }             /* 3.03:1, large: passes */
.bold { color:#949494; font-size:19px; font-weight:700; } /* large by weight: passes */
.notbold { color:#949494; font-size:19px; }          /* 3.03:1, not large: fails */
.dark { background:#263238; }
.dark .w { color:#fff; }            /* on the parent's background: passes */
.dark .g { color:#546e7a; }         /* fails against the dark parent, not against white */
.faded { opacity:.5; }              /* black text at half opacity on white: #808080, 3.98:1: fails */
.veil { background:rgba(0,0,0,.5); color:#fff; }    /* white on #808080: 3.98:1: fails */
.gone { display:none; color:#eee; }
.hid { visibility:hidden; color:#eee; }
.sr { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); color:#eee; }
button { color:#000; background:#eee; border:1px solid #999; }
button.same:disabled { opacity:1; color:#000; background:#eee; }
button.dim:disabled { opacity:.4; }
input::placeholder { color:#aaa; } /* 2.32:1: fails */
.ring:focus-visible { outline:3px solid #90caf9; outline-offset:1px; } /* 1.7:1 on white: fails */
.ok:focus-visible { outline:3px solid #1565c0; outline-offset:1px; }
</style></head><body>
<p id="black">black on white</p>
<p id="grey" class="grey">grey that passes</p>
<p id="light" class="light">grey that fails</p>
<p id="big" class="big">large grey</p>
<p id="bold" class="bold">bold grey</p>
<p id="notbold" class="notbold">not bold grey</p>
<div class="dark"><span id="w" class="w">white on dark</span> <span id="g" class="g">grey on dark</span></div>
<div class="faded"><span id="faded">faded</span></div>
<div class="veil"><span id="veil">veiled</span></div>
<p id="gone" class="gone">not shown</p>
<p id="hid" class="hid">not visible</p>
<span id="sr" class="sr">for screen readers</span>
<p id="aria" aria-hidden="true" style="color:#eee">decoration</p>
<button id="same" class="same ok" disabled>looks enabled</button>
<button id="dim" class="dim ok" disabled>looks disabled</button>
<button id="ring" class="ring">pale ring</button>
<button id="okring" class="ok">dark ring</button>
<input id="ph" placeholder="pale placeholder">
<input id="val" value="a value">
</body></html>`

func TestContrastChecker(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	defer srv.Close()
	b := browsertest.Chromium(t, browsertest.Options{})
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.ID("val"))); err != nil {
		t.Fatal(err)
	}
	r, err := contrasttest.Check(ctx, contrasttest.Options{Focus: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Findings {
		t.Log(f)
		got = append(got, f.Kind+" "+f.Selector)
	}
	slices.Sort(got)
	want := []string{
		"disabled-looks-enabled button#same",
		"focus-indicator button#ring",
		"placeholder input#ph",
		"text p#light",
		"text p#notbold",
		"text span#faded",
		"text span#g",
		"text span#veil",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings\n\t%v\nwant\n\t%v", got, want)
	}
	// black, grey, light, big, bold, notbold, w, g, faded, veil, ring, okring, ph, val; the two disabled.
	if r.Checked != 16 {
		t.Errorf("checked %d, want 16", r.Checked)
	}
	if r.FocusChecked != 4 {
		t.Errorf("focus checked on %d controls (%d without :focus-visible), want 4: ring, okring, ph, val", r.FocusChecked, r.NotVisible)
	}
	for _, f := range r.Findings {
		if f.Selector == "span#faded" && (f.FG != "#808080" || f.BG != "#ffffff") {
			t.Errorf("half-opaque black on white: %s on %s, want #808080 on #ffffff", f.FG, f.BG)
		}
		if f.Selector == "span#veil" && (f.FG != "#ffffff" || f.BG != "#808080") {
			t.Errorf("white on a half-black veil: %s on %s, want #ffffff on #808080", f.FG, f.BG)
		}
	}
}
