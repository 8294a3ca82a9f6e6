// Package aritest is the one place tests choose their ARI target: the in-process Asterisk
// simulator always, and a real Asterisk when HOTLINE_TEST_ARI_URL, HOTLINE_TEST_ARI_USER and
// HOTLINE_TEST_ARI_PASSWORD are set. Scenario tests place callers through CallerDriver so they run
// unchanged on both.
package aritest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hotline-cc/hotline/asterisksim"
)

// Environment variables that select a real Asterisk.
const (
	EnvURL      = "HOTLINE_TEST_ARI_URL" // e.g. http://127.0.0.1:8088 (without /ari)
	EnvUser     = "HOTLINE_TEST_ARI_USER"
	EnvPassword = "HOTLINE_TEST_ARI_PASSWORD"
)

// Environment variables that select a second real Asterisk: the other node of the several-nodes
// tests (RunPair). scripts/test.sh starts it beside the first, with its own systemname.
const (
	EnvURL2      = "HOTLINE_TEST_ARI2_URL"
	EnvUser2     = "HOTLINE_TEST_ARI2_USER"
	EnvPassword2 = "HOTLINE_TEST_ARI2_PASSWORD"
)

// App is the Stasis application asterisk-config/extensions.conf sends calls to.
const App = "hotline"

// Target is one ARI server under test.
type Target struct {
	Name      string
	BaseURL   string // http://host:port; ARI is under BaseURL+"/ari"
	User      string
	Password  string
	App       string
	Sim       *asterisksim.Sim // nil on a real Asterisk
	TimeScale float64          // how much faster than real time the target runs (1 on Asterisk)
	Callers   CallerDriver
}

// ARIURL is BaseURL + "/ari".
func (tg *Target) ARIURL() string { return tg.BaseURL + "/ari" }

// EventsURL is the ws:// URL of the events WebSocket for app.
func (tg *Target) EventsURL(app string) string {
	u := strings.Replace(tg.BaseURL, "http", "ws", 1) + "/ari/events?app=" + url.QueryEscape(app)
	return u + "&api_key=" + url.QueryEscape(tg.User+":"+tg.Password)
}

// Scaled converts a duration of the scenario to the target's time.
func (tg *Target) Scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * tg.TimeScale)
}

// Run runs f against every target as subtests "sim" and "asterisk". The simulator is built from
// cfg (User/Password default to hotline/hotline) and closed when the subtest ends; the real
// Asterisk subtest is skipped unless the environment names one.
func Run(t *testing.T, cfg asterisksim.Config, f func(t *testing.T, tg *Target)) {
	t.Helper()
	t.Run("sim", func(t *testing.T) { f(t, NewSimTarget(t, cfg)) })
	t.Run("asterisk", func(t *testing.T) {
		tg, ok := RealTarget()
		if !ok {
			SkipOrFail(t, fmt.Sprintf("no real Asterisk: set %s, %s and %s to run against one (scripts/test.sh does)", EnvURL, EnvUser, EnvPassword))
		}
		tg.Isolate(t)
		f(t, tg)
	})
}

// RunPair runs f against two nodes of one center as subtests "sim" (two simulators, built from
// cfgA and cfgB; give each its own SystemName) and "asterisk" (the real Asterisk of RealTarget as
// a, the one of RealTarget2 as b, both isolated). Like Run, the real subtest is skipped when the
// environment does not name both, and fails instead when real-Asterisk tests are required.
func RunPair(t *testing.T, cfgA, cfgB asterisksim.Config, f func(t *testing.T, a, b *Target)) {
	t.Helper()
	t.Run("sim", func(t *testing.T) { f(t, NewSimTarget(t, cfgA), NewSimTarget(t, cfgB)) })
	t.Run("asterisk", func(t *testing.T) {
		a, b, ok := RealPair()
		if !ok {
			SkipOrFail(t, fmt.Sprintf("no two real Asterisks: set %s, %s and %s, and %s, %s and %s, to run against two (scripts/test.sh does)",
				EnvURL, EnvUser, EnvPassword, EnvURL2, EnvUser2, EnvPassword2))
		}
		a.Isolate(t)
		b.Isolate(t)
		f(t, a, b)
	})
}

// RealPair describes the two real Asterisks named by the environment (RealTarget's and
// RealTarget2's), if both are named and they differ.
func RealPair() (a, b *Target, ok bool) {
	a, okA := RealTarget()
	b, okB := RealTarget2()
	if !okA || !okB || a.BaseURL == b.BaseURL {
		return nil, nil, false
	}
	return a, b, true
}

// RealTarget2 describes the second real Asterisk named by the environment, if any.
func RealTarget2() (*Target, bool) {
	return realTarget(os.Getenv(EnvURL2), os.Getenv(EnvUser2), os.Getenv(EnvPassword2))
}

// Isolate hangs up every channel and destroys every bridge of the real Asterisk now and again when
// the test ends, so that nothing one test leaves (a leg whose controller stopped, a caller still
// waiting) shows in the next one's view of Asterisk. The test Asterisk serves the tests alone, one
// test at a time.
func (tg *Target) Isolate(t testing.TB) {
	t.Helper()
	if tg.Sim != nil {
		return
	}
	tg.clear(t)
	t.Cleanup(func() { tg.clear(t) })
}

