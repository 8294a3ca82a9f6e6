package browsertest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestRunPattern(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"TestA", "^TestA$"},
		{"TestA/sub_1", "^TestA$/^sub_1$"},
		{"TestA.b", `^TestA\.b$`},
	} {
		if got := runPattern(tc.name); got != tc.want {
			t.Errorf("runPattern(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestChromiumInNetNS checks the harness end to end: the namespace has only loopback, and the
// browser starts there with a media device from the fake microphone.
func TestChromiumInNetNS(t *testing.T) {
	RunInNetNS(t, func(t *testing.T) {
		ifs, err := net.Interfaces()
		if err != nil {
			t.Fatal(err)
		}
		for _, ifc := range ifs {
			if ifc.Name != "lo" {
				t.Errorf("interface %s in the namespace", ifc.Name)
			}
			if ifc.Name == "lo" && ifc.Flags&net.FlagUp == 0 {
				t.Error("lo is down")
			}
		}
		// A page from a loopback origin is a secure context: about:blank has no mediaDevices.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<!doctype html><title>t</title>"))
		}))
		defer srv.Close()
		b := Chromium(t, Options{})
		if err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL)); err != nil {
			t.Fatalf("navigate: %v", err)
		}
		got, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`navigator.mediaDevices.getUserMedia({audio:true})
			.then(s => s.getAudioTracks()[0].readyState)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("getUserMedia: %v", err)
		}
		if got != "live" {
			t.Fatalf("microphone track %q, want live", got)
		}
	})
}
