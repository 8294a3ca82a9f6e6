package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/internal/accounttest"
	"github.com/hotline-cc/hotline/internal/redistest"
)

// Test accounts: a supervisor, an administrator and an agent.
var testUsers = []accounttest.User{
	{ID: "sup1", Name: "Supervisor", Password: "secret-s", Role: account.RoleSupervisor},
	{ID: "admin1", Name: "Admin", Password: "secret-x", Role: account.RoleAdministrator},
	{ID: "a1", Name: "Agent", Password: "secret-a", Role: account.RoleAgent},
}

// testAccounts is an account service over a fresh real Redis; rec may be nil.
func testAccounts(tb testing.TB, cfg account.Config, rec audit.Recorder) *account.Service {
	tb.Helper()
	return accounttest.New(tb, redistest.Start(tb).Client(tb), cfg, rec, testUsers...)
}

// newTestServer returns a Server whose poller moves only when the test sends on ticks. Without
// cfg.Accounts it gets a fresh account service.
func newTestServer(t *testing.T, cfg Config) (*Server, *fakeSource, *fakeActions, chan time.Time) {
	t.Helper()
	if cfg.Accounts == nil {
		cfg.Accounts = testAccounts(t, account.Config{}, nil)
	}
	src := &fakeSource{v: sampleView()}
	act := newFakeActions()
	ticks := make(chan time.Time)
	s := newServer(src, act, cfg, nil, ticks)
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, src, act, ticks
}