func (tg *Target) clear(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, kind := range []string{"channels", "bridges"} {
		st, body, err := tg.Do(ctx, http.MethodGet, "/ari/"+kind, nil)
		if err != nil || st != http.StatusOK {
			t.Errorf("clear asterisk: list %s: %d %s %v", kind, st, body, err)
			return
		}
		var objs []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &objs); err != nil {
			t.Errorf("clear asterisk: %s: %v", kind, err)
			return
		}
		for _, o := range objs {
			// 404: it went by itself meanwhile (the other half of a Local pair, a bridge emptied).
			_, _, _ = tg.Do(ctx, http.MethodDelete, "/ari/"+kind+"/"+url.PathEscape(o.ID), nil)
		}
	}
}

// EnvRequire, when set (scripts/test.sh sets it once it has started an Asterisk, and CI=true implies
// it), turns a real-Asterisk test that cannot run into a failure: CI must not pass by skipping.
const EnvRequire = "HOTLINE_TEST_REQUIRE_ASTERISK"

// SkipOrFail skips the test with why, or fails it when real-Asterisk tests are required.
func SkipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(EnvRequire) != "" || os.Getenv("CI") == "true" {
		t.Fatalf("required real-Asterisk test cannot run: %s", why)
	}
	t.Skip(why)
}

// NewSimTarget starts an in-process simulator behind an httptest server on 127.0.0.1.
func NewSimTarget(t testing.TB, cfg asterisksim.Config) *Target {
	t.Helper()
	if cfg.User == "" {
		cfg.User, cfg.Password = "hotline", "hotline"
	}
	sim, err := asterisksim.New(cfg)
	if err != nil {
		t.Fatalf("asterisksim.New: %v", err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		_ = sim.Close()
		srv.Close()
	})
	scale := cfg.TimeScale
	if scale <= 0 {
		scale = 1
	}
	tg := &Target{Name: "sim", BaseURL: srv.URL, User: cfg.User, Password: cfg.Password, App: App, Sim: sim, TimeScale: scale}
	tg.Callers = simCallers{sim: sim}
	return tg
}

// RealTarget describes the real Asterisk named by the environment, if any.
func RealTarget() (*Target, bool) {
	return realTarget(os.Getenv(EnvURL), os.Getenv(EnvUser), os.Getenv(EnvPassword))
}

func realTarget(base, user, pass string) (*Target, bool) {
	if base == "" || user == "" {
		return nil, false
	}
	base = strings.TrimSuffix(strings.TrimSuffix(base, "/"), "/ari")
	tg := &Target{Name: "asterisk", BaseURL: base, User: user, Password: pass, App: App, TimeScale: 1}
	tg.Callers = &ariCallers{tg: tg}
	return tg, true
}

// CallerSpec is a caller placed identically on the simulator and on Asterisk: it dials DID (which
// enters Stasis through [from-pstn]) and its own side runs the dialplan context Context of
// asterisk-config/extensions.conf (caller-ivr, caller-tone, ...).
type CallerSpec struct {
	DID, Number, Name string
	Context           string // the caller's own side: a caller-* context of the test dialplan
	// Entry is the context the DID is dialled in, as a trunk's endpoint names it; default
	// from-pstn (from-carrier counts the call against HOTLINE_MAX_CALLS first).
	Entry string
}

// PlacedCall is a caller placed by a CallerDriver.
type PlacedCall struct {
	// ChannelID is the Stasis side's channel id (what StasisStart will carry).
	ChannelID string
	// Sim is the simulator's Caller (Heard, Prompts, Done), nil on a real Asterisk.
	Sim *asterisksim.Caller
}

// CallerDriver places callers on a target.
type CallerDriver interface {
	Dial(ctx context.Context, spec CallerSpec) (PlacedCall, error)
}

type simCallers struct{ sim *asterisksim.Sim }

func (d simCallers) Dial(ctx context.Context, spec CallerSpec) (PlacedCall, error) {
	c, err := d.sim.Dial(ctx, asterisksim.CallerSpec{DID: spec.DID, Number: spec.Number, Name: spec.Name, Dialplan: spec.Context, Context: spec.Entry})
	if err != nil {
		return PlacedCall{}, err
	}
	return PlacedCall{ChannelID: c.ChannelID(), Sim: c}, nil
}

// ariCallers originates Local/<did>@<entry> with the caller context on the ;1 half and known ids
// for both halves. Asterisk ignores otherChannelId unless channelId is given too, and it takes a
// requested id as in use when an existing channel's id starts with it: the ;1 half is created first,
// so its id must not extend the ;2 half's ("<id>-one" would make "<id>" taken; "one-<id>" does not).
type ariCallers struct {
	tg  *Target
	seq atomic.Int64
}

