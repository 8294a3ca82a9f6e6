package softphone_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/internal/accounttest"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/softphone"
)

// pageServer serves the agent page with its own fake desk over the given account service.
func pageServer(t *testing.T, accounts *account.Service) (*fakeDesk, *httptest.Server) {
	t.Helper()
	desk := newFakeDesk(t, nil)
	srv := softphone.NewServer(nil, desk, softphone.ServerConfig{Accounts: accounts, StatsInterval: -1},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	desk.srv = srv
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return desk, hs
}

// waitClosed waits for the server to close the page's socket.
func (w *wsClient) waitClosed() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := w.ws.Read(ctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				w.t.Fatal("the page's socket is still open")
			}
			return
		}
	}
}

func status(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLoginThrottledHTTP: wrong passwords lock the account: the right one is then answered 429 with
// a Retry-After, and no profile is made.
func TestLoginThrottledHTTP(t *testing.T) {
	desk, hs := pageServer(t, testAccounts(t, account.Config{Limits: account.Limits{MaxFailures: 3, Lockout: time.Minute}}))
	for range 3 {
		if _, resp := login(t, hs.URL, "a1", "guess"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", resp.StatusCode)
		}
	}
	_, resp := login(t, hs.URL, "a1", "secret-a")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("right password while locked: %d Retry-After %q, want 429 and 60", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	select {
	case e := <-desk.events:
		t.Fatalf("the desk was asked %+v for a throttled login", e)
	default:
	}
}

// TestSupervisorSoftphoneMonitorsOnly: a supervisor logs in on the agent page and gets a softphone
// that takes no calls and has no state: it never becomes an ACD agent.
func TestSupervisorSoftphoneMonitorsOnly(t *testing.T) {
	desk, hs := pageServer(t, testAccounts(t, account.Config{}))
	c, resp := login(t, hs.URL, "sup1", "secret-s")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("supervisor login: %d", resp.StatusCode)
	}
	w := dial(t, hs.URL, c)
	for _, raw := range []string{
		`{"type":"state.set","id":"1","state":"available"}`,
		`{"type":"call.answer","id":"2","call":"c1"}`,
		`{"type":"calls.today.get","id":"3"}`,
	} {
		w.send(raw)
		if m := w.next(); m["type"] != softphone.MsgError || m["code"] != "invalid_state" || !strings.Contains(m["message"].(string), "only monitors") {
			t.Errorf("%s: %v, want invalid_state", raw, m)
		}
	}
	w.send(`{"type":"ping","id":"p"}`)
	if m := w.next(); m["type"] != softphone.MsgPong {
		t.Errorf("ping: %v", m)
	}
	for {
		select {
		case e := <-desk.events:
			if e.Op != "profile" {
				t.Fatalf("the desk was asked %+v for a supervisor's softphone", e)
			}
			continue
		default:
		}
		break
	}
}

// TestRevokedSessionClosesPage: revoking an account's sessions (a supervisor's forced logout) closes
// its page, its cookie stops working, and a request on a socket whose session was revoked elsewhere
// (the message not here yet) is refused before it reaches the desk.
func TestRevokedSessionClosesPage(t *testing.T) {
	rs := redistest.Start(t)
	accounts := accounttest.New(t, rs.Client(t), account.Config{}, nil, testUsers...)
	desk, hs := pageServer(t, accounts)

	c, _ := login(t, hs.URL, "a1", "secret-a")
	w := dial(t, hs.URL, c)
	if err := accounts.RevokeAccount(context.Background(), "a1", "forced logout"); err != nil {
		t.Fatal(err)
	}
	w.waitClosed()
	if got := status(t, c, hs.URL+"/agent/me"); got != http.StatusUnauthorized {
		t.Errorf("/agent/me after the revocation: %d, want 401", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/agent/ws", &websocket.DialOptions{HTTPClient: c}); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("socket after the revocation: %v, want 401", err)
	}

	// Revoked in Redis by another instance, its message not delivered here: the next request fails.
	c2, _ := login(t, hs.URL, "b1", "secret-b")
	w2 := dial(t, hs.URL, c2)
	for len(desk.events) > 0 {
		<-desk.events
	}
	if err := rs.Client(t).FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	w2.send(`{"type":"state.set","id":"s","state":"available"}`)
	// The page is closed; an "unauthorized" reply may or may not make it out first.
	for {
		_, b, err := w2.ws.Read(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("the page's socket is still open")
			}
			break
		}
		if !strings.Contains(string(b), `"unauthorized"`) && !strings.Contains(string(b), `"stats"`) {
			t.Errorf("state.set on a revoked session: %s, want unauthorized", b)
		}
	}
	select {
	case e := <-desk.events:
		t.Errorf("the desk was asked %+v on a revoked session", e)
	default:
	}
}

// TestSessionsAcrossInstances: two web instances over one Redis: a login on one works on the other
// (no sticky sessions), and a revocation on one closes the page held by the other.
func TestSessionsAcrossInstances(t *testing.T) {
	rs := redistest.Start(t)
	accA := accounttest.New(t, rs.Client(t), account.Config{}, nil, testUsers...)
	accB := accounttest.New(t, rs.Client(t), account.Config{}, nil, testUsers...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go accB.Run(ctx)
	select {
	case <-accB.Subscribed():
	case <-time.After(10 * time.Second):
		t.Fatal("instance B never subscribed to revocations")
	}
	_, hsA := pageServer(t, accA)
	_, hsB := pageServer(t, accB)

	c, resp := login(t, hsA.URL, "a1", "secret-a")
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status)
	}
	// The cookie, as a load balancer would send it to the other instance.
	jar, _ := cookiejar.New(nil)
	ua, _ := url.Parse(hsA.URL + "/agent/")
	ub, _ := url.Parse(hsB.URL + "/agent/")
	jar.SetCookies(ub, c.Jar.Cookies(ua))
	if len(c.Jar.Cookies(ua)) != 1 {
		t.Fatalf("cookies %v", c.Jar.Cookies(ua))
	}
	cb := &http.Client{Jar: jar}
	if got := status(t, cb, hsB.URL+"/agent/me"); got != http.StatusOK {
		t.Fatalf("/agent/me on instance B with A's session: %d", got)
	}
	w := dial(t, hsB.URL, cb)
	if err := accA.RevokeAccount(ctx, "a1", "forced logout"); err != nil {
		t.Fatal(err)
	}
	w.waitClosed()
}