// loginCookie logs id in on the supervisor page of h and returns the session cookie.
func loginCookie(t testing.TB, h http.Handler, id, password string) *http.Cookie {
	t.Helper()
	w := do(t, h, "POST", "/supervisor/api/login", js, `{"account":"`+id+`","password":"`+password+`"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("log %s in: %d %s", id, w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	t.Fatalf("log %s in: no cookie", id)
	return nil
}

func do(t testing.TB, h http.Handler, method, path, contentType, body string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for _, c := range cookies {
		if c != nil {
			r.AddCookie(c)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

const js = "application/json"

func TestEndpoints(t *testing.T) {
	s, _, act, _ := newTestServer(t, Config{})
	sup := loginCookie(t, s, "sup1", "secret-s")
	admin := loginCookie(t, s, "admin1", "secret-x")
	tests := []struct {
		name       string
		method     string
		path       string
		ctype      string
		body       string
		wantStatus int
		wantBody   string // a substring of the response body
		wantAction string // what the fake Actions should have been asked last
		as         *http.Cookie
	}{
		{"page", "GET", "/supervisor/", "", "", 200, `<script src="main.js" type="module"`, "", nil},
		{"script", "GET", "/supervisor/util.js", "", "", 200, "reconcile", "", nil},
		{"style", "GET", "/supervisor/style.css", "", "", 200, ".ag", "", nil},
		{"view", "GET", "/supervisor/api/view", "", "", 200, `"waiting":2`, "", sup},
		{"session", "GET", "/supervisor/api/session", "", "", 200, `"account":"sup1"`, "", sup},
		{"session without a cookie", "GET", "/supervisor/api/session", "", "", 200, `"authenticated":false`, "", nil},
		{"unknown GET", "GET", "/supervisor/api/nope", "", "", 404, `"error":"no such endpoint"`, "", sup},
		{"GET an action", "GET", "/supervisor/api/listen", "", "", 404, `"error"`, "", sup},
		{"PUT an action", "PUT", "/supervisor/api/listen", js, `{}`, 405, "", "", sup},

		{"view without a session", "GET", "/supervisor/api/view", "", "", 401, "login required", "", nil},
		{"listen without a session", "POST", "/supervisor/api/listen", js, `{"call":"c1"}`, 401, "login required", "", nil},
		{"listen", "POST", "/supervisor/api/listen", js, `{"call":"c1"}`, 200, `"ok":true`, "listen sup1 c1", sup},
		{"whisper", "POST", "/supervisor/api/whisper", js, `{"call":"c2"}`, 200, `"ok":true`, "whisper sup1 c2", sup},
		{"barge", "POST", "/supervisor/api/barge", js, `{"call":"c3"}`, 200, `"ok":true`, "barge admin1 c3", admin},
		// Nobody acts as someone else: a body naming a supervisor is refused, not obeyed.
		{"listen as another supervisor", "POST", "/supervisor/api/listen", js, `{"supervisor":"boss","call":"c1"}`, 400, `unknown field \"supervisor\"`, "", sup},
		{"listen without call", "POST", "/supervisor/api/listen", js, `{}`, 400, "call: required", "", sup},
		{"move", "POST", "/supervisor/api/move", js, `{"call":"c1","queue":"claims"}`, 200, `"ok":true`, "move c1 claims", sup},
		{"move without queue", "POST", "/supervisor/api/move", js, `{"call":"c1"}`, 400, "queue: required", "", sup},
		{"force pause", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"paused","reason":"meeting"}`, 200, `"ok":true`, "state a1 paused meeting", sup},
		{"force logout", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"offline"}`, 200, `"ok":true`, "state a1 offline ", sup},
		{"force on call", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"on_call"}`, 400, "want paused, offline or available", "", sup},
		{"announcement by a supervisor", "POST", "/supervisor/api/announcement", js, `{"kind":"holiday"}`, 403, "administrators only", "", sup},
		{"announcement", "POST", "/supervisor/api/announcement", js, `{"kind":"holiday"}`, 200, `"ok":true`, "announce holiday", admin},
		{"bad announcement", "POST", "/supervisor/api/announcement", js, `{"kind":"party"}`, 400, "want holiday, outage or none", "", admin},

		{"unknown action", "POST", "/supervisor/api/hangup", js, `{"call":"c1"}`, 404, `unknown action \"hangup\"`, "", sup},
		{"nested unknown", "POST", "/supervisor/api/a/b", js, `{}`, 404, "no such endpoint", "", sup},
		{"bad JSON", "POST", "/supervisor/api/listen", js, `{"call":`, 400, "bad JSON", "", sup},
		{"not an object", "POST", "/supervisor/api/listen", js, `["c1"]`, 400, "bad JSON", "", sup},
		{"unknown field", "POST", "/supervisor/api/listen", js, `{"call":"c1","force":true}`, 400, `unknown field \"force\"`, "", sup},
		{"trailing data", "POST", "/supervisor/api/listen", js, `{"call":"c1"}{}`, 400, "data after the object", "", sup},
		{"empty body", "POST", "/supervisor/api/listen", js, ``, 400, "bad JSON", "", sup},
		{"form post", "POST", "/supervisor/api/listen", "application/x-www-form-urlencoded", `call=c1`, 415, "application/json", "", sup},
		{"too big", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"paused","reason":"` + strings.Repeat("x", maxBody) + `"}`, 413, "too large", "", sup},
		{"long reason", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"paused","reason":"` + strings.Repeat("x", 201) + `"}`, 400, "longer than 200", "", sup},

		{"not found", "POST", "/supervisor/api/listen", js, `{"call":"missing"}`, 404, `"error":"call missing: not found"`, "listen sup1 missing", sup},
		{"not allowed", "POST", "/supervisor/api/move", js, `{"call":"busy","queue":"claims"}`, 409, "not allowed", "move busy claims", sup},
		{"agent not found", "POST", "/supervisor/api/agent-state", js, `{"agent":"missing","state":"paused"}`, 404, "not found", "state missing paused ", sup},
		{"internal error hidden", "POST", "/supervisor/api/barge", js, `{"call":"boom"}`, 500, `"error":"internal error"`, "barge sup1 boom", sup},
		{"timeout", "POST", "/supervisor/api/barge", js, `{"call":"slow"}`, 504, "did not answer in time", "barge sup1 slow", sup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := act.last()
			w := do(t, s, tt.method, tt.path, tt.ctype, tt.body, tt.as)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Errorf("body %s, want it to contain %s", w.Body, tt.wantBody)
			}
			if strings.HasPrefix(tt.path, "/supervisor/api/") && tt.wantStatus != 405 {
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type %q, want JSON", ct)
				}
			}
			got := act.last()
			if tt.wantAction == "" && got != before {
				t.Errorf("Actions called with %q; want no call", got)
			}
			if tt.wantAction != "" && got != tt.wantAction {
				t.Errorf("Actions got %q, want %q", got, tt.wantAction)
			}
		})
	}
}

func TestViewComputesTotals(t *testing.T) {
	s, _, _, _ := newTestServer(t, Config{})
	w := do(t, s, "GET", "/supervisor/api/view", "", "", loginCookie(t, s, "sup1", "secret-s"))
	var got viewResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	v := got.View
	if got.Now.IsZero() {
		t.Error("now missing")
	}
	q := v.Queues[0]
	if q.Waiting != 2 || !q.OldestSince.Equal(base.Add(-90e9)) {
		t.Errorf("queue waiting %d oldest %v", q.Waiting, q.OldestSince)
	}
	if q.ServiceLevel == nil || *q.ServiceLevel != 60 { // 6 in target of 8 answered + 2 abandoned
		t.Errorf("service level %v, want 60", q.ServiceLevel)
	}
	if v.Queues[1].ServiceLevel != nil {
		t.Errorf("quiet queue's service level %v, want null", *v.Queues[1].ServiceLevel)
	}
	if v.Queues[1].Calls == nil {
		t.Error("an empty queue's calls should encode as [], not null")
	}
	tot := v.Totals
	if tot.Waiting != 2 || tot.Offered != 10 || tot.Agents[StateAvailable] != 1 || tot.Agents[StateOnCall] != 1 ||
		tot.Agents[StatePaused] != 1 || tot.Agents[StateOffline] != 0 {
		t.Errorf("totals %+v", tot)
	}
}

