package asterisksim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
)

// sharedTranscripts finds shared/ari-transcripts beside the repository (or
// HOTLINE_ARI_TRANSCRIPTS); "" when it is not there.
func sharedTranscripts() string {
	if d := os.Getenv("HOTLINE_ARI_TRANSCRIPTS"); d != "" {
		return d
	}
	for _, d := range []string{"../../shared/ari-transcripts", "../shared/ari-transcripts"} {
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	return ""
}

// repoTranscripts are the sessions recorded by asterisksim/internal/record, kept in the repository.
const repoTranscripts = "testdata/transcripts"

// entry is one transcript line. ws, wait_ms and loose are the repository set's additions to the
// shared format (testdata/transcripts/README.md).
type entry struct {
	line   int
	TMS    int             `json:"t_ms"`
	Kind   string          `json:"kind"`
	WS     int             `json:"ws"`
	Text   string          `json:"text"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	WaitMS int             `json:"wait_ms"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
	Loose  []string        `json:"loose"`
	// Headers describe a body that is not JSON (a recording's audio), recorded instead of it.
	Headers map[string]string `json:"headers"`
}

func loadTranscript(t *testing.T, path string) []entry {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read transcript: %v", err)
	}
	var out []entry
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		e.line = n
		out = append(out, e)
	}
	return out
}

// noise are event types a controller may ignore; the simulator produces them, but Asterisk's exact
// count and placement of them varies (connected-line updates, announcer BRIDGEPEER), so they are
// matched when present and skipped when not.
var noise = map[string]bool{
	"ChannelVarset": true, "ChannelConnectedLine": true, "ChannelDialplan": true, "ChannelCallerId": true, "Dial": true,
}

// TestConformance replays every recorded session, the shared set and the repository's own, against
// the simulator and (when the environment names one) a real Asterisk.
func TestConformance(t *testing.T) {
	var files []string
	if dir := sharedTranscripts(); dir != "" {
		shared, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		files = append(files, shared...)
	} else {
		t.Log("shared/ari-transcripts not found (set HOTLINE_ARI_TRANSCRIPTS): replaying the repository's transcripts only")
	}
	own, _ := filepath.Glob(filepath.Join(repoTranscripts, "*.jsonl"))
	if len(own) == 0 {
		t.Fatalf("no transcripts in %s", repoTranscripts)
	}
	files = append(files, own...)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".jsonl")
		t.Run(name, func(t *testing.T) {
			entries := loadTranscript(t, file)
			aritest.Run(t, asterisksim.Config{TimeScale: 0.05}, func(t *testing.T, tg *aritest.Target) {
				r := &replayer{t: t, tg: tg, file: filepath.Base(file), ids: map[string]string{}, rev: map[string]string{}}
				r.run(entries)
			})
		})
	}
}

// replayer replays one transcript against a target.
type replayer struct {
	t    *testing.T
	tg   *aritest.Target
	file string
	ids  map[string]string // recorded id → live id
	rev  map[string]string // live id → recorded id

	start    time.Time                           // when the replay began (the recording's t_ms 0)
	last     map[string]liveResp                 // method+recorded path → live response
	streams  map[int]*stream                     // events WebSockets by the transcript's ws number
	in       chan liveEvent                      // every stream's events, in arrival order per stream
	live     map[int]map[string][]map[string]any // ws → live subject → pending events
	rtp      *net.UDPConn
	rtpPrev  []byte
	lastType map[string]string // recorded subject → type of its last recorded event
	// recordings are the names of the recordings the replay asked for, deleted from a real
	// Asterisk's directory at the end: a replay that failed midway must not leave the next one a
	// stored name (409).
	recordings map[string]bool
}

// recordingName is the name a request to record asks for.
var recordingName = regexp.MustCompile(`/record\?(?:.*&)?name=([^&]*)`)

type liveResp struct {
	status int
	body   []byte
	header http.Header
}

func (r *replayer) failf(e entry, format string, args ...any) {
	r.t.Helper()
	r.t.Errorf("%s:%d (%s %s): %s", r.file, e.line, e.Kind, e.Method+" "+e.Path+e.Text, fmt.Sprintf(format, args...))
}

