package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/pgtest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/media"
	"github.com/hotline-cc/hotline/prompts"
)

// supervisorClient is the supervisor page without a browser: its session cookie and the API.
type supervisorClient struct {
	t      *testing.T
	base   string
	cookie *http.Cookie
}

// loginSupervisor logs id in on the supervisor page.
func loginSupervisor(t *testing.T, base, id, password string) *supervisorClient {
	t.Helper()
	resp := postLogin(t, base+"/supervisor/api/login", "application/json", `{"account":"`+id+`","password":"`+password+`"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("log %s in on the supervisor page: %s", id, resp.Status)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "hotline_supervisor" {
			return &supervisorClient{t: t, base: base, cookie: c}
		}
	}
	t.Fatalf("log %s in: no cookie", id)
	return nil
}

// postLogin posts a login as a page does: a 503 (the server busy: bcrypt on a loaded machine) is
// tried again after its Retry-After, for up to 30 s. The body is closed.
func postLogin(t testing.TB, url, contentType, body string) *http.Response {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Post(url, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return resp
		}
		time.Sleep(time.Second) // the Retry-After the server asked for, not synchronisation
	}
}

var boards sync.Map // base URL → *supervisorClient, the administrator the tests read the view as

// board is admin1's session on the hotline at base, made once per base.
func board(t *testing.T, base string) *supervisorClient {
	t.Helper()
	if b, ok := boards.Load(base); ok {
		c := *b.(*supervisorClient)
		c.t = t
		return &c
	}
	b := loginSupervisor(t, base, "admin1", "hotline-demo")
	boards.Store(base, b)
	return b
}

// get reads path with the session and returns the response (the caller closes it).
func (s *supervisorClient) get(path string) *http.Response {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.AddCookie(s.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// post runs an action and returns its status and body.
func (s *supervisorClient) post(action, body string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.base+"/supervisor/api/"+action, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(s.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSupervisorStepsIn: a supervisor (sup1, logged in on the agent page for a monitoring softphone
// of their own) listens to p001's call from the dashboard and hears both sides; then barges in and
// the caller hears them; then leaves. Audio is real WebRTC to pion clients playing the browsers, checked by tone.
// Simulator only: it checks by tone what the caller hears.
func TestSupervisorStepsIn(t *testing.T) {
	const callerTone, agentTone, supervisorTone = 440, 1000, 1500
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	srv := startHotline(t, tg)
	base := "http://" + srv.WebAddr().String()

	agent := connectAgent(t, base, "p001", "hotline-demo")
	agentPhone := agent.startAudio(agentTone)
	agent.setState("available")
	sup := connectAgent(t, base, "sup1", "hotline-demo") // a monitoring softphone: no calls come
	supPhone := sup.startAudio(supervisorTone)
	board := loginSupervisor(t, base, "sup1", "hotline-demo")

	caller := dial(t, tg, "79160000009", "Caller")
	agent.waitRinging(caller.ChannelID, 30*time.Second)
	agent.request("call.answer", map[string]any{"call": caller.ChannelID})
	waitfor.True(t, "the caller at the agent", 15*time.Second, func() bool { return has(agentPhone.Heard(500*time.Millisecond), callerTone) })

	act := func(action string) {
		t.Helper()
		if code, body := board.post(action, `{"call":"`+caller.ChannelID+`"}`); code/100 != 2 {
			t.Fatalf("%s: %d %s", action, code, body)
		}
	}
	act("listen")
	waitfor.True(t, "the supervisor hearing caller and agent", 15*time.Second, func() bool {
		heard := supPhone.Heard(500 * time.Millisecond)
		return has(heard, callerTone) && has(heard, agentTone)
	})
	if has(caller.Sim.Heard(500*time.Millisecond), supervisorTone) {
		t.Fatal("the caller hears a supervisor who only listens")
	}
	act("barge")
	waitfor.True(t, "the caller hearing the supervisor", 15*time.Second, func() bool {
		return has(caller.Sim.Heard(500*time.Millisecond), supervisorTone)
	})
	act("leave")
	waitfor.True(t, "the supervisor gone from the call", 15*time.Second, func() bool {
		heard := caller.Sim.Heard(500 * time.Millisecond)
		return !has(heard, supervisorTone) && has(heard, agentTone)
	})
}

// has says whether freq stands out in pcm, even mixed with other tones.
func has(pcm []int16, freq float64) bool {
	return len(pcm) > 0 && media.Power(pcm, freq, media.SampleRate) > 100*media.Power(pcm, 2750, media.SampleRate)+1
}

// TestSupervisorWithoutSoftphone: listening needs the supervisor's softphone open; the dashboard
// says so instead of sending the call's audio nowhere.
func TestSupervisorWithoutSoftphone(t *testing.T) {
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	srv := startHotline(t, tg)
	base := "http://" + srv.WebAddr().String()
	board := loginSupervisor(t, base, "sup1", "hotline-demo")
	if code, body := board.post("listen", `{"call":"x"}`); code != http.StatusConflict || !strings.Contains(body, "softphone") {
		t.Fatalf("listen without a softphone: %d %s, want 409 with the reason", code, body)
	}
}

// TestMonitorOnlyIntoOwnSoftphone (issue 10, finding 2): monitoring "as" an agent is impossible: a
// body naming another account is refused and nothing reaches that agent's softphone; the call's audio
// goes only into the supervisor's own softphone, which takes one call at a time (409 while it
// carries another monitor).
func TestMonitorOnlyIntoOwnSoftphone(t *testing.T) {
	const callerTone, agentTone, supervisorTone = 440, 1000, 1500
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	srv := startHotline(t, tg)
	base := "http://" + srv.WebAddr().String()

	a1 := connectAgent(t, base, "p001", "hotline-demo")
	a1.startAudio(agentTone)
	a1.setState("available")
	b1 := connectAgent(t, base, "p002", "hotline-demo")
	b1Phone := b1.startAudio(agentTone)
	sup := connectAgent(t, base, "sup1", "hotline-demo")
	supPhone := sup.startAudio(supervisorTone)
	board := loginSupervisor(t, base, "sup1", "hotline-demo")

	callA := dial(t, tg, "79160000011", "Caller A")
	a1.waitRinging(callA.ChannelID, 30*time.Second)
	a1.request("call.answer", map[string]any{"call": callA.ChannelID})
	b1.setState("available")
	callB := dial(t, tg, "79160000012", "Caller B")
	b1.waitRinging(callB.ChannelID, 30*time.Second)
	b1.request("call.answer", map[string]any{"call": callB.ChannelID})
	waitfor.True(t, "p002 hearing its caller", 15*time.Second, func() bool { return has(b1Phone.Heard(500*time.Millisecond), callerTone) })

	// "As p002": refused as an unknown field; p002 keeps hearing its own caller only.
	if code, body := board.post("listen", `{"call":"`+callA.ChannelID+`","supervisor":"p002"}`); code != http.StatusBadRequest {
		t.Fatalf("listen naming another account: %d %s, want 400", code, body)
	}

	if code, body := board.post("listen", `{"call":"`+callA.ChannelID+`"}`); code != http.StatusOK {
		t.Fatalf("listen: %d %s", code, body)
	}
	waitfor.True(t, "the supervisor hearing call A", 15*time.Second, func() bool { return has(supPhone.Heard(500*time.Millisecond), callerTone) })
	if code, body := board.post("listen", `{"call":"`+callB.ChannelID+`"}`); code != http.StatusConflict || !strings.Contains(body, "busy") {
		t.Fatalf("a second monitor while the softphone carries one: %d %s, want 409", code, body)
	}
	if code, body := board.post("barge", `{"call":"`+callA.ChannelID+`"}`); code != http.StatusOK {
		t.Fatalf("listen → barge on the same call: %d %s", code, body)
	}
	if code, body := board.post("leave", `{"call":"`+callA.ChannelID+`"}`); code != http.StatusOK {
		t.Fatalf("leave: %d %s", code, body)
	}
	waitfor.True(t, "the monitor leg gone", 15*time.Second, func() bool {
		code, _ := board.post("listen", `{"call":"`+callB.ChannelID+`"}`)
		return code == http.StatusOK
	})
	if h := b1Phone.Heard(500 * time.Millisecond); !has(h, callerTone) || has(h, supervisorTone) {
		t.Error("p002's audio changed while a supervisor listened to its call")
	}
}

// TestForcedLogoutRevokesSessions (issue 10, finding 4): a supervisor forces an agent offline: the
// agent's page socket is closed, its cookie no longer works, and the agent stays offline.
func TestForcedLogoutRevokesSessions(t *testing.T) {
	tg := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations()})
	srv := startHotline(t, tg)
	base := "http://" + srv.WebAddr().String()

	agent := connectAgent(t, base, "p001", "hotline-demo")
	agent.setState("available")
	board := loginSupervisor(t, base, "sup1", "hotline-demo")
	if code, body := board.post("agent-state", `{"agent":"p001","state":"offline","reason":"end of shift"}`); code != http.StatusOK {
		t.Fatalf("force offline: %d %s", code, body)
	}
	agent.waitClosed(10 * time.Second)

	req, _ := http.NewRequest("GET", base+"/agent/me", nil)
	req.AddCookie(agent.Cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/agent/me with the old cookie: %s, want 401", resp.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := http.Header{}
	hdr.Set("Cookie", agent.Cookie.String())
	if _, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/agent/ws", &websocket.DialOptions{HTTPHeader: hdr}); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the page reconnecting with the old cookie: %v, want 401", err)
	}
	req, _ = http.NewRequest("GET", base+"/supervisor/api/view", nil)
	req.AddCookie(board.cookie)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var view struct {
		View struct {
			Agents []struct{ ID, State string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&view); err != nil {
		t.Fatal(err)
	}
	for _, a := range view.View.Agents {
		if a.ID == "p001" && a.State != "offline" {
			t.Errorf("p001 is %s after the forced logout, want offline", a.State)
		}
	}
}

// TestRefusedOnBoard: a node full at HOTLINE_MAX_CALLS turns a carrier caller away before the
// controller sees them, and the supervisors' board counts that caller in the day's "refused" figure,
// as do the reports (PostgreSQL), while the caller the node carries stays. On the simulator and on
// a real Asterisk.
func TestRefusedOnBoard(t *testing.T) {
	aritest.Run(t, asterisksim.Config{TimeScale: 1}, func(t *testing.T, tg *aritest.Target) {
		ctx := t.Context()
		// A real Asterisk keeps its count from the tests before; this test's board starts from 0.
		tg.SetGlobal(t, "HOTLINE_REFUSED", "0")
		pg := pgtest.Start(t)
		srv := startHotline(t, tg, func(c *config.Config) { c.Records.Postgres = pg.URL })
		base := "http://" + srv.WebAddr().String()
		tg.NodeCeiling(t, 1)

		carrier := func(number string) aritest.PlacedCall {
			t.Helper()
			p, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: number, Name: "Carrier " + number, Context: "caller-long", Entry: "from-carrier"})
			if err != nil {
				t.Fatal(err)
			}
			hangUpAtEnd(t, tg, p.ChannelID)
			return p
		}
		carried := carrier("79160000071")
		waitfor.True(t, "the first caller at the controller", 20*time.Second, func() bool { return stasisApp(t, tg, carried.ChannelID) })
		if n := supervisorView(t, base).Totals.Refused; n != 0 {
			t.Fatalf("the board counts %d refused before any refusal", n)
		}

		turned := carrier("79160000072")
		waitfor.True(t, "the board's refused figure at 1", 20*time.Second, func() bool { return supervisorView(t, base).Totals.Refused == 1 })
		if ch := channelJSON(t, tg, turned.ChannelID); ch != nil {
			t.Errorf("the refused caller's channel is still there: %v", ch)
		}
		if !stasisApp(t, tg, carried.ChannelID) {
			t.Error("the caller the node carries was dropped")
		}
		// The reports' center rows count the refusal in its hour; no queue's row has it.
		sup := board(t, base)
		refused := func(by string) int {
			now := time.Now().UTC()
			q := url.Values{"from": {now.Add(-time.Hour).Format(time.RFC3339)}, "to": {now.Add(time.Hour).Format(time.RFC3339)}, "interval": {"1h"}, "by": {by}}
			resp := sup.get("/supervisor/api/reports?" + q.Encode())
			defer resp.Body.Close()
			var answer struct{ Rows []struct{ Refused int } }
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("reports: %d (%v)", resp.StatusCode, err)
			}
			n := 0
			for _, r := range answer.Rows {
				n += r.Refused
			}
			return n
		}
		waitfor.True(t, "the reports counting the refused caller", 30*time.Second, func() bool { return refused("") == 1 })
		if n := refused("queue"); n != 0 {
			t.Errorf("the queues' rows count %d refused", n)
		}
	})
}