func (d *ariCallers) Dial(ctx context.Context, spec CallerSpec) (PlacedCall, error) {
	id := fmt.Sprintf("aritest-%d-%06d", time.Now().UnixNano(), d.seq.Add(1))
	q := url.Values{}
	entry := spec.Entry
	if entry == "" {
		entry = "from-pstn"
	}
	q.Set("endpoint", "Local/"+spec.DID+"@"+entry)
	q.Set("context", spec.Context)
	q.Set("extension", "s")
	q.Set("priority", "1")
	q.Set("callerId", fmt.Sprintf("%q <%s>", spec.Name, spec.Number))
	q.Set("channelId", "caller-"+id)
	q.Set("otherChannelId", id)
	// A carrier's codec. Without one Asterisk gives a Local channel every format it knows and picks
	// slin192, and resamples every prompt and bar of hold music to 192 kHz for it: a few dozen such
	// callers took both cores of the test machine (BENCHMARKS.md, the app_queue comparison).
	q.Set("formats", "alaw")
	status, body, err := d.tg.Do(ctx, http.MethodPost, "/ari/channels?"+q.Encode(), nil)
	if err != nil {
		return PlacedCall{}, err
	}
	if status != http.StatusOK {
		return PlacedCall{}, fmt.Errorf("originate caller: %d %s", status, body)
	}
	return PlacedCall{ChannelID: id}, nil
}

// SetGlobal sets the dialplan global name to value (POST /asterisk/variable), failing the test when
// Asterisk refuses.
func (tg *Target) SetGlobal(t testing.TB, name, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := url.Values{"variable": {name}, "value": {value}}
	if st, body, err := tg.Do(ctx, http.MethodPost, "/ari/asterisk/variable?"+q.Encode(), nil); err != nil || st != http.StatusNoContent {
		t.Fatalf("set the global %s=%s: %d %s %v", name, value, st, body, err)
	}
}

// NodeCeiling sets the node's HOTLINE_MAX_CALLS (asterisk-config's [from-carrier]) to n until the
// test ends, then back to 0 as shipped: a real Asterisk serves the tests after this one.
func (tg *Target) NodeCeiling(t testing.TB, n int) {
	t.Helper()
	tg.SetGlobal(t, "HOTLINE_MAX_CALLS", strconv.Itoa(n))
	t.Cleanup(func() { tg.SetGlobal(t, "HOTLINE_MAX_CALLS", "0") })
}

// Do sends one ARI request (path starts with /ari/) with the target's credentials.
func (tg *Target) Do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	return tg.DoAs(ctx, method, path, body, tg.User, tg.Password)
}

// DoAs is Do with other credentials.
func (tg *Target) DoAs(ctx context.Context, method, path string, body any, user, password string) (int, []byte, error) {
	st, _, raw, err := tg.DoFull(ctx, method, path, body, user, password)
	return st, raw, err
}

// DoFull is DoAs that also returns the response's headers.
func (tg *Target) DoFull(ctx context.Context, method, path string, body any, user, password string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("marshal body: %w", err)
		}
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequestWithContext(ctx, method, tg.BaseURL+path, rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, resp.Header, raw, nil
}

// Events is an events WebSocket with its events decoded as generic JSON objects.
type Events struct {
	C    <-chan map[string]any
	conn *websocket.Conn
}

// Connect opens the events WebSocket for app; it closes when the test ends.
func (tg *Target) Connect(t testing.TB, app string) *Events {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, tg.EventsURL(app), nil)
	if err != nil {
		t.Fatalf("events websocket: %v", err)
	}
	conn.SetReadLimit(1 << 20)
	ch := make(chan map[string]any, 1024)
	rctx, rcancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		for {
			_, raw, err := conn.Read(rctx)
			if err != nil {
				return
			}
			var ev map[string]any
			if json.Unmarshal(raw, &ev) == nil {
				select {
				case ch <- ev:
				case <-rctx.Done():
					return
				}
			}
		}
	}()
	t.Cleanup(func() {
		// Close before cancelling the reader: a cancelled read drops the connection without a close
		// handshake, and Asterisk logs every such socket as closed abruptly.
		_ = conn.Close(websocket.StatusNormalClosure, "")
		rcancel()
		<-done
	})
	tg.WaitApp(t, app)
	return &Events{C: ch, conn: conn}
}

// WaitApp waits until ARI lists app (its WebSocket is registered): until then Stasis() fails.
func (tg *Target) WaitApp(t testing.TB, app string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		st, _, err := tg.Do(ctx, http.MethodGet, "/ari/applications/"+url.PathEscape(app), nil)
		if err == nil && st == http.StatusOK {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("application %s never registered (last status %d, err %v)", app, st, err)
		case <-tick.C:
		}
	}
}

// WaitFor returns the next event matching match, or fails the test after timeout.
func (e *Events) WaitFor(t testing.TB, timeout time.Duration, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-e.C:
			if !ok {
				t.Fatalf("events websocket closed while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// Type matches events of type typ concerning channel id ("" for any).
func Type(typ, channelID string) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		if ev["type"] != typ {
			return false
		}
		if channelID == "" {
			return true
		}
		ch, _ := ev["channel"].(map[string]any)
		return ch != nil && ch["id"] == channelID
	}
}