func (r *replayer) run(entries []entry) {
	r.last = map[string]liveResp{}
	r.streams = map[int]*stream{}
	r.in = make(chan liveEvent, 4096)
	r.live = map[int]map[string][]map[string]any{}
	r.lastType = map[string]string{}
	r.recordings = map[string]bool{}
	// WebSocket 1 is open before the first line, as it was when the session was recorded.
	r.open(1, "/ari/events?app="+url.QueryEscape(r.tg.App))
	r.tg.WaitApp(r.t, r.tg.App)
	r.start = time.Now()
	for _, e := range entries {
		switch e.Kind {
		case "request":
			r.request(e)
		case "response":
			r.response(e)
		case "event":
			r.event(e)
		case "rtp":
			r.rtpPacket(e)
		}
	}
	r.leftovers()
	if r.tg.Sim == nil {
		r.cleanup()
	}
}

// livePath maps recorded ids in a path to live ones and points external_host at our RTP socket.
func (r *replayer) livePath(p string) string {
	keys := make([]string, 0, len(r.ids))
	for k := range r.ids {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		p = strings.ReplaceAll(p, k, r.ids[k])
	}
	if strings.Contains(p, "external_host=") {
		if r.rtp == nil {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				r.t.Fatalf("rtp listen: %v", err)
			}
			r.rtp = c
			r.t.Cleanup(func() { c.Close() })
		}
		re := regexp.MustCompile(`external_host=[^&]*`)
		p = re.ReplaceAllString(p, "external_host=127.0.0.1%3A"+fmt.Sprint(r.rtp.LocalAddr().(*net.UDPAddr).Port))
	}
	return p
}

// request sends a recorded request, never earlier into the replay than it was sent into the
// recording (scaled): a recorded client that waited (for an event that never came, or on purpose:
// wait_ms) asked its question of a later Asterisk than one that did not. wait_ms is not scaled: it
// waits out Asterisk's own housekeeping (a destroyed bridge's id being released), which runs in
// wall-clock time on the simulator too.
func (r *replayer) request(e entry) {
	due := r.start.Add(r.tg.Scaled(time.Duration(e.TMS) * time.Millisecond))
	if e.WaitMS > 0 {
		due = latest(due, time.Now().Add(time.Duration(e.WaitMS)*time.Millisecond))
	}
	if d := time.Until(due); d > 0 {
		pause := time.NewTimer(d)
		<-pause.C
	}
	ws := max(e.WS, 1)
	switch {
	case e.Method == "CLOSE":
		r.close(ws)
		return
	case e.Method == http.MethodGet && strings.HasPrefix(e.Path, "/ari/events"):
		r.open(ws, e.Path)
		r.last[e.Method+" "+e.Path] = liveResp{status: http.StatusSwitchingProtocols}
		return
	}
	var body any
	if len(e.Body) > 0 {
		body = e.Body
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, header, raw, err := r.tg.DoFull(ctx, e.Method, r.livePath(e.Path), body, r.tg.User, r.tg.Password)
	if err != nil {
		r.failf(e, "request failed: %v", err)
		return
	}
	r.last[e.Method+" "+e.Path] = liveResp{st, raw, header}
	if m := recordingName.FindStringSubmatch(e.Path); m != nil {
		if name, err := url.QueryUnescape(m[1]); err == nil {
			r.recordings[name] = true
		}
	}
}

func (r *replayer) response(e entry) {
	key := e.Method + " " + e.Path
	got, ok := r.last[key]
	if strings.HasSuffix(e.Path, "(wrong password)") {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		path := strings.TrimSuffix(e.Path, " (wrong password)")
		st, body, err := r.tg.DoAs(ctx, e.Method, path, nil, r.tg.User, "wrong-"+r.tg.Password)
		if err != nil {
			r.failf(e, "request failed: %v", err)
			return
		}
		got, ok = liveResp{status: st, body: body}, true
		e.Body = json.RawMessage(e.Text)
	}
	if !ok {
		r.failf(e, "response without a request")
		return
	}
	if got.status != e.Status && finishedPlayback.MatchString(e.Path) && e.Method == http.MethodGet &&
		e.Status == http.StatusNotFound && got.status == http.StatusOK && strings.Contains(string(got.body), `"state":"done"`) {
		got = r.untilGone(e)
	}
	if got.status != e.Status {
		r.failf(e, "status %d, want %d (body %s)", got.status, e.Status, got.body)
		return
	}
	for h, want := range e.Headers {
		if have := got.header.Get(h); have != want {
			r.failf(e, "header %s: %q, want %q", h, have, want)
		}
	}
	if e.Headers != nil {
		// Audio: Asterisk gives its length up front (the file's size) rather than chunking it.
		if have, want := got.header.Get("Content-Length"), strconv.Itoa(len(got.body)); have != want {
			r.failf(e, "header Content-Length: %q, want %q (the body's length)", have, want)
		}
	}
	if len(e.Body) == 0 || string(e.Body) == "null" {
		return
	}
	var want, have any
	if err := json.Unmarshal(e.Body, &want); err != nil {
		r.failf(e, "recorded body: %v", err)
		return
	}
	if err := json.Unmarshal(got.body, &have); err != nil {
		r.failf(e, "live body is not JSON: %q", got.body)
		return
	}
	r.learn(want, have)
	for _, d := range looseDiff(append(e.Loose, impliedLoose(e.Path)...), want, have) {
		r.failf(e, "%s", d)
	}
	for _, d := range diff("body", want, have) {
		r.failf(e, "%s", d)
	}
}

// finishedPlayback is a playback read right after its PlaybackFinished. Asterisk 22.10.1 publishes
// the event before it drops the playback from its container: the recorded 404 is what it answers a
// moment later, and a replay sometimes reads it in between (200, state "done"; 1 replay of
// barge-in in 40). The shared recordings cannot say so themselves.
var finishedPlayback = regexp.MustCompile(`^/ari/playbacks/[^/?]+$`)

// untilGone asks again, for a second at most, until the finished playback is gone.
func (r *replayer) untilGone(e entry) liveResp {
	var last liveResp
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, raw, err := r.tg.Do(ctx, e.Method, r.livePath(e.Path), nil)
		cancel()
		if err != nil {
			return liveResp{}
		}
		last = liveResp{status: st, body: raw}
		if st != http.StatusOK {
			return last
		}
		time.Sleep(10 * time.Millisecond)
	}
	return last
}

