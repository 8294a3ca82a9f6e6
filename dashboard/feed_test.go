package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/account"
)

// feedClient is one supervisor's WebSocket.
type feedClient struct {
	t testing.TB
	c *websocket.Conn
}

var (
	feedCookiesMu sync.Mutex
	feedCookies   = map[*httptest.Server]*http.Cookie{}
)

// feedCookie is sup1's session on srv: one per server, so fifty feeds do not pass the per-account
// session bound.
func feedCookie(t testing.TB, srv *httptest.Server) *http.Cookie {
	t.Helper()
	feedCookiesMu.Lock()
	defer feedCookiesMu.Unlock()
	if c := feedCookies[srv]; c != nil {
		return c
	}
	c := loginCookie(t, srv.Config.Handler, "sup1", "secret-s")
	feedCookies[srv] = c
	t.Cleanup(func() { feedCookiesMu.Lock(); delete(feedCookies, srv); feedCookiesMu.Unlock() })
	return c
}

func dialFeed(t testing.TB, ctx context.Context, srv *httptest.Server) *feedClient {
	t.Helper()
	hdr := http.Header{}
	hdr.Set("Cookie", feedCookie(t, srv).String())
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/supervisor/ws", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &feedClient{t: t, c: c}
}

type feedMessage struct {
	Type  string    `json:"type"`
	Now   time.Time `json:"now"`
	View  *View     `json:"view"`
	Error string    `json:"error"`
}

