package asterisksim_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
)

// dialEvents opens an events WebSocket for apps without waiting for them to be listed (a
// deactivated app is not), and returns its events; it closes when the test ends.
func dialEvents(t *testing.T, tg *aritest.Target, apps string) <-chan map[string]any {
	t.Helper()
	u := strings.Replace(tg.BaseURL, "http", "ws", 1) + "/ari/events?app=" + url.QueryEscape(apps) +
		"&api_key=" + url.QueryEscape(tg.User+":"+tg.Password)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("events websocket: %v", err)
	}
	ch := make(chan map[string]any, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		for {
			_, raw, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var ev map[string]any
			if json.Unmarshal(raw, &ev) == nil {
				ch <- ev
			}
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close(websocket.StatusNormalClosure, "")
		<-done
	})
	return ch
}

// next returns the next event of events, failing the test if none comes or the socket closes.
func next(t *testing.T, events <-chan map[string]any, what string) map[string]any {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatalf("events websocket closed while waiting for %s", what)
		}
		return ev
	case <-time.After(wait):
		t.Fatalf("no %s within %v", what, wait)
	}
	return nil
}

// TestHandoverRace: when the connection holding the app closes while a second one takes the app
// over, the app ends up deactivated (res/stasis/app.c app_update after app_deactivate): the second
// connection stays open but gets nothing for the app, Stasis() fails and user events are dropped,
// while the channel already in the app keeps it listed. A third connection activates it again.
func TestHandoverRace(t *testing.T) {
	tg, first := simTarget(t, asterisksim.Config{})
	held, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	first.WaitFor(t, wait, "StasisStart", aritest.Type("StasisStart", held.ChannelID()))

	tg.Sim.CloseDuringNextHandover(tg.App)
	// The second connection also holds a marker app, whose events tell what came before them.
	second := dialEvents(t, tg, tg.App+",marker")
	for ev := range first.C {
		t.Errorf("the closed connection got %v", ev["type"])
	}

	do(t, tg, "GET", "/ari/applications/"+tg.App, nil, 200) // the held channel keeps it listed
	do(t, tg, "POST", "/ari/events/user/probe?application="+tg.App, nil, 204)
	failing, err := tg.Sim.Dial(context.Background(), asterisksim.CallerSpec{DID: "8800", Script: []asterisksim.Step{asterisksim.Hold()}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-failing.Done(): // Stasis() failed: the dialplan played its apology and hung up
	case <-time.After(wait):
		t.Fatal("a caller entered the deactivated app")
	}
	do(t, tg, "POST", "/ari/events/user/marker?application=marker", nil, 204)
	if ev := next(t, second, "the marker"); ev["type"] != "ChannelUserevent" || ev["eventname"] != "marker" {
		t.Fatalf("the second connection got %v %v before the marker", ev["type"], ev["eventname"])
	}

	third := dialEvents(t, tg, tg.App)
	if err := held.Hangup(); err != nil {
		t.Fatal(err)
	}
	for {
		ev := next(t, third, "StasisEnd")
		if ev["type"] == "ApplicationReplaced" {
			t.Fatal("the third connection got ApplicationReplaced: nobody held the app")
		}
		if ev["type"] == "StasisEnd" {
			break
		}
	}
}

// TestUserEventVariables: the body's variables keep their JSON types and eventname is added; with
// no WebSocket and no channel the app is gone.
func TestUserEventVariables(t *testing.T) {
	tg, ev := simTarget(t, asterisksim.Config{})
	body := map[string]any{"variables": map[string]any{"n": 2, "ok": true, "s": "x"}}
	do(t, tg, "POST", "/ari/events/user/probe?application="+tg.App, body, 204)
	got := ev.WaitFor(t, wait, "ChannelUserevent", aritest.Type("ChannelUserevent", ""))
	raw, _ := json.Marshal(got["userevent"])
	if string(raw) != `{"eventname":"probe","n":2,"ok":true,"s":"x"}` {
		t.Errorf("userevent %s", raw)
	}
	do(t, tg, "POST", "/ari/events/user/probe?application="+tg.App+"&source=endpoint:PJSIP/x", nil, 422)
}