// lateStasisPath is a request that makes a channel and puts it in Stasis from a thread of its own
// (snoop, externalMedia): its reply shows the channel before or after it entered Stasis, as that
// thread and the REST handler race. Recorded: snoop.jsonl's reply has app_name "" where a replay on
// Asterisk 22.10.1 got "Stasis"; an externalMedia reply sometimes has STASISSTATUS among its
// channelvars. The shared files cannot say so themselves.
var lateStasisPath = regexp.MustCompile(`^/ari/channels/([^/?]+/snoop|externalMedia)`)

// impliedLoose are the loose keys of a response that its transcript does not name.
func impliedLoose(path string) []string {
	if lateStasisPath.MatchString(path) {
		return []string{"dialplan", "channelvars"}
	}
	return nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// looseDiff compares the keys whose values timing decides by JSON type only, where both sides have
// them, and removes them from want and have so that diff leaves them alone.
func looseDiff(keys []string, want, have any) []string {
	w, ok1 := want.(map[string]any)
	h, ok2 := have.(map[string]any)
	if !ok1 || !ok2 {
		return nil
	}
	var out []string
	for _, k := range keys {
		wv, inW := w[k]
		hv, inH := h[k]
		if inW && inH && jsonType(wv) != jsonType(hv) {
			out = append(out, fmt.Sprintf("body.%s: got %s, want %s", k, jsonType(hv), jsonType(wv)))
		}
		delete(w, k)
		delete(h, k)
	}
	return out
}

// learn maps the ids of a recorded object to the live one's.
func (r *replayer) learn(want, have any) {
	w, ok1 := want.(map[string]any)
	h, ok2 := have.(map[string]any)
	if !ok1 || !ok2 {
		return
	}
	if wid, ok := w["id"].(string); ok {
		if hid, ok := h["id"].(string); ok {
			if _, known := r.ids[wid]; !known {
				r.ids[wid] = hid
				r.rev[hid] = wid
			}
		}
	}
	for _, k := range []string{"channel", "playback", "bridge", "peer"} {
		if wv, ok := w[k]; ok {
			r.learn(wv, h[k])
		}
	}
}

// subject is what an event is about: the channel, the Dial peer, the playback or the bridge.
func subject(ev map[string]any) string {
	for _, k := range []string{"channel", "peer", "playback", "bridge", "recording"} {
		if m, ok := ev[k].(map[string]any); ok {
			if id, ok := m["id"].(string); ok {
				return id
			}
			if n, ok := m["name"].(string); ok {
				return n
			}
		}
	}
	return ""
}

var counters = regexp.MustCompile(`-[0-9a-f]{8}(;[12])?$|-0x[0-9a-f]+$|:[0-9]+`)

func normName(ev map[string]any) string {
	for _, k := range []string{"channel", "peer"} {
		if m, ok := ev[k].(map[string]any); ok {
			n, _ := m["name"].(string)
			return counters.ReplaceAllStringFunc(n, func(s string) string {
				if strings.HasSuffix(s, ";1") || strings.HasSuffix(s, ";2") {
					return s[len(s)-2:]
				}
				return ""
			})
		}
	}
	return ""
}

// pull moves received live events into per-WebSocket, per-subject queues; it waits up to block
// for the first one.
func (r *replayer) pull(block time.Duration) bool {
	var timer <-chan time.Time
	if block > 0 {
		tm := time.NewTimer(block)
		defer tm.Stop()
		timer = tm.C
	}
	got := false
	for {
		select {
		case le := <-r.in:
			r.queueEvent(le)
			got = true
			timer = nil
			continue
		default:
		}
		if got || timer == nil {
			return got
		}
		select {
		case le := <-r.in:
			r.queueEvent(le)
			got = true
		case <-timer:
			return got
		}
	}
}

// queueEvent files a live event; a WebSocket that was told ApplicationReplaced must get nothing
// more, as Asterisk removes the app from that session.
func (r *replayer) queueEvent(le liveEvent) {
	st := r.streams[le.ws]
	typ, _ := le.ev["type"].(string)
	if st.replaced {
		r.t.Errorf("%s: ws %d got %s after ApplicationReplaced", r.file, le.ws, typ)
	}
	if typ == "ApplicationReplaced" && le.ev["application"] == r.tg.App {
		st.replaced = true
	}
	s := subject(le.ev)
	q := r.queue(le.ws)
	q[s] = append(q[s], le.ev)
}

func (r *replayer) queue(ws int) map[string][]map[string]any {
	q := r.live[ws]
	if q == nil {
		q = map[string][]map[string]any{}
		r.live[ws] = q
	}
	return q
}

// event waits for the live counterpart of a recorded event on the same WebSocket: the next event of
// the same subject must have the same type (noise types may be missing or extra). Events about no
// object (ApplicationReplaced, a user event without a source) form one queue of their own.
func (r *replayer) event(e entry) {
	var want map[string]any
	if err := json.Unmarshal(e.Body, &want); err != nil {
		r.failf(e, "recorded event: %v", err)
		return
	}
	ws := max(e.WS, 1)
	typ, _ := want["type"].(string)
	recSubj := subject(want)
	r.lastType[recSubj] = typ
	deadline := time.Now().Add(10 * time.Second)
	for {
		liveSubj, mapped := r.ids[recSubj]
		if recSubj == "" {
			mapped = true
		} else if !mapped {
			// A new channel or playback: the first live event of the same type whose subject is
			// unknown yet, preferring the same channel name shape.
			liveSubj = r.findNew(ws, typ, normName(want))
		}
		if liveSubj != "" || recSubj == "" {
			q := r.queue(ws)[liveSubj]
			for len(q) > 0 {
				head := q[0]
				ht, _ := head["type"].(string)
				if ht == typ {
					r.queue(ws)[liveSubj] = q[1:]
					if !mapped {
						r.ids[recSubj] = liveSubj
						r.rev[liveSubj] = recSubj
					}
					r.learn(want, head)
					cmp := diff
					if noise[typ] {
						// Values of noise events depend on timing (a connected-line update
						// before or after a dialplan step): shapes only.
						cmp = shapeDiff
					}
					for _, d := range cmp("event", want, head) {
						r.failf(e, "%s", d)
					}
					return
				}
				if noise[ht] {
					q = q[1:] // an extra noise event in the live stream
					r.queue(ws)[liveSubj] = q
					continue
				}
				if noise[typ] {
					r.t.Logf("%s:%d: %s for %s not produced (live has %s next)", r.file, e.line, typ, liveSubj, ht)
					return
				}
				r.failf(e, "event order for %q on ws %d: got %s, want %s", liveSubj, ws, ht, typ)
				r.queue(ws)[liveSubj] = q[1:]
				return
			}
		}
		remaining := time.Until(deadline)
		if noise[typ] {
			remaining = min(remaining, r.tg.Scaled(2*time.Second)+50*time.Millisecond)
		}
		if remaining <= 0 || !r.pull(remaining) {
			if noise[typ] {
				r.t.Logf("%s:%d: noise event %s for %s not seen", r.file, e.line, typ, recSubj)
				return
			}
			r.failf(e, "no %s event for %s on ws %d (live %q)", typ, recSubj, ws, liveSubj)
			return
		}
	}
}

func (r *replayer) findNew(ws int, typ, norm string) string {
	var fallback string
	live := r.queue(ws)
	subs := make([]string, 0, len(live))
	for s := range live {
		subs = append(subs, s)
	}
	sort.Strings(subs)
	for _, s := range subs {
		if _, known := r.rev[s]; known || s == "" {
			continue
		}
		for _, ev := range live[s] {
			if ev["type"] != typ {
				continue
			}
			if norm == "" || normName(ev) == norm {
				return s
			}
			if fallback == "" {
				fallback = s
			}
		}
	}
	return fallback
}

func (r *replayer) rtpPacket(e entry) {
	if r.rtp == nil {
		r.failf(e, "rtp expected but no externalMedia was created")
		return
	}
	buf := make([]byte, 1500)
	_ = r.rtp.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := r.rtp.ReadFromUDP(buf)
	if err != nil {
		r.failf(e, "no RTP packet: %v", err)
		return
	}
	// Answer with one packet of silence, as the recording's client did.
	reply := make([]byte, 172)
	reply[0], reply[1] = 0x80, 0
	_, _ = r.rtp.WriteToUDP(reply, from)
	pkt := buf[:n]
	var wantLen, wantPT int
	fmt.Sscanf(e.Text[strings.Index(e.Text, "len "):], "len %d v2 pt %d", &wantLen, &wantPT)
	if n != wantLen || int(pkt[1]&0x7f) != wantPT || pkt[0]>>6 != 2 {
		r.failf(e, "rtp packet len %d pt %d version %d, want len %d pt %d v2", n, pkt[1]&0x7f, pkt[0]>>6, wantLen, wantPT)
	}
	if r.rtpPrev != nil {
		if binary.BigEndian.Uint32(pkt[8:]) != binary.BigEndian.Uint32(r.rtpPrev[8:]) {
			r.failf(e, "rtp ssrc changed")
		}
		if d := binary.BigEndian.Uint32(pkt[4:]) - binary.BigEndian.Uint32(r.rtpPrev[4:]); d%160 != 0 || d == 0 {
			r.failf(e, "rtp timestamp step %d, want a multiple of 160", d)
		}
	}
	r.rtpPrev = append([]byte(nil), pkt...)
}

// leftovers reports live events for a channel after its recorded StasisEnd: the app must get no
// more events for a channel that left it (unless it was originated into the app, which the
// recording then shows).
func (r *replayer) leftovers() {
	r.pull(0)
	for ws, live := range r.live {
		for s, q := range live {
			rec, known := r.rev[s]
			if !known || r.lastType[rec] != "StasisEnd" {
				continue
			}
			for _, ev := range q {
				typ, _ := ev["type"].(string)
				r.t.Errorf("%s: live event %s for %s on ws %d after StasisEnd (recorded %s)", r.file, typ, s, ws, rec)
			}
		}
	}
}

// cleanup hangs up the channels and destroys the bridges the replay made on a real Asterisk, and
// waits until they are gone: the next replay reuses recorded ids, and an id still in use (or a
// prefix of one) is taken.
func (r *replayer) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ids := make([]string, 0, len(r.rev))
	for id := range r.rev {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		_, _, _ = r.tg.Do(ctx, http.MethodDelete, "/ari/channels/"+url.PathEscape(id), nil)
		_, _, _ = r.tg.Do(ctx, http.MethodDelete, "/ari/bridges/"+url.PathEscape(id), nil)
	}
	for name := range r.recordings {
		_, _, _ = r.tg.Do(ctx, http.MethodDelete, "/ari/recordings/stored/"+url.PathEscape(name), nil)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, id := range ids {
		for _, kind := range []string{"channels", "bridges"} {
			for {
				st, _, err := r.tg.Do(ctx, http.MethodGet, "/ari/"+kind+"/"+url.PathEscape(id), nil)
				if err == nil && st == http.StatusNotFound {
					break
				}
				select {
				case <-ctx.Done():
					r.t.Errorf("%s: cleanup: %s %s still there (status %d, err %v)", r.file, kind, id, st, err)
					return
				case <-tick.C:
				}
			}
		}
	}
}

// ignoredValue are keys whose values differ from run to run.
var ignoredValue = map[string]bool{
	"id": true, "name": true, "timestamp": true, "creationtime": true, "asterisk_id": true, "entity_id": true,
	"startup_time": true, "last_reload_time": true, "date": true, "kernel": true, "user": true,
	"target_uri": true, "channels": true, "channel_ids": true, "bridge_ids": true, "value": true,
	"UNICASTRTP_LOCAL_PORT": true, "app_data": true, "dialstring": true, "technology": true,
	"formats": true, "connected": true, "state": true,
	// A recording's whole seconds of audio written: how long it ran, which timing decides (and the
	// simulator's time scale), so its type is compared, not its value.
	"duration": true,
}

// diff compares recorded and live JSON: same keys, same types, and the same values except for
// ids, timestamps, ports and other per-run values.
func diff(path string, want, have any) []string {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %T, want object", path, have)}
		}
		var out []string
		for k, wv := range w {
			hv, ok := h[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			if ignoredValue[k] {
				if jsonType(wv) != jsonType(hv) {
					out = append(out, fmt.Sprintf("%s.%s: got %s, want %s", path, k, jsonType(hv), jsonType(wv)))
				}
				if _, isObj := wv.(map[string]any); isObj && k != "formats" {
					out = append(out, shapeDiff(path+"."+k, wv, hv)...)
				}
				continue
			}
			out = append(out, diff(path+"."+k, wv, hv)...)
		}
		for k := range h {
			if _, ok := w[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: unexpected key", path, k))
			}
		}
		return out
	case []any:
		h, ok := have.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %T, want array", path, have)}
		}
		if len(w) > 0 && len(h) > 0 {
			return shapeDiff(path+"[0]", w[0], h[0])
		}
		return nil
	default:
		if jsonType(want) != jsonType(have) {
			return []string{fmt.Sprintf("%s: got %s, want %s", path, jsonType(have), jsonType(want))}
		}
		if fmt.Sprint(want) != fmt.Sprint(have) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, have, want)}
		}
		return nil
	}
}

// shapeDiff compares keys and types only.
func shapeDiff(path string, want, have any) []string {
	w, ok1 := want.(map[string]any)
	h, ok2 := have.(map[string]any)
	if !ok1 || !ok2 {
		if jsonType(want) != jsonType(have) {
			return []string{fmt.Sprintf("%s: got %s, want %s", path, jsonType(have), jsonType(want))}
		}
		return nil
	}
	var out []string
	for k, wv := range w {
		hv, ok := h[k]
		if !ok {
			out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
			continue
		}
		out = append(out, shapeDiff(path+"."+k, wv, hv)...)
	}
	for k := range h {
		if _, ok := w[k]; !ok {
			out = append(out, fmt.Sprintf("%s.%s: unexpected key", path, k))
		}
	}
	return out
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
