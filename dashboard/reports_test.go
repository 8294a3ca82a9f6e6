package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotline-cc/hotline/records"
)

// fakeReports answers one row per query and remembers the query.
type fakeReports struct{ last records.ReportQuery }

func (f *fakeReports) Report(_ context.Context, q records.ReportQuery) ([]records.ReportRow, error) {
	f.last = q
	if _, ok := records.Intervals[q.Interval]; !ok {
		return nil, fmt.Errorf("%w: interval %q", records.ErrBadReport, q.Interval)
	}
	key := "private"
	if q.By == "queue" {
		key = "parcels"
	}
	if q.By == "" { // the center's rows, with the callers a full node refused
		return []records.ReportRow{
			{Period: q.From, Offered: 4, Answered: 4, AnsweredInSL: 4, ServiceLevel: 1, ASA: 2, Refused: 3},
			{Period: q.From.Add(time.Hour), Refused: 1234},
		}, nil
	}
	return []records.ReportRow{
		{Period: q.From, Key: key, Offered: 4, Answered: 2, AnsweredInSL: 1, ShortAbandoned: 1, ServiceLevel: 1.0 / 3, ASA: 20,
			Surveyed: 2, Promoters: 1, NPS: 50},
		{Period: q.From, Key: "claims", Offered: 2, Answered: 2, AnsweredInSL: 2, ServiceLevel: 1, ASA: 5},
	}, nil
}