func TestViewSourceDown(t *testing.T) {
	s, src, _, _ := newTestServer(t, Config{})
	src.fail(errors.New("redis: connection refused"))
	w := do(t, s, "GET", "/supervisor/api/view", "", "", loginCookie(t, s, "sup1", "secret-s"))
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "redis") {
		t.Errorf("status %d body %s: want 503 without internals", w.Code, w.Body)
	}
}

func TestLogin(t *testing.T) {
	s, _, act, _ := newTestServer(t, Config{})
	for _, path := range []string{"/supervisor/api/view", "/supervisor/ws"} {
		if w := do(t, s, "GET", path, "", ""); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", path, w.Code)
		}
	}
	if w := do(t, s, "GET", "/supervisor/", "", ""); w.Code != http.StatusOK {
		t.Errorf("the page itself must load to show the login form: %d", w.Code)
	}
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"account":"sup1","password":"guess"}`, http.StatusUnauthorized},
		{`{"account":"nobody","password":"secret-s"}`, http.StatusUnauthorized},
		{`{"password":"secret-s"}`, http.StatusBadRequest},
		{`{"supervisor":"sup1","password":"secret-s"}`, http.StatusBadRequest}, // the old shape
		{`{"account":"a1","password":"secret-a"}`, http.StatusForbidden},       // an agent
	} {
		if w := do(t, s, "POST", "/supervisor/api/login", js, tc.body); w.Code != tc.status {
			t.Errorf("login %s: %d, want %d", tc.body, w.Code, tc.status)
		}
	}

	c := loginCookie(t, s, "sup1", "secret-s")
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/supervisor/" || c.Value == "" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/supervisor/", c)
	}
	if w := do(t, s, "GET", "/supervisor/api/session", "", "", c); !strings.Contains(w.Body.String(), `"account":"sup1"`) ||
		!strings.Contains(w.Body.String(), `"canAnnounce":false`) {
		t.Errorf("session: %s", w.Body)
	}
	if w := do(t, s, "POST", "/supervisor/api/listen", js, `{"call":"c1"}`, c); w.Code != http.StatusOK {
		t.Errorf("listen: %d %s", w.Code, w.Body)
	}
	if got := act.last(); got != "listen sup1 c1" {
		t.Errorf("Actions got %q, want the session's supervisor", got)
	}
	if w := do(t, s, "POST", "/supervisor/api/logout", js, `{}`, c); w.Code != http.StatusOK {
		t.Errorf("logout: %d", w.Code)
	}
	if w := do(t, s, "GET", "/supervisor/api/view", "", "", c); w.Code != http.StatusUnauthorized {
		t.Errorf("view after logout: %d, want 401", w.Code)
	}
}

// TestAgentSessionForbidden: an agent's session (made on the agent page) presented to the
// supervisor API is refused with 403 on every route: view, actions, feed.
func TestAgentSessionForbidden(t *testing.T) {
	s, _, act, _ := newTestServer(t, Config{})
	r := httptest.NewRequest("POST", "/agent/login", nil)
	_, token, _, err := s.cfg.Accounts.Login(context.Background(), r, account.PageAgent, "a1", "secret-a")
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Cookie{Name: cookieName, Value: token}
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/supervisor/api/view", ""},
		{"GET", "/supervisor/ws", ""},
		{"POST", "/supervisor/api/listen", `{"call":"c1"}`},
		{"POST", "/supervisor/api/agent-state", `{"agent":"a1","state":"available"}`},
		{"POST", "/supervisor/api/announcement", `{"kind":"outage"}`},
	} {
		if w := do(t, s, tc.method, tc.path, js, tc.body, c); w.Code != http.StatusForbidden {
			t.Errorf("%s %s with an agent's session: %d, want 403", tc.method, tc.path, w.Code)
		}
	}
	if got := act.last(); got != "" {
		t.Errorf("Actions called with %q", got)
	}
	if w := do(t, s, "GET", "/supervisor/api/session", "", "", c); !strings.Contains(w.Body.String(), `"authenticated":false`) {
		t.Errorf("session for an agent: %s", w.Body)
	}
}

// TestLoginThrottled: wrong passwords lock the account: the right one is refused with 429 and a
// Retry-After.
func TestLoginThrottled(t *testing.T) {
	s, _, _, _ := newTestServer(t, Config{Accounts: testAccounts(t, account.Config{Limits: account.Limits{MaxFailures: 3, Lockout: time.Minute}}, nil)})
	for range 3 {
		if w := do(t, s, "POST", "/supervisor/api/login", js, `{"account":"sup1","password":"guess"}`); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", w.Code)
		}
	}
	w := do(t, s, "POST", "/supervisor/api/login", js, `{"account":"sup1","password":"secret-s"}`)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" || len(w.Result().Cookies()) != 0 {
		t.Errorf("right password while locked: %d Retry-After %q cookies %v", w.Code, w.Header().Get("Retry-After"), w.Result().Cookies())
	}
}

// TestActionsAudited: every action, done or refused, is recorded with the authenticated actor, role
// and client address, as are logins; a forged X-Forwarded-For from an untrusted peer is ignored.
func TestActionsAudited(t *testing.T) {
	rec := audit.NewMemory()
	s, _, _, _ := newTestServer(t, Config{Accounts: testAccounts(t, account.Config{}, rec)})
	c := loginCookie(t, s, "sup1", "secret-s")
	for _, tc := range []struct{ path, body string }{
		{"/supervisor/api/listen", `{"call":"c1"}`},
		{"/supervisor/api/whisper", `{"call":"c1"}`},
		{"/supervisor/api/barge", `{"call":"c1"}`},
		{"/supervisor/api/move", `{"call":"c1","queue":"claims"}`},
		{"/supervisor/api/agent-state", `{"agent":"a1","state":"offline","reason":"end of shift"}`},
		{"/supervisor/api/announcement", `{"kind":"outage"}`},
	} {
		r := httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body))
		r.Header.Set("Content-Type", js)
		r.Header.Set("X-Forwarded-For", "6.6.6.6")
		r.AddCookie(c)
		s.ServeHTTP(httptest.NewRecorder(), r)
	}
	var got []string
	for _, e := range rec.Entries() {
		if e.Remote != "192.0.2.1" { // httptest's client address
			t.Errorf("%s audited from %q", e.Action, e.Remote)
		}
		got = append(got, fmt.Sprintf("%s %s/%s %s %s", e.Action, e.Actor, e.Role, e.Target, e.Outcome))
	}
	want := []string{
		"login sup1/supervisor supervisor ok",
		"listen sup1/supervisor c1 ok",
		"whisper sup1/supervisor c1 ok",
		"barge sup1/supervisor c1 ok",
		"move sup1/supervisor c1 ok",
		"agent-state sup1/supervisor a1 ok",
		"announcement sup1/supervisor  refused",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRevokedSessionEndsFeed: revoking a supervisor's sessions ends their live feed and their cookie.
func TestRevokedSessionEndsFeed(t *testing.T) {
	ctx := testContext(t)
	s, _, _, _ := newTestServer(t, Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	cl := dialFeed(t, ctx, srv)
	cl.next(ctx)
	if err := s.cfg.Accounts.RevokeAccount(ctx, "sup1", "disabled"); err != nil {
		t.Fatal(err)
	}
	_, _, err := cl.c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusPolicyViolation {
		t.Errorf("read after the revocation: %v, want the feed closed", err)
	}
	if w := do(t, s, "GET", "/supervisor/api/view", "", "", feedCookie(t, srv)); w.Code != http.StatusUnauthorized {
		t.Errorf("view after the revocation: %d, want 401", w.Code)
	}
}

// TestViewServedFromHubCache: GET /api/view answers from the hub's latest view, so N requests
// cost no snapshot while the feed polls, and one shared snapshot when nothing has polled yet.
func TestViewServedFromHubCache(t *testing.T) {
	const n = 20
	views := func(t *testing.T, s *Server) {
		t.Helper()
		cookie := loginCookie(t, s, "sup1", "secret-s")
		done := make(chan string, n)
		for range n {
			go func() {
				w := do(t, s, "GET", "/supervisor/api/view", "", "", cookie)
				var got viewResponse
				if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.View == nil || len(got.View.Queues) == 0 {
					done <- fmt.Sprintf("%d %.80s", w.Code, w.Body)
					return
				}
				done <- ""
			}()
		}
		for range n {
			if bad := <-done; bad != "" {
				t.Errorf("view: %s", bad)
			}
		}
	}
	t.Run("feed polling", func(t *testing.T) {
		ctx := testContext(t)
		s, src, _, _ := newTestServer(t, Config{Interval: time.Hour})
		srv := httptest.NewServer(s)
		defer srv.Close()
		feed := dialFeed(t, ctx, srv)
		feed.next(ctx)
		views(t, s)
		if got := src.snapshots(); got != 1 {
			t.Errorf("%d snapshots for the feed and %d view requests, want 1: the view requests cost one each", got, n)
		}
	})
	t.Run("nobody polling", func(t *testing.T) {
		s, src, _, _ := newTestServer(t, Config{Interval: time.Hour})
		views(t, s)
		if got := src.snapshots(); got != 1 {
			t.Errorf("%d snapshots for %d view requests, want 1", got, n)
		}
	})
}
