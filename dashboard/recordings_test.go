package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/records"
)

// fakeWAV stands for a recording's file.
var fakeWAV = append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 28)...)

// fakeRecordings holds recordings 7 (on this node) and 8 (on another) and remembers the last query.
type fakeRecordings struct {
	mu   sync.Mutex
	last records.RecordingQuery
}

func sampleRecordings() []records.Recording {
	d := 83.0
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	return []records.Recording{
		{ID: 7, CallID: "c7", Node: "n1", Name: "hotline/2026/12/01/c7-x", Agent: "a1", Queue: "claims", Caller: "+79161234567", Format: "wav", Started: at, Duration: &d},
		{ID: 8, CallID: "c8", Node: "n2", Name: "hotline/2026/12/01/c8-x", Agent: "a2", Queue: "claims", Caller: "+79035550000", Format: "wav", Started: at.Add(-time.Hour)},
	}
}

func (f *fakeRecordings) Search(_ context.Context, q records.RecordingQuery) ([]records.Recording, error) {
	f.mu.Lock()
	f.last = q
	f.mu.Unlock()
	var out []records.Recording
	for _, r := range sampleRecordings() {
		if (q.Agent == "" || q.Agent == r.Agent) && (q.Number == "" || strings.Contains(r.Caller, q.Number)) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeRecordings) Audio(_ context.Context, id int64) (records.Recording, *Audio, error) {
	for _, r := range sampleRecordings() {
		switch {
		case r.ID != id:
		case r.Node != "n1":
			return r, nil, ErrRecordingElsewhere
		default:
			return r, &Audio{Body: io.NopCloser(strings.NewReader(string(fakeWAV))), ContentType: "audio/wav", Length: int64(len(fakeWAV))}, nil
		}
	}
	return records.Recording{}, nil, ErrNoRecording
}

func (f *fakeRecordings) query() records.RecordingQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// TestRecordingsAPI (issue 11, deliverable 2): supervisors search recordings by number, agent,
// queue and time; bad input is a 400 with its reason; Asterisk's names never reach the page.
func TestRecordingsAPI(t *testing.T) {
	fake := &fakeRecordings{}
	s, _, _, _ := newTestServer(t, Config{Recordings: fake, Location: time.UTC})
	sup := loginCookie(t, s, "sup1", "secret-s")
	for _, tc := range []struct {
		name, query string
		cookie      *http.Cookie
		wantStatus  int
		wantBody    string
	}{
		{"no session", "", nil, http.StatusUnauthorized, "login required"},
		{"all", "", sup, http.StatusOK, `"audio":"api/recordings/8/audio"`},
		{"by number", "number=%2B7916", sup, http.StatusOK, `"caller":"+79161234567"`},
		{"by agent", "agent=a2", sup, http.StatusOK, `"call_id":"c8"`},
		{"duration", "agent=a1", sup, http.StatusOK, `"duration_sec":83`},
		{"bad number", "number=12ab", sup, http.StatusBadRequest, `number: \"12ab\" is not`},
		{"short number", "number=12", sup, http.StatusBadRequest, "number:"},
		{"bad agent", "agent=a%20b", sup, http.StatusBadRequest, "agent:"},
		{"bad queue", "queue=../x", sup, http.StatusBadRequest, "queue:"},
		{"bad from", "from=1.12.2026", sup, http.StatusBadRequest, "from:"},
		{"backwards", "from=2026-12-02&to=2026-12-01", sup, http.StatusBadRequest, "from: must be before to"},
		{"unknown parameter", "name=hotline/x", sup, http.StatusBadRequest, "name: unknown parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(t, s, "GET", "/supervisor/api/recordings?"+tc.query, "", "", tc.cookie)
			if w.Code != tc.wantStatus || !strings.Contains(w.Body.String(), tc.wantBody) {
				t.Fatalf("%d %s, want %d with %q", w.Code, w.Body, tc.wantStatus, tc.wantBody)
			}
			if strings.Contains(w.Body.String(), "hotline/2026") {
				t.Errorf("an Asterisk name reached the page: %s", w.Body)
			}
		})
	}
	do(t, s, "GET", "/supervisor/api/recordings?number=%2B7%20916&agent=a1&queue=claims&from=2026-12-01&to=2026-12-01T12:00:00Z", "", "", sup)
	got := fake.query()
	if got.Number != "7916" || got.Agent != "a1" || got.Queue != "claims" ||
		!got.From.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !got.To.Equal(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("query %+v", got)
	}
	none, _, _, _ := newTestServer(t, Config{})
	if w := do(t, none, "GET", "/supervisor/api/recordings", "", "", loginCookie(t, none, "sup1", "secret-s")); w.Code != http.StatusNotFound {
		t.Errorf("without records: %d %s", w.Code, w.Body)
	}
}

