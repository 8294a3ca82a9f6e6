package softphone_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/softphone"
)

// signalingRig serves the page without a gateway's browser: Go clients speak the protocol.
func signalingRig(t *testing.T) (*fakeDesk, *httptest.Server) {
	t.Helper()
	rig := newRig(t)
	hs := httptest.NewServer(rig.srv)
	t.Cleanup(hs.Close)
	return rig.desk, hs
}

// login returns an HTTP client carrying agent's session cookie.
func login(t *testing.T, base, agent, password string) (*http.Client, *http.Response) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"agent": agent, "password": password})
	resp, err := c.Post(base+"/agent/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c, resp
}

type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, base string, c *http.Client) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/agent/ws", &websocket.DialOptions{HTTPClient: c})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	w := &wsClient{t: t, ws: ws}
	if m := w.next(); m["type"] != softphone.MsgHello {
		t.Fatalf("first message %v, want hello", m)
	}
	return w
}

func (w *wsClient) send(raw string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.ws.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// next returns the next message that is not a stats push.
func (w *wsClient) next() map[string]any {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := w.ws.Read(ctx)
		if err != nil {
			w.t.Fatalf("read: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			w.t.Fatalf("server sent bad JSON %q: %v", b, err)
		}
		if m["type"] != softphone.MsgStats {
			return m
		}
	}
}

func TestLogin(t *testing.T) {
	_, hs := signalingRig(t)
	for _, tc := range []struct {
		name, agent, password string
		status                int
	}{
		{"good", "a1", "secret-a", http.StatusOK},
		{"wrong password", "a1", "secret-b", http.StatusUnauthorized},
		{"unknown agent", "zz", "secret-a", http.StatusUnauthorized},
		{"empty", "", "", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp := login(t, hs.URL, tc.agent, tc.password)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status != http.StatusOK {
				return
			}
			var ck *http.Cookie
			for _, k := range resp.Cookies() {
				ck = k
			}
			if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/agent/" {
				t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/agent/", ck)
			}
			me, err := c.Get(hs.URL + "/agent/me")
			if err != nil {
				t.Fatal(err)
			}
			me.Body.Close()
			if me.StatusCode != http.StatusOK {
				t.Fatalf("/agent/me after login: %d", me.StatusCode)
			}
		})
	}
	// Without a session, no socket and no /me.
	for _, path := range []string{"/agent/ws", "/agent/me"} {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", path, resp.StatusCode)
		}
	}
	// A cross-site login post is refused.
	req, _ := http.NewRequest("POST", hs.URL+"/agent/login", strings.NewReader(`{"agent":"a1","password":"secret-a"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin login: %d, want 403", resp.StatusCode)
	}
}

// TestSignalingErrors: bad and foreign requests get an error and the socket stays open; agent B
// cannot act on agent A's call. The fake desk answers as the real one (server/desk.go) does: the
// real desk's answers to foreign calls, wrap-up included, are checked by server's
// TestWrapUpOnlyOwnCall.
func TestSignalingErrors(t *testing.T) {
	desk, hs := signalingRig(t)
	ca, _ := login(t, hs.URL, "a1", "secret-a")
	cb, _ := login(t, hs.URL, "b1", "secret-b")
	a := dial(t, hs.URL, ca)
	b := dial(t, hs.URL, cb)
	desk.ring("a1", softphone.CallInfo{ID: "call-a", CallerNumber: "+7000"})
	for want := []string{softphone.MsgStateChanged, softphone.MsgRinging}; len(want) > 0; want = want[1:] {
		if m := a.next(); m["type"] != want[0] {
			t.Fatalf("agent a got %v, want %s", m, want[0])
		}
	}

	for _, tc := range []struct {
		name, raw, code, id string
	}{
		{"not JSON", `{`, "bad_message", ""},
		{"not an object", `[1,2]`, "bad_message", ""},
		{"unknown type", `{"type":"call.explode","id":"1"}`, "unknown_type", ""},
		{"no type", `{"call":"call-a"}`, "unknown_type", ""},
		{"missing call", `{"type":"call.hangup","id":"2"}`, "bad_message", ""},
		{"bad digits", `{"type":"call.dtmf","id":"3","call":"call-a","digits":"12x"}`, "bad_message", "3"},
		{"bad state", `{"type":"state.set","id":"4","state":"asleep"}`, "bad_message", "4"},
		{"bad target", `{"type":"call.transfer","id":"5","call":"call-a","target":{"kind":"moon","value":"x"}}`, "bad_message", "5"},
		{"wrong field type", `{"type":"call.hangup","id":"6","call":42}`, "bad_message", ""},
		{"garbage SDP", `{"type":"offer","id":"7","sdp":"v=banana"}`, "bad_offer", "7"},
		{"B answers A's call", `{"type":"call.answer","id":"8","call":"call-a"}`, "not_your_call", "8"},
		{"B hangs up A's call", `{"type":"call.hangup","id":"9","call":"call-a"}`, "not_your_call", "9"},
		{"B wraps up A's call", `{"type":"call.wrapup","id":"10","call":"call-a","disposition":"x"}`, "not_your_call", "10"},
		{"no such call", `{"type":"call.hold","id":"11","call":"nope"}`, "no_such_call", "11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.send(tc.raw)
			m := b.next()
			if m["type"] != softphone.MsgError || m["code"] != tc.code {
				t.Fatalf("reply %v, want error %s", m, tc.code)
			}
			if tc.id != "" && m["id"] != tc.id {
				t.Errorf("reply id %v, want %s", m["id"], tc.id)
			}
		})
	}
	b.send(`{"type":"ping","id":"p"}`)
	if m := b.next(); m["type"] != softphone.MsgPong || m["id"] != "p" {
		t.Fatalf("after errors, ping got %v", m)
	}
	// The owner can: answer needs no audio to be acked.
	a.send(`{"type":"call.reject","id":"r","call":"call-a"}`)
	got := map[string]bool{}
	for range 2 {
		got[a.next()["type"].(string)] = true
	}
	if !got[softphone.MsgAck] || !got[softphone.MsgEnded] {
		t.Fatalf("owner's reject: got %v, want ack and call.ended", got)
	}
}

// TestTransferNamesClient: what a page's socket asks carries the page's client address down to the
// desk, where the switchboard audits the number dialled with it.
func TestTransferNamesClient(t *testing.T) {
	desk, hs := signalingRig(t)
	ca, _ := login(t, hs.URL, "a1", "secret-a")
	a := dial(t, hs.URL, ca)
	desk.ring("a1", softphone.CallInfo{ID: "call-a", CallerNumber: "+7000"})
	desk.mu.Lock()
	desk.calls["call-a"].state = "connected"
	desk.mu.Unlock()
	a.send(`{"type":"call.transfer","id":"t","call":"call-a","target":{"kind":"number","value":"+78005550100"}}`)
	for {
		m := a.next()
		if m["type"] == softphone.MsgError {
			t.Fatalf("transfer refused: %v", m)
		}
		if m["type"] == softphone.MsgAck && m["id"] == "t" {
			break
		}
	}
	desk.mu.Lock()
	defer desk.mu.Unlock()
	if desk.remote != "127.0.0.1" {
		t.Errorf("the transfer's context names client %q, want 127.0.0.1", desk.remote)
	}
}

// TestNotifyReplay: pushes reach only their agent, and a page that connects later is told the
// call in progress.
func TestNotifyReplay(t *testing.T) {
	desk, hs := signalingRig(t)
	ca, _ := login(t, hs.URL, "a1", "secret-a")
	cb, _ := login(t, hs.URL, "b1", "secret-b")
	b := dial(t, hs.URL, cb)
	desk.ring("a1", softphone.CallInfo{ID: "call-r", CallerNumber: "+7111"})
	desk.notify("a1", softphone.Held("call-r"))

	a := dial(t, hs.URL, ca)
	for _, want := range []string{softphone.MsgStateChanged, softphone.MsgRinging, softphone.MsgHeld} {
		if m := a.next(); m["type"] != want {
			t.Fatalf("replay: got %v, want %s", m, want)
		}
	}
	b.send(`{"type":"ping"}`)
	if m := b.next(); m["type"] != softphone.MsgPong {
		t.Fatalf("agent b got %v before its pong: another agent's push leaked", m)
	}
	if err := desk.srv.Notify("a1", "not a message"); err == nil {
		t.Fatal("Notify took a string")
	}
}

// TestPageRateLimited: a page that floods its socket (a script, not hands) has the messages beyond
// the limit answered "rate_limited" and not run, each with its id; the socket stays open, and once
// the flood stops the page is served again.
func TestPageRateLimited(t *testing.T) {
	_, hs := signalingRig(t)
	c, _ := login(t, hs.URL, "a1", "secret-a")
	a := dial(t, hs.URL, c)
	const flood = 200
	start := time.Now()
	for i := range flood {
		a.send(fmt.Sprintf(`{"type":"ping","id":"%d"}`, i))
	}
	served, limited := 0, 0
	for range flood {
		m := a.next()
		switch {
		case m["type"] == softphone.MsgPong:
			served++
		case m["type"] == softphone.MsgError && m["code"] == "rate_limited" && m["id"] != nil:
			limited++
		default:
			t.Fatalf("reply %v, want pong or rate_limited", m)
		}
	}
	// The burst is served, and no more than the tokens that came while the flood was sent and
	// answered.
	elapsed := time.Since(start)
	if most := 40 + int(10*elapsed.Seconds()) + 1; limited == 0 || served < 40 || served > most {
		t.Fatalf("%d served, %d limited of %d in %v: want the burst of 40 served, at most %d, the rest limited", served, limited, flood, elapsed, most)
	}
	waitfor.True(t, "the page served again after the flood", 5*time.Second, func() bool {
		a.send(`{"type":"ping","id":"again"}`)
		return a.next()["type"] == softphone.MsgPong
	})
}