// TestReportsAPI (issue 11, deliverable 4): api/reports answers supervisors in JSON and CSV, reads
// dates as the center's days, and refuses what it cannot answer with a 4xx and the reason.
func TestReportsAPI(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeReports{}
	s, _, _, _ := newTestServer(t, Config{Reports: fake, Location: msk})
	sup := loginCookie(t, s, "sup1", "secret-s")
	tests := []struct {
		name, query string
		cookie      *http.Cookie
		wantStatus  int
		wantBody    string
	}{
		{"no session", "from=2026-12-01&to=2026-12-01", nil, http.StatusUnauthorized, "login required"},
		{"json", "from=2026-12-01&to=2026-12-01&interval=15m&by=queue", sup, http.StatusOK, `"service_level":0.3333`},
		{"csv", "from=2026-12-01&to=2026-12-01&interval=day&by=agent&format=csv", sup, http.StatusOK,
			"period,key,offered,answered,answered_in_sl,abandoned,short_abandoned,exited,callbacks,callbacks_kept,held,transfers,consultations,service_level,asa_seconds,aht_seconds,talk_seconds,hold_seconds,wrapup_seconds,fcr_24h,fcr_72h,ivr_sessions,ivr_resolved,ivr_resolution,logged_in_seconds,paused_seconds,busy_seconds,occupancy,surveyed,promoters,detractors,nps,refused\n" +
				"2026-12-01T00:00:00+03:00,private,4,2,1,0,1,0,0,0,0,0,0,0.3333,20.0,0.0,0.0,0.0,0.0,0.0000,0.0000,0,0,0.0000,0.0,0.0,0.0,0.0000,2,1,0,50.0,0\n"},
		{"csv of the center", "from=2026-12-01&to=2026-12-01&interval=1h&format=csv", sup, http.StatusOK,
			"2026-12-01T01:00:00+03:00,,0,0,0,0,0,0,0,0,0,0,0,0.0000,0.0,0.0,0.0,0.0,0.0,0.0000,0.0000,0,0,0.0000,0.0,0.0,0.0,0.0000,0,0,0,0.0,1234\n"},
		{"instants", "from=2026-12-01T07:00:00Z&to=2026-12-01T08:00:00Z", sup, http.StatusOK, `"from":"2026-12-01T07:00:00Z"`},
		{"no from", "to=2026-12-01", sup, http.StatusBadRequest, "from: required"},
		{"bad date", "from=1.12.2026&to=2026-12-01", sup, http.StatusBadRequest, `from: \"1.12.2026\" is not a date`},
		{"bad interval", "from=2026-12-01&to=2026-12-01&interval=2h", sup, http.StatusBadRequest, `interval \"2h\"`},
		{"bad sl", "from=2026-12-01&to=2026-12-01&sl=0", sup, http.StatusBadRequest, "sl: \\\"0\\\" is not a number of seconds"},
		{"bad format", "from=2026-12-01&to=2026-12-01&format=xml", sup, http.StatusBadRequest, `format: \"xml\"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := do(t, s, "GET", "/supervisor/api/reports?"+tc.query, "", "", tc.cookie)
			if w.Code != tc.wantStatus || !strings.Contains(w.Body.String(), tc.wantBody) {
				t.Fatalf("%d %s, want %d with %q", w.Code, w.Body, tc.wantStatus, tc.wantBody)
			}
		})
	}
	do(t, s, "GET", "/supervisor/api/reports?from=2026-12-01&to=2026-12-02&by=agent&sl=30&short=10", "", "", sup)
	want := records.ReportQuery{From: time.Date(2026, 12, 1, 0, 0, 0, 0, msk), To: time.Date(2026, 12, 3, 0, 0, 0, 0, msk),
		Interval: "1h", By: "agent", Location: msk, ServiceLevel: 30 * time.Second, ShortAbandon: 10 * time.Second}
	if got := fake.last; !got.From.Equal(want.From) || !got.To.Equal(want.To) || got.Interval != want.Interval ||
		got.By != want.By || got.ServiceLevel != want.ServiceLevel || got.ShortAbandon != want.ShortAbandon {
		t.Errorf("query %+v, want %+v", got, want)
	}

	none, _, _, _ := newTestServer(t, Config{})
	w := do(t, none, "GET", "/supervisor/api/reports?from=2026-12-01&to=2026-12-01", "", "", loginCookie(t, none, "sup1", "secret-s"))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "records.postgres") {
		t.Errorf("without records: %d %s", w.Code, w.Body)
	}
}

// TestBrowserReports: the reports page, opened from the board, shows the rows with the queues'
// titles and a total weighed as the figures are, offers the same query as CSV, and switches to
// English.
func TestBrowserReports(t *testing.T) {
	s, _, _, _ := newTestServer(t, Config{Reports: &fakeReports{}})
	tab := openBoard(t, s, 3)
	// The board links to the page; the link is followed as a navigation, so the test waits for it.
	link := evalString(t, tab, `document.querySelector('a[href="reports.html"]').href`)
	if err := chromedp.Do(within(tab, t), chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "two rows and a total", `document.querySelectorAll('#report-rows tr').length === 2 && document.querySelectorAll('#report-total tr').length === 1`)
	if got := evalString(t, tab, `document.querySelector('#report-rows tr').textContent`); !strings.Contains(got, "Посылки (parcels)") || !strings.Contains(got, "33,3") {
		t.Errorf("first row %q: want the queue's title and SL 33,3 %%", got)
	}
	// The total: 3 of 6 offered less 1 short abandon answered in SL (60 %), ASA (20·2 + 5·2)/4 = 12.5 s.
	if got := evalString(t, tab, `document.querySelector('#report-total tr').textContent`); !strings.Contains(got, "60") || !strings.Contains(got, "13 с") {
		t.Errorf("total %q: want SL 60 %% and ASA 13 s", got)
	}
	if got := evalString(t, tab, `document.getElementById('csv').getAttribute('href')`); !strings.Contains(got, "format=csv") || !strings.Contains(got, "by=queue") {
		t.Errorf("CSV link %q", got)
	}
	if err := chromedp.Do(within(tab, t), chromedp.Click(`#lang`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "English headers", `document.querySelector('#report-head').textContent.includes('Offered') && document.querySelector('#report-rows tr').textContent.includes('Parcels')`)
	// A queue's rows have no refused column: a refused caller never reached a queue.
	if got := evalString(t, tab, `document.querySelector('#report-head').textContent`); strings.Contains(got, "Refused") {
		t.Errorf("by queue, the head %q has a refused column", got)
	}
	// The whole center's rows have it, with its hint, and the total adds it up.
	if err := chromedp.Do(within(tab, t), chromedp.SetValue(chromedp.ID("by"), ""), chromedp.Click(`#report-form button[type=submit]`)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, "the center's rows", `document.querySelector('#report-head').textContent.includes('Refused') && document.querySelectorAll('#report-rows tr').length === 2`)
	col := `[...document.querySelectorAll('#report-head th')].findIndex((th) => th.textContent === 'Refused')`
	if got := evalString(t, tab, `document.querySelectorAll('#report-head th')[`+col+`].title`); !strings.Contains(got, "full node") {
		t.Errorf("refused hint %q", got)
	}
	if got := evalString(t, tab, `[...document.querySelectorAll('#report-rows tr, #report-total tr')].map((tr) => tr.children[`+col+`].textContent).join('|')`); got != "3|1,234|1,237" {
		t.Errorf("refused cells %q, want 3|1,234|1,237", got)
	}
}