// TestRevocationNotHeldByPresence: a revocation's listener must not block (account.OnRevoke), yet
// the page it closes reports its close to OnPages, which writes presence to Redis. With that write
// stuck (Redis away), the next account's revocation still closes its page at once.
func TestRevocationNotHeldByPresence(t *testing.T) {
	rs := redistest.Start(t)
	accounts := accounttest.New(t, rs.Client(t), account.Config{}, nil, testUsers...)
	stuck := make(chan struct{})
	defer close(stuck)
	desk := newFakeDesk(t, nil)
	srv := softphone.NewServer(nil, desk, softphone.ServerConfig{Accounts: accounts, StatsInterval: -1,
		OnPages: func(account string, open bool) {
			if !open && account == "a1" {
				<-stuck
			}
		}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	desk.srv = srv
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })

	ca, _ := login(t, hs.URL, "a1", "secret-a")
	cb, _ := login(t, hs.URL, "b1", "secret-b")
	wa, wb := dial(t, hs.URL, ca), dial(t, hs.URL, cb)
	revoked := make(chan error, 2)
	for _, id := range []string{"a1", "b1"} {
		// In turn: b1's revocation comes after a1's close is stuck in OnPages.
		go func() { revoked <- accounts.RevokeAccount(context.Background(), id, "forced logout") }()
		select {
		case err := <-revoked:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("revoking %s waited for the presence write", id)
		}
	}
	wa.waitClosed()
	wb.waitClosed()
}
