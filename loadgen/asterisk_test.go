package loadgen

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/aritest"
)

// TestCallerChannel: a caller the generator places on a real Asterisk speaks the codec it was
// given (alaw by default), not the slin192 Asterisk picks for a Local channel originated without
// one (every prompt resampled 24 times over: two cores at a hundred callers), and the generator,
// subscribed to its callers' channels only, hears the caller's answer and its end.
func TestCallerChannel(t *testing.T) {
	tg, ok := aritest.RealTarget()
	if !ok {
		aritest.SkipOrFail(t, "no real Asterisk: set "+aritest.EnvURL+", "+aritest.EnvUser+" and "+aritest.EnvPassword)
	}
	tg.Isolate(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, format := range []string{"", "ulaw"} {
		a := &Asterisk{URL: tg.BaseURL, User: tg.User, Password: tg.Password, Format: format}
		if err := a.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		// The called half is a test agent (answers after a second), the caller's half the bench
		// caller: no controller needed.
		tr, err := a.originate(ctx, "agent", "agent-sim", "caller-bench", "79160000001", nil)
		if err != nil {
			a.Close()
			t.Fatal(err)
		}
		select {
		case <-tr.Answered():
		case <-time.After(10 * time.Second):
			a.Close()
			t.Fatalf("format %q: the caller's answer was not heard", format)
		}
		var v struct {
			Value string `json:"value"`
		}
		if err := a.do(ctx, http.MethodGet, "/channels/"+url.PathEscape(tr.ID())+"/variable?"+
			url.Values{"variable": {"CHANNEL(audionativeformat)"}}.Encode(), nil, &v); err != nil {
			a.Close()
			t.Fatal(err)
		}
		want := format
		if want == "" {
			want = "alaw"
		}
		if strings.Trim(v.Value, "()") != want {
			t.Errorf("format %q: the caller's channel speaks %q, want %s", format, v.Value, want)
		}
		a.hangup(ctx, tr.ID())
		select {
		case <-tr.Done():
		case <-time.After(10 * time.Second):
			t.Errorf("format %q: the caller's end was not heard", format)
		}
		a.Close()
	}
}
