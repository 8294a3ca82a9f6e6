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

	"golang.org/x/crypto/bcrypt"
)

// newTestServer returns a Server whose poller moves only when the test sends on ticks.
func newTestServer(t *testing.T, cfg Config) (*Server, *fakeSource, *fakeActions, chan time.Time) {
	t.Helper()
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

func do(t *testing.T, h http.Handler, method, path, contentType, body string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

const js = "application/json"

func TestEndpoints(t *testing.T) {
	s, _, act, _ := newTestServer(t, Config{})
	tests := []struct {
		name       string
		method     string
		path       string
		ctype      string
		body       string
		wantStatus int
		wantBody   string // a substring of the response body
		wantAction string // what the fake Actions should have been asked last
	}{
		{"page", "GET", "/supervisor/", "", "", 200, `<script src="app.js"`, ""},
		{"script", "GET", "/supervisor/app.js", "", "", 200, "reconcile", ""},
		{"style", "GET", "/supervisor/style.css", "", "", 200, ".ag", ""},
		{"view", "GET", "/supervisor/api/view", "", "", 200, `"waiting":2`, ""},
		{"session open", "GET", "/supervisor/api/session", "", "", 200, `"authRequired":false`, ""},
		{"unknown GET", "GET", "/supervisor/api/nope", "", "", 404, `"error":"no such endpoint"`, ""},
		{"GET an action", "GET", "/supervisor/api/listen", "", "", 404, `"error"`, ""},
		{"PUT an action", "PUT", "/supervisor/api/listen", js, `{}`, 405, "", ""},

		{"listen", "POST", "/supervisor/api/listen", js, `{"supervisor":"sup1","call":"c1"}`, 200, `"ok":true`, "listen sup1 c1"},
		{"whisper", "POST", "/supervisor/api/whisper", js, `{"supervisor":"sup1","call":"c2"}`, 200, `"ok":true`, "whisper sup1 c2"},
		{"barge", "POST", "/supervisor/api/barge", js, `{"supervisor":"sup1","call":"c3"}`, 200, `"ok":true`, "barge sup1 c3"},
		{"listen without supervisor", "POST", "/supervisor/api/listen", js, `{"call":"c1"}`, 400, "supervisor: required", ""},
		{"listen without call", "POST", "/supervisor/api/listen", js, `{"supervisor":"sup1"}`, 400, "call: required", ""},
		{"move", "POST", "/supervisor/api/move", js, `{"call":"c1","queue":"claims"}`, 200, `"ok":true`, "move c1 claims"},
		{"move without queue", "POST", "/supervisor/api/move", js, `{"call":"c1"}`, 400, "queue: required", ""},
		{"force pause", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"paused","reason":"meeting"}`, 200, `"ok":true`, "state a1 paused meeting"},
		{"force logout", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"offline"}`, 200, `"ok":true`, "state a1 offline "},
		{"force on call", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"on_call"}`, 400, "want paused, offline or available", ""},
		{"announcement", "POST", "/supervisor/api/announcement", js, `{"kind":"holiday"}`, 200, `"ok":true`, "announce holiday"},
		{"bad announcement", "POST", "/supervisor/api/announcement", js, `{"kind":"party"}`, 400, "want holiday, outage or none", ""},

		{"unknown action", "POST", "/supervisor/api/hangup", js, `{"call":"c1"}`, 404, `unknown action \"hangup\"`, ""},
		{"nested unknown", "POST", "/supervisor/api/a/b", js, `{}`, 404, "no such endpoint", ""},
		{"bad JSON", "POST", "/supervisor/api/listen", js, `{"call":`, 400, "bad JSON", ""},
		{"not an object", "POST", "/supervisor/api/listen", js, `["c1"]`, 400, "bad JSON", ""},
		{"unknown field", "POST", "/supervisor/api/listen", js, `{"call":"c1","supervisor":"s","force":true}`, 400, `unknown field \"force\"`, ""},
		{"trailing data", "POST", "/supervisor/api/listen", js, `{"call":"c1","supervisor":"s"}{}`, 400, "data after the object", ""},
		{"empty body", "POST", "/supervisor/api/listen", js, ``, 400, "bad JSON", ""},
		{"form post", "POST", "/supervisor/api/listen", "application/x-www-form-urlencoded", `call=c1`, 415, "application/json", ""},
		{"too big", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"paused","reason":"` + strings.Repeat("x", maxBody) + `"}`, 413, "too large", ""},
		{"long reason", "POST", "/supervisor/api/agent-state", js, `{"agent":"a1","state":"paused","reason":"` + strings.Repeat("x", 201) + `"}`, 400, "longer than 200", ""},

		{"not found", "POST", "/supervisor/api/listen", js, `{"supervisor":"sup1","call":"missing"}`, 404, `"error":"call missing: not found"`, "listen sup1 missing"},
		{"not allowed", "POST", "/supervisor/api/move", js, `{"call":"busy","queue":"claims"}`, 409, "not allowed", "move busy claims"},
		{"agent not found", "POST", "/supervisor/api/agent-state", js, `{"agent":"missing","state":"paused"}`, 404, "not found", "state missing paused "},
		{"internal error hidden", "POST", "/supervisor/api/barge", js, `{"supervisor":"sup1","call":"boom"}`, 500, `"error":"internal error"`, "barge sup1 boom"},
		{"timeout", "POST", "/supervisor/api/barge", js, `{"supervisor":"sup1","call":"slow"}`, 504, "did not answer in time", "barge sup1 slow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := act.last()
			w := do(t, s, tt.method, tt.path, tt.ctype, tt.body)
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
	w := do(t, s, "GET", "/supervisor/api/view", "", "")
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
	w := do(t, s, "GET", "/supervisor/api/view", "", "")
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "redis") {
		t.Errorf("status %d body %s: want 503 without internals", w.Code, w.Body)
	}
}

func TestLogin(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s, _, act, _ := newTestServer(t, Config{PasswordHash: string(hash)})

	for _, path := range []string{"/supervisor/api/view", "/supervisor/ws"} {
		if w := do(t, s, "GET", path, "", ""); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", path, w.Code)
		}
	}
	if w := do(t, s, "POST", "/supervisor/api/listen", js, `{"supervisor":"x","call":"c1"}`); w.Code != http.StatusUnauthorized {
		t.Errorf("listen without a session: %d, want 401", w.Code)
	}
	if w := do(t, s, "GET", "/supervisor/", "", ""); w.Code != http.StatusOK {
		t.Errorf("the page itself must load to show the login form: %d", w.Code)
	}
	if w := do(t, s, "POST", "/supervisor/api/login", js, `{"supervisor":"sup1","password":"guess"}`); w.Code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", w.Code)
	}
	if w := do(t, s, "POST", "/supervisor/api/login", js, `{"password":"secret"}`); w.Code != http.StatusBadRequest {
		t.Errorf("no supervisor id: %d, want 400", w.Code)
	}

	w := do(t, s, "POST", "/supervisor/api/login", js, `{"supervisor":"sup1","password":"secret"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/supervisor/" || c.Value == "" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/supervisor/", c)
	}

	if w := do(t, s, "GET", "/supervisor/api/session", "", "", c); !strings.Contains(w.Body.String(), `"supervisor":"sup1"`) {
		t.Errorf("session: %s", w.Body)
	}
	if w := do(t, s, "GET", "/supervisor/api/view", "", "", c); w.Code != http.StatusOK {
		t.Errorf("view with a session: %d", w.Code)
	}
	// The session says who listens; a body cannot claim to be someone else.
	if w := do(t, s, "POST", "/supervisor/api/listen", js, `{"supervisor":"boss","call":"c1"}`, c); w.Code != http.StatusOK {
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

func TestBadHashFailsClosed(t *testing.T) {
	s, _, _, _ := newTestServer(t, Config{PasswordHash: "secret"}) // plaintext by mistake
	if w := do(t, s, "POST", "/supervisor/api/login", js, `{"supervisor":"sup1","password":"secret"}`); w.Code != http.StatusUnauthorized {
		t.Errorf("login against a non-bcrypt hash: %d, want 401", w.Code)
	}
	if w := do(t, s, "GET", "/supervisor/api/view", "", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("view: %d, want 401", w.Code)
	}
}

func TestSessionsExpire(t *testing.T) {
	now := base
	ss := newSessions(time.Hour, func() time.Time { return now })
	tok, _ := ss.create("sup1")
	if got, ok := ss.lookup(tok); !ok || got.supervisor != "sup1" {
		t.Fatalf("lookup: %v %v", got, ok)
	}
	now = now.Add(time.Hour + time.Second)
	if _, ok := ss.lookup(tok); ok {
		t.Error("session outlived its TTL")
	}
	if _, ok := ss.lookup("forged"); ok {
		t.Error("unknown token accepted")
	}
}

// TestViewServedFromHubCache: GET /api/view answers from the hub's latest view, so N requests
// cost no snapshot while the feed polls, and one shared snapshot when nothing has polled yet.
func TestViewServedFromHubCache(t *testing.T) {
	const n = 20
	views := func(t *testing.T, s *Server) {
		t.Helper()
		done := make(chan string, n)
		for range n {
			go func() {
				w := do(t, s, "GET", "/supervisor/api/view", "", "")
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
