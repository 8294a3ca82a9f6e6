package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// entry is one line of a transcript, in the shape of shared/ari-transcripts (README there), with
// what this recorder adds: ws (which events WebSocket, 1 when absent), a request's JSON body, a
// request's wait_ms (how long the client paused before sending it) and a response's loose keys
// (whose values timing decides: compared by shape only).
type entry struct {
	TMS    int64           `json:"t_ms"`
	Kind   string          `json:"kind"`
	WS     int             `json:"ws,omitempty"`
	Text   string          `json:"text,omitempty"`
	Method string          `json:"method,omitempty"`
	Path   string          `json:"path,omitempty"`
	WaitMS int             `json:"wait_ms,omitempty"`
	Status int             `json:"status,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Loose  []string        `json:"loose,omitempty"`
	// Headers are a response's headers that say what a body that is not JSON is (a recording's
	// audio): its type and caching, recorded instead of the body.
	Headers map[string]string `json:"headers,omitempty"`
}

// bodyHeaders are the headers recorded for a response whose body is not JSON.
var bodyHeaders = []string{"Content-Type", "Cache-Control", "Content-Disposition"}

// failure aborts a scenario; run recovers it and reports the scenario as failed.
type failure struct{ err error }

// session is one scenario's connection to Asterisk and its transcript so far.
type session struct {
	base, user, pass, app string
	start                 time.Time

	mu      sync.Mutex
	lines   []entry
	stopped bool // past the scenario's last step: teardown is not recorded

	conns   map[int]*conn
	closers []func() // what teardown closes besides the WebSockets
	ctx     context.Context
}

// conn is one events WebSocket: every event it receives is recorded as it arrives and kept for
// the scenario to wait on.
type conn struct {
	n    int
	ws   *websocket.Conn
	done chan struct{} // the reader has ended

	mu      sync.Mutex
	events  []map[string]any
	claimed []bool
	changed chan struct{} // closed and replaced when an event arrives or the reader ends
}

func newSession(ctx context.Context, base, user, pass, app string) *session {
	return &session{base: base, user: user, pass: pass, app: app, start: time.Now(), conns: map[int]*conn{}, ctx: ctx}
}

func (s *session) fatalf(format string, args ...any) {
	panic(failure{fmt.Errorf(format, args...)})
}

// restartClock makes now the scenario's t_ms 0: the replay starts its clock once WebSocket 1 is
// open, as the recording now does.
func (s *session) restartClock() {
	s.mu.Lock()
	s.start = time.Now()
	s.mu.Unlock()
}

// record appends e stamped with the time since the scenario began, unless recording stopped.
func (s *session) record(e entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	e.TMS = time.Since(s.start).Milliseconds()
	s.lines = append(s.lines, e)
}

func (s *session) note(format string, args ...any) {
	s.record(entry{Kind: "note", Text: fmt.Sprintf(format, args...)})
}

// query builds a path with parameters in the query string, as the shared transcripts send them.
func query(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// response is what a REST request got back.
type response struct {
	status int
	raw    []byte
	header http.Header
}

// object decodes a JSON object body (nil when it is not one).
func (r response) object() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.raw, &m)
	return m
}

// str is a string field of a JSON object body, following dotted keys ("channel.id").
func (r response) str(key string) string { return field(r.object(), key) }

func field(m map[string]any, key string) string {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		m, _ = m[p].(map[string]any)
	}
	v, _ := m[parts[len(parts)-1]].(string)
	return v
}

// do sends a recorded request; body (if not nil) goes as JSON.
func (s *session) do(method, path string, body any) response {
	return s.doWait(method, path, body, 0)
}

// doWait pauses wait before sending the request, and records that pause with it.
func (s *session) doWait(method, path string, body any, wait time.Duration) response {
	return s.request(method, path, body, wait, nil)
}

// doLoose is do for a response whose values under the keys loose depend on timing.
func (s *session) doLoose(method, path string, loose ...string) response {
	return s.request(method, path, nil, 0, loose)
}

func (s *session) request(method, path string, body any, wait time.Duration, loose []string) response {
	var raw json.RawMessage
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.fatalf("marshal body: %v", err)
		}
		raw = b
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			s.fatalf("interrupted")
		}
	}
	s.record(entry{Kind: "request", Method: method, Path: path, WaitMS: int(wait / time.Millisecond), Body: raw})
	resp := s.send(method, path, raw)
	e := entry{Kind: "response", Method: method, Path: path, Status: resp.status, Loose: loose}
	if len(bytes.TrimSpace(resp.raw)) > 0 {
		switch ct := resp.header.Get("Content-Type"); {
		case json.Valid(resp.raw):
			e.Body = json.RawMessage(compact(resp.raw))
		case strings.HasPrefix(ct, "audio/"):
			e.Headers = map[string]string{}
			for _, h := range bodyHeaders {
				if v := resp.header.Get(h); v != "" {
					e.Headers[h] = v
				}
			}
		default:
			e.Text = string(resp.raw)
		}
	}
	s.record(e)
	return resp
}

func compact(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// quiet sends a request that is not part of the scenario (setup checks, teardown).
func (s *session) quiet(method, path string) response {
	return s.send(method, path, nil)
}

func (s *session) send(method, path string, body []byte) response {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		s.fatalf("build request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(s.user, s.pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.fatalf("%s %s: read: %v", method, path, err)
	}
	return response{resp.StatusCode, raw, resp.Header}
}

// connect opens events WebSocket n. The first one (n 1) is implicit in a transcript: the replayer
// opens it before the first line; others are recorded as a GET of /ari/events with their ws.
func (s *session) connect(n int, appParam string) *conn {
	path := query("/ari/events", "app", appParam)
	if n != 1 {
		s.record(entry{Kind: "request", WS: n, Method: http.MethodGet, Path: path})
	}
	u := strings.Replace(s.base, "http", "ws", 1) + path + "&api_key=" + url.QueryEscape(s.user+":"+s.pass)
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		s.fatalf("events websocket %d: %v", n, err)
	}
	ws.SetReadLimit(1 << 20)
	if n != 1 {
		s.record(entry{Kind: "response", WS: n, Method: http.MethodGet, Path: path, Status: resp.StatusCode})
	}
	c := &conn{n: n, ws: ws, done: make(chan struct{}), changed: make(chan struct{})}
	s.conns[n] = c
	go s.read(c)
	return c
}

// read records each event of c as it arrives.
func (s *session) read(c *conn) {
	defer close(c.done)
	defer c.wake()
	for {
		_, raw, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			fmt.Fprintf(os.Stderr, "record: ws %d: event is not JSON: %q\n", c.n, raw)
			continue
		}
		e := entry{Kind: "event", Body: json.RawMessage(compact(raw))}
		if c.n != 1 {
			e.WS = c.n
		}
		s.record(e)
		c.mu.Lock()
		c.events = append(c.events, ev)
		c.claimed = append(c.claimed, false)
		c.mu.Unlock()
		c.wake()
	}
}

func (c *conn) wake() {
	c.mu.Lock()
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// close closes WebSocket n with a close handshake. Asterisk answers the client's close frame only
// once it has let go of the session's apps (the answer is sent by the session's destructor), so
// when this returns the apps are unregistered. Recorded as a CLOSE of /ari/events.
func (s *session) close(n int) {
	c := s.conns[n]
	s.record(entry{Kind: "request", WS: n, Method: "CLOSE", Path: "/ari/events"})
	if err := c.ws.Close(websocket.StatusNormalClosure, ""); err != nil {
		s.fatalf("close websocket %d: %v", n, err)
	}
	<-c.done
	delete(s.conns, n)
}

// waitEvent returns the first event on WebSocket n not yet returned that matches, waiting up to
// timeout for it.
func (s *session) waitEvent(n int, timeout time.Duration, what string, match func(map[string]any) bool) map[string]any {
	c := s.conns[n]
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for i, ev := range c.events {
			if !c.claimed[i] && match(ev) {
				c.claimed[i] = true
				c.mu.Unlock()
				return ev
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.done:
			s.fatalf("ws %d closed while waiting for %s", n, what)
		case <-deadline.C:
			s.fatalf("ws %d: no %s within %v", n, what, timeout)
		case <-s.ctx.Done():
			s.fatalf("interrupted")
		}
	}
}

// quietFor reports whether WebSocket n received no event matching in d (for the record: that
// nothing came).
func (s *session) quietFor(n int, d time.Duration, match func(map[string]any) bool) bool {
	c := s.conns[n]
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for i, ev := range c.events {
			if !c.claimed[i] && match(ev) {
				c.mu.Unlock()
				return false
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return true
		}
	}
}

// typ matches events of type t whose subject (channel, playback, bridge) has id ("" for any).
func typ(t, id string) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		if ev["type"] != t {
			return false
		}
		if id == "" {
			return true
		}
		for _, k := range []string{"channel", "playback", "bridge"} {
			if m, ok := ev[k].(map[string]any); ok && m["id"] == id {
				return true
			}
		}
		return false
	}
}

// stop ends the recording: what follows is teardown.
func (s *session) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

// transcript returns the recorded lines as jsonl.
func (s *session) transcript() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range s.lines {
		_ = enc.Encode(e)
	}
	return b.Bytes()
}