// TestRecordingAudio: the audio endpoint streams the file for a valid id, refuses what is not one
// (a path, a name, a negative number), and audits every listen, refused ones too; an agent's
// session is refused both routes.
func TestRecordingAudio(t *testing.T) {
	rec := audit.NewMemory()
	s, _, _, _ := newTestServer(t, Config{Recordings: &fakeRecordings{}, Accounts: testAccounts(t, account.Config{}, rec)})
	sup := loginCookie(t, s, "sup1", "secret-s")
	for _, tc := range []struct {
		name, id   string
		wantStatus int
		wantAudit  string
	}{
		{"ok", "7", http.StatusOK, "recording.listen sup1 7 ok"},
		{"unknown", "9", http.StatusNotFound, "recording.listen sup1 9 refused"},
		{"another node", "8", http.StatusBadGateway, "recording.listen sup1 8 failed"},
		{"not a number", "abc", http.StatusBadRequest, "recording.listen sup1 abc refused"},
		{"a path", "..%2F..%2Fetc%2Fpasswd", http.StatusBadRequest, "recording.listen sup1 ../../etc/passwd refused"},
		{"leading zero", "07", http.StatusBadRequest, "recording.listen sup1 07 refused"},
		{"negative", "-7", http.StatusBadRequest, "recording.listen sup1 -7 refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.Entries())
			w := do(t, s, "GET", "/supervisor/api/recordings/"+tc.id+"/audio", "", "", sup)
			if w.Code != tc.wantStatus {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusOK {
				if w.Body.String() != string(fakeWAV) || w.Header().Get("Content-Type") != "audio/wav" ||
					w.Header().Get("Content-Length") != fmt.Sprint(len(fakeWAV)) || w.Header().Get("Cache-Control") != "no-store" {
					t.Errorf("audio %q with %v", w.Body.Bytes(), w.Header())
				}
			}
			entries := rec.Entries()
			if len(entries) != before+1 {
				t.Fatalf("%d audit entries for one listen", len(entries)-before)
			}
			e := entries[len(entries)-1]
			if got := fmt.Sprintf("%s %s %s %s", e.Action, e.Actor, e.Target, e.Outcome); got != tc.wantAudit || e.Role != "supervisor" {
				t.Errorf("audited %q (%s), want %q", got, e.Role, tc.wantAudit)
			}
			if tc.wantStatus == http.StatusOK && (e.Detail["call"] != "c7" || e.Detail["agent"] != "a1") {
				t.Errorf("audit detail %v", e.Detail)
			}
		})
	}

	r := httptest.NewRequest("POST", "/agent/login", nil)
	_, token, _, err := s.cfg.Accounts.Login(context.Background(), r, account.PageAgent, "a1", "secret-a")
	if err != nil {
		t.Fatal(err)
	}
	agent := &http.Cookie{Name: cookieName, Value: token}
	for _, path := range []string{"/supervisor/api/recordings", "/supervisor/api/recordings/7/audio"} {
		if w := do(t, s, "GET", path, "", "", agent); w.Code != http.StatusForbidden {
			t.Errorf("%s with an agent's session: %d, want 403", path, w.Code)
		}
	}
}

// TestBrowserRecordings: the recordings page, opened from the board, searches by agent, shows the
// row with the queue's title, and plays it in the page's audio element.
func TestBrowserRecordings(t *testing.T) {
	s, _, _, _ := newTestServer(t, Config{Recordings: &fakeRecordings{}})
	tab := openBoard(t, s, 3)
	link := evalString(t, tab, `document.querySelector('a[href="recordings.html"]').href`)
	if err := chromedp.Do(within(tab, t), chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "both recordings listed", `document.querySelectorAll('#rec-rows tr').length === 2`)
	// Enter in a field searches: the page is used from the keyboard.
	if err := chromedp.Do(within(tab, t), chromedp.SendKeys(chromedp.ID("agent"), "a1\r")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the search by agent", `document.querySelectorAll('#rec-rows tr').length === 1 && location.search.includes('agent=a1')`)
	if got := evalString(t, tab, `document.querySelector('#rec-rows tr').textContent`); !strings.Contains(got, "+79161234567") || !strings.Contains(got, "1:23") {
		t.Errorf("row %q: want the caller and 1:23", got)
	}
	if err := chromedp.Do(within(tab, t), chromedp.Click(`#rec-rows button.listen`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the player's source", `document.getElementById('player').getAttribute('src') === 'api/recordings/7/audio'`)
	if err := chromedp.Do(within(tab, t), chromedp.Click(`#lang`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "English", `document.querySelector('#rec-rows button.listen').textContent === 'Listen' && document.getElementById('now-playing').textContent.startsWith('Recording 7')`)
}