// next reads one message; ctx bounds the wait, so a missing message fails instead of hanging.
func (f *feedClient) next(ctx context.Context) feedMessage {
	f.t.Helper()
	_, b, err := f.c.Read(ctx)
	if err != nil {
		f.t.Fatalf("read: %v", err)
	}
	var m feedMessage
	if err := json.Unmarshal(b, &m); err != nil {
		f.t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tick moves the poller once. The channel is unbuffered, so when two ticks have been taken the
// poll of the first has finished, sends included.
func tick(ctx context.Context, t *testing.T, ticks chan<- time.Time) {
	t.Helper()
	select {
	case ticks <- time.Now():
	case <-ctx.Done():
		t.Fatal("poller did not take the tick")
	}
}

func TestFeedSendsOnlyChanges(t *testing.T) {
	ctx := testContext(t)
	s, src, _, ticks := newTestServer(t, Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()

	cl := dialFeed(t, ctx, srv)
	m := cl.next(ctx) // the first subscriber asks for a poll at once, without waiting a tick
	if m.Type != "view" || len(m.View.Queues) != 2 || m.View.Totals.Waiting != 2 || m.Now.IsZero() {
		t.Fatalf("first message %+v", m)
	}

	// Unchanged: two ticks, so the first poll has finished before we change anything.
	tick(ctx, t, ticks)
	tick(ctx, t, ticks)

	src.set(func(v *View) {
		v.Queues[1].Calls = []WaitingCall{{ID: "c9", Caller: "+7000", Since: base}}
	})
	tick(ctx, t, ticks)
	m = cl.next(ctx)
	if m.Type != "view" || m.View.Queues[1].Waiting != 1 || m.View.Totals.Waiting != 3 {
		t.Fatalf("after the change: %+v; want the changed view as the next message", m.View.Totals)
	}
	// A tick returns once the poller has taken it, not once its poll is done, and the first
	// subscriber's wake can be taken between two ticks: the change may be seen by the poll of the
	// second unchanged tick or of the next one. What matters is that the polls in between, which
	// saw nothing new, sent nothing (the next message above is the changed view).
	if n := src.snapshots(); n < 3 || n > 4 {
		t.Errorf("%d snapshots, want 3 or 4 (first, one or two unchanged, changed)", n)
	}
}

func TestHubNoSendWhenUnchanged(t *testing.T) {
	ctx := testContext(t)
	src := &fakeSource{v: sampleView()}
	ticks := make(chan time.Time)
	h := newHub(src, time.Hour, time.Second, discard(), ticks)
	defer h.close(ctx)

	sub, ok := h.subscribe()
	if !ok {
		t.Fatal("subscribe refused")
	}
	select {
	case <-sub.ch:
	case <-ctx.Done():
		t.Fatal("no first view")
	}
	tick(ctx, t, ticks)
	tick(ctx, t, ticks) // the first tick's poll is over
	if n := len(sub.ch); n != 0 {
		t.Errorf("%d messages after unchanged polls, want 0", n)
	}
}

func TestFeedOnePollManySubscribers(t *testing.T) {
	ctx := testContext(t)
	s, src, _, ticks := newTestServer(t, Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()

	const n = 50
	clients := []*feedClient{dialFeed(t, ctx, srv)}
	clients[0].next(ctx)
	for range n - 1 {
		cl := dialFeed(t, ctx, srv)
		if m := cl.next(ctx); m.Type != "view" { // served from the cached view
			t.Fatalf("late subscriber got %+v", m)
		}
		clients = append(clients, cl)
	}
	if got := src.snapshots(); got != 1 {
		t.Errorf("%d snapshots for %d subscribers, want 1", got, n)
	}

	src.set(func(v *View) { v.Agents[0].State = StateRinging })
	tick(ctx, t, ticks)
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Go(func() {
			_, b, err := cl.c.Read(ctx)
			if err != nil || !strings.Contains(string(b), `"state":"ringing"`) {
				t.Errorf("subscriber: %v %.80s", err, b)
			}
		})
	}
	wg.Wait()
	if got := src.snapshots(); got != 2 {
		t.Errorf("%d snapshots after one change, want 2: one poll serves everyone", got)
	}
}

func TestFeedNoPollWithoutSubscribers(t *testing.T) {
	ctx := testContext(t)
	_, src, _, ticks := newTestServer(t, Config{})
	tick(ctx, t, ticks)
	tick(ctx, t, ticks)
	if n := src.snapshots(); n != 0 {
		t.Errorf("%d snapshots with nobody watching, want 0", n)
	}
}

func TestFeedStale(t *testing.T) {
	ctx := testContext(t)
	s, src, _, ticks := newTestServer(t, Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	cl := dialFeed(t, ctx, srv)
	cl.next(ctx)

	src.fail(errors.New("redis down"))
	tick(ctx, t, ticks)
	if m := cl.next(ctx); m.Type != "stale" || strings.Contains(m.Error, "redis") {
		t.Fatalf("got %+v, want a stale message without internals", m)
	}
	tick(ctx, t, ticks) // still down: no second stale message (checked by the next read)

	src.fail(nil)
	tick(ctx, t, ticks)
	// The view is the same as before the outage, but the page shows stale data: send it.
	if m := cl.next(ctx); m.Type != "view" {
		t.Fatalf("after recovery: %+v, want the view", m)
	}
}

func TestCloseEndsFeed(t *testing.T) {
	ctx := testContext(t)
	src := &fakeSource{v: sampleView()}
	s := NewServer(src, newFakeActions(), Config{Interval: time.Hour, Accounts: testAccounts(t, account.Config{}, nil)}, nil)
	srv := httptest.NewServer(s)
	defer srv.Close()
	cl := dialFeed(t, ctx, srv)
	cl.next(ctx)

	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, _, err := cl.c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Errorf("read after Close: %v, want going away", err)
	}
	if _, ok := s.hub.subscribe(); ok {
		t.Error("subscribe after Close succeeded")
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestFeedRejectsOtherOrigin(t *testing.T) {
	ctx := testContext(t)
	s, _, _, _ := newTestServer(t, Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/supervisor/ws", &websocket.DialOptions{
		HTTPHeader: map[string][]string{"Origin": {"https://evil.example"}, "Cookie": {feedCookie(t, srv).String()}},
	})
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("cross-origin upgrade: %v %v, want 403", err, resp)
	}
}

// panickySource panics on its first snapshot (a bug of ours met on some state), then serves src.
type panickySource struct {
	*fakeSource
	once sync.Once
}

func (p *panickySource) Snapshot(ctx context.Context) (View, error) {
	p.once.Do(func() { panic("a bug in the snapshot") })
	return p.fakeSource.Snapshot(ctx)
}

// TestHubPollPanics: a poll that panics does not end the process: the poller starts again and the
// next tick's view reaches the board.
func TestHubPollPanics(t *testing.T) {
	ctx := testContext(t)
	ticks := make(chan time.Time)
	h := newHub(&panickySource{fakeSource: &fakeSource{v: sampleView()}}, time.Hour, time.Second, discard(), ticks)
	defer h.close(ctx)
	sub, ok := h.subscribe() // wakes the poller: its poll panics
	if !ok {
		t.Fatal("subscribe refused")
	}
	tick(ctx, t, ticks) // taken once the poller has started again
	select {
	case <-sub.ch:
	case <-ctx.Done():
		t.Fatal("no view after the poll that panicked")
	}
}
